package events

import (
	"encoding/json"
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

// BenchmarkReadingAPostsEvent compares what a consumer spends to learn
// whether a post's event is for it: decoding the envelope and its payload,
// or peeking at the envelope's type and organization.
func BenchmarkReadingAPostsEvent(b *testing.B) {
	raw := []byte(postEnvelope)
	b.Run("decoded", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			e, err := Decode(raw)
			if err != nil {
				b.Fatal(err)
			}
			var a ActivityRecorded
			if err := e.Payload(&a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("peeked", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, _, ok := Peek(raw); !ok {
				b.Fatal("not read")
			}
		}
	})
}

// FuzzPeekAgreesWithDecode holds Peek to Decode on any input: when it
// answers, Decode reads the same type and organization, or refuses the
// event (a consumer that skips it on Peek's word then skips a malformed
// event, which it could not have processed either).
func FuzzPeekAgreesWithDecode(f *testing.F) {
	const id, org = "6f1c2b0e-9d3a-4c5e-8f7a-1b2c3d4e5f60", "0e8b3c1a-2d4f-4a6b-9c8d-7e6f5a4b3c2d"
	head := `"id":"` + id + `","type":"user.created","organization_id":"` + org + `"`
	for _, seed := range []string{postEnvelope, `{` + head + `,"source":"auth","key":"k","time":"2026-12-04T18:00:00.123456Z","data":{"a":[1,"}"]}}`,
		`{` + head + `,"data":null}`, `{` + head + `,"TYPE":"x","data":{}}`, `{"data":{"organization_id":"x"},` + head + `}`, `{}`, `[]`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, org, ok := Peek(b)
		if !ok {
			return
		}
		if e, err := Decode(b); err == nil && (e.Type != typ || e.OrganizationID != org) {
			t.Fatalf("Peek says %s of %s; Decode reads %s of %s", typ, org, e.Type, e.OrganizationID)
		}
	})
}
