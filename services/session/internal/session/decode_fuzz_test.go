package session

import (
	"errors"
	"testing"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// FuzzDecodeRequests feeds any body to every request type of the session
// service: decoding must end in a value or a client error.
func FuzzDecodeRequests(f *testing.F) {
	for _, seed := range []string{
		`{"name":"Backend","description":"d"}`, `{"project_id":"00000000-0000-4000-8000-000000000000","start_time":"2026-01-02T03:04:05Z"}`,
		`{"end_time":"2026-01-02T03:04:05+02:00"}`, `{"start_time":12}`, `[]`, `{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []any{&projectRequest{}, &startRequest{}, &stopRequest{}} {
			err := httpx.DecodeBytes(body, dst)
			var ae *apierr.Error
			if err != nil && (!errors.As(err, &ae) || ae.Status >= 500) {
				t.Fatalf("decoding into %T answered a non-client error: %v", dst, err)
			}
		}
	})
}
