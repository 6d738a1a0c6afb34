package process

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/workpulse/workpulse/services/platform/buildinfo"
)

type usageError struct{}

func (usageError) Error() string { return "usage" }
func (usageError) ExitCode() int { return 2 }

func TestAFailedCommandExitsWithTheStatusItsErrorNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"a plain error exits 1", errors.New("boom"), 1},
		{"a usage error exits 2", usageError{}, 2},
		{"a wrapped usage error still exits 2", fmt.Errorf("serve: %w", usageError{}), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExitCode(tc.err); got != tc.want {
				t.Fatalf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

func TestVersionIsPrintedOnlyWhenItIsTheOnlyArgument(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		printed bool
	}{
		{"--version prints it", []string{"--version"}, true},
		{"-version, as Go's flag package spells flags, prints it", []string{"-version"}, true},
		{"no arguments run the command", nil, false},
		{"a subcommand runs the command", []string{"up"}, false},
		{"--version beside other arguments is the command's to refuse", []string{"up", "--version"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if got := PrintVersion("migrate", tc.args, &out); got != tc.printed {
				t.Fatalf("PrintVersion(%q) = %v, want %v", tc.args, got, tc.printed)
			}
			want := ""
			if tc.printed {
				want = "migrate " + buildinfo.Version() + " (revision " + buildinfo.Revision() + ")\n"
			}
			if out.String() != want {
				t.Fatalf("printed %q, want %q", out.String(), want)
			}
		})
	}
}
