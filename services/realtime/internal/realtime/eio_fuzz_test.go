package realtime

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDecodePacket feeds any polling body or WebSocket frame through the
// Engine.IO and Socket.IO decoders: they never panic, and what they
// accept is well formed: a known packet type, a namespace starting with
// "/", valid JSON of the type's shape, and an event with a name.
func FuzzDecodePacket(f *testing.F) {
	for _, seed := range []string{
		"40", `40{"token":"abc"}`, "40/admin,{}", `42["ping"]`, `4217["session:request-state"]`, `43["x"]`,
		"41", "3", "2probe", "5", "6", "1", "bAQID", `451-["x",{"_placeholder":true,"num":0}]`,
		"40\x1e3\x1e42[\"ping\"]", "", "\x1e", `42[`, `4212345678901234567["x"]`, `42/,1["x"]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		packets, err := splitPayload(body)
		if err != nil {
			return
		}
		if n := bytes.Count(body, []byte{eioSeparator}) + 1; len(packets) != n {
			t.Fatalf("%d packets from %q, want %d", len(packets), body, n)
		}
		for _, e := range packets {
			if e.typ < eioOpen || e.typ > eioNoop {
				t.Fatalf("accepted Engine.IO type %q", e.typ)
			}
			if e.typ != eioMessage {
				continue
			}
			p, err := parseSIO(e.data)
			if err != nil {
				continue
			}
			if p.typ < sioConnect || p.typ > sioConnectError {
				t.Fatalf("accepted Socket.IO type %q", p.typ)
			}
			if p.nsp == "" || p.nsp[0] != '/' {
				t.Fatalf("namespace %q", p.nsp)
			}
			if p.data != nil && !json.Valid(p.data) {
				t.Fatalf("accepted payload %q", p.data)
			}
			if p.typ == sioEvent {
				if name, _, err := sioEventOf(p); err != nil || reservedEvents[name] {
					t.Fatalf("accepted event %q: %v", p.data, err)
				}
			}
			_ = p.authToken()
		}
	})
}
