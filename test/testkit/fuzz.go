package testkit

import (
	"errors"
	"testing"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// FuzzDecoding feeds the seeds, then any body the fuzzer makes, to every
// request type targets returns (fresh values each time): decoding must end
// in a value or a client error, never a panic or a server error.
func FuzzDecoding(f *testing.F, seeds []string, targets func() []any) {
	for _, seed := range seeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range targets() {
			if err := httpx.DecodeBytes(body, dst); err != nil && !IsClientError(err) {
				t.Fatalf("decoding into %T answered a non-client error: %v", dst, err)
			}
		}
	})
}

// IsClientError says whether err is an API error a client caused (a 4xx).
func IsClientError(err error) bool {
	var ae *apierr.Error
	return errors.As(err, &ae) && ae.Status < 500
}
