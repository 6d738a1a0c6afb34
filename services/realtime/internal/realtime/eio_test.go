package realtime

import (
	"errors"
	"testing"
	"time"
)

func TestParseSIO(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want sioPacket
		err  error
	}{
		{name: "A bare CONNECT is to the default namespace without auth.", in: "0",
			want: sioPacket{typ: sioConnect, nsp: "/", ack: -1}},
		{name: "A CONNECT carries its auth object.", in: `0{"token":"abc"}`,
			want: sioPacket{typ: sioConnect, nsp: "/", ack: -1, data: []byte(`{"token":"abc"}`)}},
		{name: "A CONNECT names another namespace before a comma.", in: `0/admin,{"token":"abc"}`,
			want: sioPacket{typ: sioConnect, nsp: "/admin", ack: -1, data: []byte(`{"token":"abc"}`)}},
		{name: "A namespace without a comma runs to the end.", in: "1/admin",
			want: sioPacket{typ: sioDisconnect, nsp: "/admin", ack: -1}},
		{name: "An event is an array led by its name.", in: `2["session:request-state"]`,
			want: sioPacket{typ: sioEvent, nsp: "/", ack: -1, data: []byte(`["session:request-state"]`)}},
		{name: "An event's ack id comes before its payload.", in: `217["ping"]`,
			want: sioPacket{typ: sioEvent, nsp: "/", ack: 17, data: []byte(`["ping"]`)}},
		{name: "An ack id follows the namespace.", in: `2/admin,3["ping",{"a":1}]`,
			want: sioPacket{typ: sioEvent, nsp: "/admin", ack: 3, data: []byte(`["ping",{"a":1}]`)}},
		{name: "An ack carries an array.", in: `35["ok"]`,
			want: sioPacket{typ: sioAck, nsp: "/", ack: 5, data: []byte(`["ok"]`)}},
		{name: "An empty packet is refused.", in: "", err: errEmptyPacket},
		{name: "An unknown type is refused.", in: `9["x"]`, err: errPacketType},
		{name: "A binary event is refused.", in: `51-["x",{"_placeholder":true,"num":0}]`, err: errBinary},
		{name: "A binary ack is refused.", in: `61-3[{"_placeholder":true,"num":0}]`, err: errBinary},
		{name: "A payload that is not JSON is refused.", in: `2["x"`, err: errPayload},
		{name: "A CONNECT whose auth is not an object is refused.", in: `0"token"`, err: errPayload},
		{name: "A DISCONNECT with a payload is refused.", in: `1{}`, err: errPayload},
		{name: "An event without a name is refused.", in: `2[]`, err: errEventArguments},
		{name: "An event whose payload is an object is refused.", in: `2{"event":"ping"}`, err: errEventArguments},
		{name: "An event whose name is not a string is refused.", in: `2[7]`, err: errEventArguments},
		{name: "An event without a payload is refused.", in: `2`, err: errEventArguments},
		{name: "A reserved event name is refused.", in: `2["connect"]`, err: errReservedEvent},
		{name: "An ack without an array is refused.", in: `31{}`, err: errPayload},
		{name: "An ack id longer than a JavaScript number holds exactly is refused.", in: `21234567890123456["x"]`, err: errAckID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSIO([]byte(tc.in))
			if !errors.Is(err, tc.err) {
				t.Fatalf("parseSIO(%q) error %v, want %v", tc.in, err, tc.err)
			}
			if tc.err != nil {
				return
			}
			if got.typ != tc.want.typ || got.nsp != tc.want.nsp || got.ack != tc.want.ack || string(got.data) != string(tc.want.data) {
				t.Fatalf("parseSIO(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestAuthToken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want string
	}{
		{"The token is read from the CONNECT's auth.", `0{"token":"abc"}`, "abc"},
		{"A CONNECT without auth has no token.", `0`, ""},
		{"Auth without a token has none.", `0{"user":"x"}`, ""},
		{"A token that is not a string is none.", `0{"token":7}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseSIO([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.authToken(); got != tc.want {
				t.Fatalf("token %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSplitPayload(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want []eioPacket
		err  error
	}{
		{name: "One packet is a payload of one.", in: "3", want: []eioPacket{{typ: eioPong, data: []byte{}}}},
		{name: "Packets are separated by the record separator.", in: "40{\"token\":\"t\"}\x1e3\x1e42[\"ping\"]",
			want: []eioPacket{{typ: eioMessage, data: []byte(`0{"token":"t"}`)}, {typ: eioPong, data: []byte{}}, {typ: eioMessage, data: []byte(`2["ping"]`)}}},
		{name: "An empty body is refused.", in: "", err: errEmptyPacket},
		{name: "An empty packet between separators is refused.", in: "3\x1e\x1e3", err: errEmptyPacket},
		{name: "A base64 binary packet is refused.", in: "bAQID", err: errBinary},
		{name: "An unknown packet type is refused.", in: "7", err: errPacketType},
		{name: "A non-digit packet type is refused.", in: "x", err: errPacketType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splitPayload([]byte(tc.in))
			if !errors.Is(err, tc.err) {
				t.Fatalf("splitPayload(%q) error %v, want %v", tc.in, err, tc.err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("splitPayload(%q) = %d packets, want %d", tc.in, len(got), len(tc.want))
			}
			for i := range got {
				if got[i].typ != tc.want[i].typ || string(got[i].data) != string(tc.want[i].data) {
					t.Fatalf("packet %d = %c %q, want %c %q", i, got[i].typ, got[i].data, tc.want[i].typ, tc.want[i].data)
				}
			}
		})
	}
}

func TestEncoding(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	must := func(b []byte, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct {
		name, got, want string
	}{
		{"An event is a message packet of an event with its name and data.",
			must(sioEventMessage(EventUserOnline, sioPresence{UserID: "u1", UserName: "Ada", Timestamp: at})),
			`42["user:online",{"userId":"u1","userName":"Ada","timestamp":"2026-12-01T09:30:00Z"}]`},
		{"An event with null data keeps the null.",
			must(sioEventMessage(EventSessionState, nil)), `42["session:state",null]`},
		{"An ack carries its id and arguments.", must(sioAckMessage(12, "pong")), `4312["pong"]`},
		{"An ack without arguments carries an empty array.", must(sioAckMessage(0)), `430[]`},
		{"CONNECT is answered with the socket id.", string(sioConnected("s1")), `40{"sid":"s1"}`},
		{"A refused CONNECT carries the message and the error code.",
			string(sioConnectRefused("/", "missing or invalid access token", "AUTH_INVALID_TOKEN")),
			`44{"message":"missing or invalid access token","data":{"code":"AUTH_INVALID_TOKEN"}}`},
		{"A refused CONNECT to another namespace names it.", string(sioConnectRefused("/admin", "Invalid namespace", "")),
			`44/admin,{"message":"Invalid namespace"}`},
		{"The open packet carries the session's parameters.",
			string(eioOpenPacket(eioHandshake{SID: "abc", Upgrades: []string{"websocket"}, PingInterval: 25000, PingTimeout: 35000, MaxPayload: 4096})),
			`0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":35000,"maxPayload":4096}`},
		{"A polling payload joins packets with the record separator.",
			string(joinPayload([][]byte{eioPingPacket, []byte(`42["pong"]`)})), "2\x1e42[\"pong\"]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got  %s\nwant %s", tc.got, tc.want)
			}
		})
	}
}

// What the service encodes, its own parser reads back.
func TestEncodedPacketsParse(t *testing.T) {
	t.Parallel()
	b, err := sioAckMessage(42, map[string]any{"id": "s"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseSIO(b[1:])
	if err != nil || p.typ != sioAck || p.ack != 42 || string(p.data) != `[{"id":"s"}]` {
		t.Fatalf("parsed %+v, %v", p, err)
	}
}
