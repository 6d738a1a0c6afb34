package auth

import (
	"errors"
	"testing"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// FuzzDecodeRequests feeds any body to every request type of the auth
// service: decoding must end in a value or a client error, never a panic
// or a server error.
func FuzzDecodeRequests(f *testing.F) {
	for _, seed := range []string{
		`{"email":"a@b.co","password":"correct horse","name":"Ann","organization_name":"Acme","plan_type":"pro"}`,
		`{"email":"a@b.co","password":"x","organization_id":"00000000-0000-4000-8000-000000000000"}`,
		`{"email":"a@b.co","role":"admin","expires_in_hours":72}`,
		`{"name":"T","plan_type":"free","admin":{"email":"a@b.co","name":"Ad","password":"12345678"},"generation":1}`,
		`{"role":{"nested":[1,2,3]}}`, `[]`, `{`, `null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []any{&registerRequest{}, &loginRequest{}, &invitationRequest{}, &TenantRequest{}} {
			err := httpx.DecodeBytes(body, dst)
			var ae *apierr.Error
			if err != nil && (!errors.As(err, &ae) || ae.Status >= 500) {
				t.Fatalf("decoding into %T answered a non-client error: %v", dst, err)
			}
		}
	})
}
