package session

import (
	"testing"

	"github.com/workpulse/workpulse/test/testkit"
)

// FuzzDecodeRequests feeds any body to every request type of the session
// service: decoding must end in a value or a client error.
func FuzzDecodeRequests(f *testing.F) {
	testkit.FuzzDecoding(f, []string{
		`{"name":"Backend","description":"d"}`, `{"project_id":"00000000-0000-4000-8000-000000000000","start_time":"2026-01-02T03:04:05Z"}`,
		`{"end_time":"2026-01-02T03:04:05+02:00"}`, `{"start_time":12}`, `[]`, `{`,
	}, func() []any { return []any{&projectRequest{}, &startRequest{}, &stopRequest{}} })
}
