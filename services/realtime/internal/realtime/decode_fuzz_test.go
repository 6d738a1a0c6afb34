package realtime

import (
	"testing"
	"unicode/utf8"
)

// FuzzParseClientMessage checks that any client message is either one of
// the two requests a client may make or a validation error whose echo of
// the client's text stays short.
func FuzzParseClientMessage(f *testing.F) {
	for _, seed := range []string{`{"event":"ping"}`, `{"event":"session:request-state"}`, `{"event":"x"}`, `{"event":7}`, `[]`, `{`, ``} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		event, refusal := parseClientMessage(data)
		switch {
		case refusal == nil && event != EventPing && event != EventRequestState:
			t.Fatalf("accepted %q", event)
		case refusal != nil && (refusal.Code != "VALIDATION_FAILED" || utf8.RuneCountInString(refusal.Message) > 100):
			t.Fatalf("refusal %+v", refusal)
		}
	})
}
