package auth

import (
	"testing"

	"github.com/workpulse/workpulse/test/testkit"
)

// FuzzDecodeRequests feeds any body to every request type of the auth
// service: decoding must end in a value or a client error, never a panic
// or a server error.
func FuzzDecodeRequests(f *testing.F) {
	testkit.FuzzDecoding(f, []string{
		`{"email":"a@b.co","password":"correct horse","name":"Ann","organization_name":"Acme","plan_type":"pro"}`,
		`{"email":"a@b.co","password":"x","organization_id":"00000000-0000-4000-8000-000000000000"}`,
		`{"email":"a@b.co","role":"admin","expires_in_hours":72}`,
		`{"name":"T","plan_type":"free","admin":{"email":"a@b.co","name":"Ad","password":"12345678"},"generation":1,"tenant_uid":"00000000-0000-4000-8000-000000000000"}`,
		`{"expires_in_hours":24}`,
		`{"role":{"nested":[1,2,3]}}`, `[]`, `{`, `null`,
	}, func() []any {
		return []any{&registerRequest{}, &loginRequest{}, &invitationRequest{}, &TenantRequest{}, &adoptionTokenRequest{}}
	})
}
