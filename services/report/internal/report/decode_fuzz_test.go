package report

import (
	"errors"
	"net/url"
	"testing"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// FuzzDecodeRequests feeds any body to the job trigger's request and any
// query to the date parser: each ends in a value or a client error.
func FuzzDecodeRequests(f *testing.F) {
	for _, seed := range []string{`{"date":"2026-01-02"}`, `{"date":"02/01/2026"}`, `{"date":7}`, `{}`, `{`, `startDate=2026-13-40&endDate=x`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		client := func(err error) bool {
			var ae *apierr.Error
			return err == nil || (errors.As(err, &ae) && ae.Status < 500)
		}
		if err := httpx.DecodeBytes(body, &dailySummaryRequest{}); !client(err) {
			t.Fatalf("decoding the trigger answered a non-client error: %v", err)
		}
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return
		}
		for _, field := range []string{"startDate", "endDate", "date"} {
			if _, _, err := parseDate(q, field); !client(err) {
				t.Fatalf("parsing %s answered a non-client error: %v", field, err)
			}
		}
	})
}
