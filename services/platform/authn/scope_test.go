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
	tests := []struct {
		name     string
		token    string
		member   int
		tracking int
	}{
		{"A person's token passes both kinds of route.", signedToken(t, signer, person, signedAt), 204, 204},
		{"A device token passes the tracking routes and is forbidden elsewhere.", signedToken(t, signer, device, signedAt), 403, 204},
		{"A device scope without a device id is invalid.", forged(map[string]any{"scope": "device"}), 401, 401},
		{"A device scope with a malformed device id is invalid.", forged(map[string]any{"scope": "device", "did": "laptop"}), 401, 401},
		{"A scope this platform does not issue is invalid.", forged(map[string]any{"scope": "admin"}), 401, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectStatus(t, "member route", authn.Require(v)(ok), http.MethodGet, tt.token, tt.member)
			expectStatus(t, "tracking route", authn.RequireTracking(v)(ok), http.MethodGet, tt.token, tt.tracking)
		})
	}
}

func TestAnExpiredDeviceTokenRenewsWithinTheGraceOnly(t *testing.T) {
	_, v, signer := setup(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	const grace = 24 * time.Hour
	device := principal()
	device.DeviceID = uuid.NewString()
	signed := func(p authn.Principal, at time.Time) string { return signedToken(t, signer, p, at) }
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
			expectStatus(t, "renewal route", authn.RequireRenewal(v, grace)(ok), http.MethodPost, tt.token, tt.renewal)
			expectStatus(t, "tracking route", authn.RequireTracking(v)(ok), http.MethodPost, tt.token, tt.tracking)
		})
	}
}

// signedToken is p's token as the auth service issues it, signed at at and
// lasting signer's hour.
func signedToken(t *testing.T, signer authn.Signer, p authn.Principal, at time.Time) string {
	t.Helper()
	tok, err := signer.Sign(p, at)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// expectStatus sends token to h and fails unless h answers want.
func expectStatus(t *testing.T, route string, h http.Handler, method, token string, want int) {
	t.Helper()
	req := httptest.NewRequest(method, "/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		t.Errorf("%s: status %d; want %d (%s)", route, rec.Code, want, rec.Body.String())
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
