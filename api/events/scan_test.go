package events

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestPeekReadsTheEnvelopesTypeAndOrganizationOrSaysItCannot(t *testing.T) {
	const org, other = "0e8b3c1a-2d4f-4a6b-9c8d-7e6f5a4b3c2d", "6f1c2b0e-9d3a-4c5e-8f7a-1b2c3d4e5f60"
	for _, tc := range []struct {
		name     string
		body     string
		wantType string
		wantOrg  string
		wantOK   bool
	}{
		{name: "An envelope as Go encodes it is read.",
			body:     `{"id":"` + other + `","type":"activity.recorded","source":"ingest","organization_id":"` + org + `","key":"k","time":"2026-12-04T18:00:00Z","data":{"organization_id":"` + org + `"}}`,
			wantType: TypeActivityRecorded, wantOrg: org, wantOK: true},
		{name: "An envelope as PostgreSQL's jsonb prints it, data before the organization, is read.",
			body:     `{"id": "` + other + `", "key": "k", "data": {"stored": 1, "first_at": "2026-12-04T18:00:00Z", "user_id": "u", "ok": true, "n": null, "list": [1, {"a": "}"}]}, "time": "2026-12-04T18:00:00Z", "type": "activity.recorded", "source": "ingest", "organization_id": "` + org + `"}`,
			wantType: TypeActivityRecorded, wantOrg: org, wantOK: true},
		{name: "The data's organization is not taken for the envelope's.",
			body:     `{"data":{"organization_id":"` + other + `","type":"user.created"},"type":"activity.recorded","organization_id":"` + org + `"}`,
			wantType: TypeActivityRecorded, wantOrg: org, wantOK: true},
		{name: "Strings with escaped quotes and braces in other members are skipped over.",
			body:     "{\"source\":\"a \\\"}\\\\\",\"data\":{\"name\":\"x\\\"organization_id\\\":\\\"" + other + "\\\"\"},\"type\":\"user.created\",\"organization_id\":\"" + org + "\"}",
			wantType: TypeUserCreated, wantOrg: org, wantOK: true},
		{name: "A repeated member counts as its last, as in Decode.",
			body:     `{"organization_id":"` + other + `","type":"user.created","organization_id":"` + org + `"}`,
			wantType: TypeUserCreated, wantOrg: org, wantOK: true},
		{name: "An envelope without an organization cannot be told.", body: `{"type":"user.created","data":{}}`},
		{name: "An organization in another letter case of its name cannot be told.",
			body: `{"type":"user.created","Organization_ID":"` + other + `","organization_id":"` + org + `"}`},
		{name: "An escaped organization cannot be told.", body: `{"type":"user.created","organization_id":"\u0030` + org[1:] + `"}`},
		{name: "A member named with an escape cannot be told.", body: `{"type":"user.created","organization_id":"` + org + `","\u0074ype":"x"}`},
		{name: "An organization that is not a string cannot be told.", body: `{"type":"user.created","organization_id":5}`},
		{name: "A cut envelope cannot be told.", body: `{"type":"user.created","organization_id":"` + org + `","data":{"a":[1,`},
		{name: "An array cannot be told.", body: `[{"type":"user.created","organization_id":"` + org + `"}]`},
		{name: "Nothing cannot be told.", body: ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, org, ok := Peek([]byte(tc.body))
			if ok != tc.wantOK || (ok && (typ != tc.wantType || org != tc.wantOrg)) {
				t.Fatalf("Peek = %q, %q, %v; want %q, %q, %v", typ, org, ok, tc.wantType, tc.wantOrg, tc.wantOK)
			}
			if !ok {
				return
			}
			// Where Peek tells, it tells what Decode would.
			var e struct {
				Type           string `json:"type"`
				OrganizationID string `json:"organization_id"`
			}
			if err := json.Unmarshal([]byte(tc.body), &e); err != nil || e.Type != typ || e.OrganizationID != org {
				t.Fatalf("encoding/json reads %q, %q (err %v)", e.Type, e.OrganizationID, err)
			}
		})
	}
}

// postEnvelope is an activity.recorded event as ingest's statement builds
// it and PostgreSQL prints its jsonb: members ordered by the length of
// their names, the envelope's organization after the data.
const postEnvelope = `{"id": "6f1c2b0e-9d3a-4c5e-8f7a-1b2c3d4e5f60", "key": "3d9e1f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6", "data": {"status": "active", "stored": 1, "last_at": "2026-12-04T18:00:00+00:00", "user_id": "3d9e1f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6", "version": 42, "end_time": null, "first_at": "2026-12-04T18:00:00+00:00", "project_id": null, "session_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "start_time": "2026-12-04T09:00:00+00:00", "idle_seconds": 0, "active_seconds": 15, "last_active_at": "2026-12-04T18:00:00+00:00", "organization_id": "0e8b3c1a-2d4f-4a6b-9c8d-7e6f5a4b3c2d", "last_activity_at": "2026-12-04T18:00:00+00:00", "total_idle_seconds": 120, "last_activity_type": "active", "total_active_seconds": 31500}, "time": "2026-12-04T18:00:00.123456Z", "type": "activity.recorded", "source": "ingest", "organization_id": "0e8b3c1a-2d4f-4a6b-9c8d-7e6f5a4b3c2d"}`

// BenchmarkReadingAPostsEvent compares what a consumer spends on a post's
// event: decoding its envelope with encoding/json or with Decode, the
// envelope and its payload, or peeking at the envelope's type and
// organization to tell whether the event is for it.
func BenchmarkReadingAPostsEvent(b *testing.B) {
	raw := []byte(postEnvelope)
	for _, bc := range []struct {
		name string
		read func() error
	}{
		{"envelope by encoding/json", func() error { var e Envelope; return json.Unmarshal(raw, &e) }},
		{"envelope by Decode", func() error { _, err := Decode(raw); return err }},
		{"envelope and payload by Decode", func() error {
			e, err := Decode(raw)
			if err != nil {
				return err
			}
			var a ActivityRecorded
			return e.Payload(&a)
		}},
		{"envelope peeked", func() error {
			if _, _, ok := Peek(raw); !ok {
				return errors.New("not read")
			}
			return nil
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if err := bc.read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestDecodeReadsPlainEnvelopesInOnePassAndAnythingElseAsEncodingJSONDoes(t *testing.T) {
	const id, org = "6f1c2b0e-9d3a-4c5e-8f7a-1b2c3d4e5f60", "0e8b3c1a-2d4f-4a6b-9c8d-7e6f5a4b3c2d"
	head := `"id":"` + id + `","type":"user.created","organization_id":"` + org + `"`
	for _, tc := range []struct {
		name string
		body string
		// plain: read in one pass, not handed to encoding/json.
		plain bool
	}{
		{name: "An envelope as Go encodes it is read in one pass.",
			body:  `{"id":"` + id + `","type":"user.created","source":"auth","organization_id":"` + org + `","key":"k","time":"2026-12-04T18:00:00.123456Z","data":{"user_id":"u","name":"A \"quoted\" }name{"}}`,
			plain: true},
		{name: "A post's envelope as PostgreSQL prints it is read in one pass.", body: postEnvelope, plain: true},
		{name: "A time with an offset is read in one pass.", body: `{` + head + `,"time":"2026-12-04T19:00:00+01:00","data":{}}`, plain: true},
		{name: "Members the envelope does not have are skipped in one pass.", body: `{` + head + `,"extra":[1,{"a":null}],"data":[]}`, plain: true},
		{name: "A repeated member counts as its last.", body: `{` + head + `,"data":{"a":1},"data":{"b":2}}`, plain: true},
		{name: "Data that is null is null.", body: `{` + head + `,"data":null}`, plain: true},
		{name: "A source with an escape goes to encoding/json.", body: `{` + head + `,"source":"a\"b","data":{}}`},
		{name: "A source with a byte outside ASCII goes to encoding/json.", body: `{` + head + `,"source":"é","data":{}}`},
		{name: "A member named in capitals goes to encoding/json, which takes it for the envelope's.", body: `{` + head + `,"DATA":{"x":1}}`},
		{name: "A member named with a Kelvin sign goes to encoding/json, which folds it.", body: "{" + head + ",\"\u212aey\":\"k\",\"data\":{}}"},
		{name: "A member named with an escape goes to encoding/json, which unescapes it.", body: `{` + head + `,"\u0064ata":{"x":1}}`},
		{name: "A source that is null goes to encoding/json.", body: `{` + head + `,"source":null,"data":{}}`},
		{name: "An id that is a number goes to encoding/json, and is malformed.", body: `{"id":5,"type":"user.created","organization_id":"` + org + `","data":{}}`},
		{name: "A time that is not RFC 3339 goes to encoding/json, and is malformed.", body: `{` + head + `,"time":"4 December 2026","data":{}}`},
		{name: "Invalid data goes to encoding/json, and is malformed.", body: `{` + head + `,"data":{"a":tru}}`},
		{name: "An invalid member the envelope does not have goes to encoding/json, and is malformed.", body: `{` + head + `,"x":[1,,2],"data":{}}`},
		{name: "Bytes after the envelope go to encoding/json, and are malformed.", body: `{` + head + `,"data":{}} {}`},
		{name: "A cut envelope goes to encoding/json, and is malformed.", body: `{` + head + `,"data":{"a":`},
		{name: "An empty object goes to encoding/json, and is malformed.", body: `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := decodePlain([]byte(tc.body)); ok != tc.plain {
				t.Fatalf("read in one pass: %v, want %v", ok, tc.plain)
			}
			got, gotErr := Decode([]byte(tc.body))
			// What Decode answered before it read in one pass.
			var want Envelope
			wantErr := json.Unmarshal([]byte(tc.body), &want)
			if wantErr == nil {
				_, wantErr = Decode(mustMarshal(t, want))
			}
			if (gotErr != nil) != (wantErr != nil) {
				t.Fatalf("Decode error %v; encoding/json's %v", gotErr, wantErr)
			}
			if gotErr == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("Decode = %+v; encoding/json reads %+v", got, want)
			}
		})
	}
}

func mustMarshal(t *testing.T, e Envelope) []byte {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
