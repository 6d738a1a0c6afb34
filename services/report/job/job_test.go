package job_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/report/job"
)

func TestJobCommandLines(t *testing.T) {
	t.Parallel()
	org := uuid.NewString()
	tests := []struct {
		name    string
		args    []string
		usage   bool
		orgs    int
		hasDate bool
	}{
		{"daily-summary for one tenant and date.", []string{"daily-summary", "--org", org, "--date", "2026-05-04"}, false, 1, true},
		{"daily-summary for every tenant catches up.", []string{"daily-summary", "--all"}, false, 0, false},
		{"daily-summary --due runs every organization's due days.", []string{"daily-summary", "--due"}, false, 0, false},
		{"daily-summary --due takes no --all.", []string{"daily-summary", "--due", "--all"}, true, 0, false},
		{"daily-summary --due takes no --date.", []string{"daily-summary", "--due", "--date", "2026-05-04"}, true, 0, false},
		{"daily-summary needs --org or --all.", []string{"daily-summary"}, true, 0, false},
		{"daily-summary refuses both --org and --all.", []string{"daily-summary", "--all", "--org", org}, true, 0, false},
		{"daily-summary refuses a malformed date.", []string{"daily-summary", "--all", "--date", "04/05/2026"}, true, 0, false},
		{"daily-summary refuses an organization that is not a UUID.", []string{"daily-summary", "--org", "acme"}, true, 0, false},
		{"idle-detection runs every tenant by default.", []string{"idle-detection"}, false, 0, false},
		{"overtime-check takes --org.", []string{"overtime-check", "--org", org}, false, 1, false},
		{"overtime-check has no --date.", []string{"overtime-check", "--date", "2026-05-04"}, true, 0, false},
		{"Stray arguments are refused.", []string{"idle-detection", "now"}, true, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := job.Parse(tt.args[0], tt.args[1:])
			var u job.UsageError
			if got := errors.As(err, &u); got != tt.usage {
				t.Fatalf("usage error = %v (%v), want %v", got, err, tt.usage)
			}
			if !tt.usage && (len(j.Orgs) != tt.orgs || (j.Date != nil) != tt.hasDate) {
				t.Errorf("parsed %+v", j)
			}
		})
	}
}
