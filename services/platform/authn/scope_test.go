package authn_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/authn"
)

func TestDeviceTokensPassTheTrackingRoutesOnly(t *testing.T) {
	_, v, signer := setup(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	person := principal()
	device := principal()
	device.DeviceID = uuid.NewString()
	forged := func(claims map[string]any) string {
		c := map[string]any{"sub": person.UserID, "organization_id": person.OrganizationID, "role": "employee",
			"iss": "workpulse", "iat": signedAt.Unix(), "exp": signedAt.Unix() + 3600}
		for k, val := range claims {
			c[k] = val
		}
		return signedClaims(t, signer, c)
	}
	sign := func(p authn.Principal) string {
		tok, err := signer.Sign(p, signedAt)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name     string
		token    string
		member   int
		tracking int
	}{
		{"A person's token passes both kinds of route.", sign(person), 204, 204},
		{"A device token passes the tracking routes and is forbidden elsewhere.", sign(device), 403, 204},
		{"A device scope without a device id is invalid.", forged(map[string]any{"scope": "device"}), 401, 401},
		{"A device scope with a malformed device id is invalid.", forged(map[string]any{"scope": "device", "did": "laptop"}), 401, 401},
		{"A scope this platform does not issue is invalid.", forged(map[string]any{"scope": "admin"}), 401, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for route, want := range map[string]int{"member": tt.member, "tracking": tt.tracking} {
				h := authn.Require(v)(ok)
				if route == "tracking" {
					h = authn.RequireTracking(v)(ok)
				}
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				req.Header.Set("Authorization", "Bearer "+tt.token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != want {
					t.Errorf("%s route: status %d; want %d (%s)", route, rec.Code, want, rec.Body.String())
				}
			}
		})
	}
}

func TestAnExpiredDeviceTokenRenewsWithinTheGraceOnly(t *testing.T) {
	_, v, signer := setup(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	const grace = 24 * time.Hour
	device := principal()
	device.DeviceID = uuid.NewString()
	// signed is p's token signed at, lasting signer's hour.
	signed := func(p authn.Principal, at time.Time) string {
		tok, err := signer.Sign(p, at)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name     string
		token    string
		renewal  int
		tracking int
	}{
		{"A live device token renews.", signed(device, signedAt), 204, 204},
		{"A device token an hour past its expiry renews but tracks no more.", signed(device, signedAt.Add(-2*time.Hour)), 204, 401},
		{"A device token past the grace does not renew.", signed(device, signedAt.Add(-grace-2*time.Hour)), 401, 401},
		{"A person's live token passes.", signed(principal(), signedAt), 204, 204},
		{"A person's token gets no grace.", signed(principal(), signedAt.Add(-2*time.Hour)), 401, 401},
		{"A device token issued in the future is refused: the grace is for expiry only.", signed(device, signedAt.Add(time.Hour)), 401, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for route, want := range map[string]int{"renewal": tt.renewal, "tracking": tt.tracking} {
				h := authn.RequireRenewal(v, grace)(ok)
				if route == "tracking" {
					h = authn.RequireTracking(v)(ok)
				}
				req := httptest.NewRequest(http.MethodPost, "/", nil)
				req.Header.Set("Authorization", "Bearer "+tt.token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != want {
					t.Errorf("%s route: status %d; want %d (%s)", route, rec.Code, want, rec.Body.String())
				}
			}
		})
	}
}

// signedClaims signs arbitrary claims with signer's key, for tokens the
// auth service would never issue.
func signedClaims(t *testing.T, signer authn.Signer, claims map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims(claims))
	tok.Header["kid"] = signer.Kid
	s, err := tok.SignedString(signer.Key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
