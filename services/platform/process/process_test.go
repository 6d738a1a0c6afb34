package process

import (
	"errors"
	"fmt"
	"testing"
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
