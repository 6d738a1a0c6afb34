package events

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestDecodeAcceptsWhatNewProducesAndRefusesIncompleteEnvelopes(t *testing.T) {
	// A producer in New York stamps 31 December 19:00: the envelope says so in UTC.
	at := time.Date(2026, 12, 31, 19, 0, 0, 0, time.FixedZone("EST", -5*3600))
	e, err := New(at, "test", TypeUserCreated, "org-1", "", UserCreated{UserID: "u", OrganizationID: "org-1"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Key != "org-1" {
		t.Fatalf("an event without a key is keyed by %q; want its organization", e.Key)
	}
	if want := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); !e.Time.Equal(want) || e.Time.Location() != time.UTC {
		t.Fatalf("the envelope is stamped %v; want the producer's instant in UTC, %v", e.Time, want)
	}
	const id, org = "6f1c2b0e-9d3a-4c5e-8f7a-1b2c3d4e5f60", "0E8B3C1A-2D4F-4A6B-9C8D-7E6F5A4B3C2D"
	cases := []struct {
		name    string
		body    string
		wantErr bool
	}{
		{"A complete envelope decodes.", `{"id":"` + id + `","type":"user.created","organization_id":"` + org + `","data":{}}`, false},
		{"An envelope without an id is malformed.", `{"type":"user.created","organization_id":"` + org + `","data":{}}`, true},
		{"An envelope without data is malformed.", `{"id":"` + id + `","type":"user.created","organization_id":"` + org + `"}`, true},
		{"Bytes that are not JSON are malformed.", `\x00garbage`, true},
		{"An id that is not a UUID is malformed.", `{"id":"1","type":"user.created","organization_id":"` + org + `","data":{}}`, true},
		{"An organization id that is not a UUID is malformed.", `{"id":"` + id + `","type":"user.created","organization_id":"o","data":{}}`, true},
		{"An organization id with SQL in it is malformed.", `{"id":"` + id + `","type":"user.created","organization_id":"' OR 1=1 --                      ","data":{}}`, true},
		{"A UUID with a stray character is malformed.", `{"id":"` + id[:35] + `g","type":"user.created","organization_id":"` + org + `","data":{}}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.body))
			if (err != nil) != c.wantErr || (err != nil && !errors.Is(err, ErrMalformed)) {
				t.Fatalf("err = %v; want error: %v (as ErrMalformed)", err, c.wantErr)
			}
		})
	}
	if _, err := New(time.Time{}, "test", "no.such.type", "o", "", struct{}{}); err == nil {
		t.Fatal("an unknown event type was accepted")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":"6f1c2b0e-9d3a-4c5e-8f7a-1b2c3d4e5f60","type":"activity.recorded","organization_id":"0e8b3c1a-2d4f-4a6b-9c8d-7e6f5a4b3c2d","data":{"stored":1}}`))
	f.Add([]byte(`{"id":"1","type":"tenant.updated","organization_id":"o","data":[]}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("a decode failure is not ErrMalformed: %v", err)
			}
			return
		}
		var anyPayload map[string]any
		if err := e.Payload(&anyPayload); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("a payload failure is not ErrMalformed: %v", err)
		}
	})
}

func TestTenantUpdatedKeepsItsFlatWireFormat(t *testing.T) {
	got, err := json.Marshal(TenantUpdated{OrganizationID: "o", TenantSettings: TenantSettings{Name: "Acme", PlanType: "pro",
		TimeZone: "Europe/Berlin", Suspended: true, Active: true, InactiveThresholdSeconds: 1, IdleThresholdSeconds: 2,
		OvertimeThresholdHours: 3, Generation: 4}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"organization_id":"o","name":"Acme","plan_type":"pro","time_zone":"Europe/Berlin","suspended":true,"active":true,` +
		`"inactive_threshold_seconds":1,"idle_threshold_seconds":2,"overtime_threshold_hours":3,"generation":4}`
	if string(got) != want {
		t.Fatalf("tenant.updated payload = %s\nwant %s", got, want)
	}
}
