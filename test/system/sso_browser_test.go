package systemtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestTheWebAppSignsPeopleInThroughTheirOrganizationsProvider runs
// services/web/web/e2e/sso.mjs in headless Chromium against the platform and
// a real OpenID Provider of its own process: "Sign in with SSO" by email
// domain through the provider's login form provisions an employee who lands
// on their day, an SSO-only organization's member is told to use single
// sign-on, a domain without it is told to use the password, and a planted
// callback is refused; axe-core on the pages it shows.
func TestTheWebAppSignsPeopleInThroughTheirOrganizationsProvider(t *testing.T) {
	root := browserReady(t)
	p := StartPlatform(t, "SSO_ALLOW_PRIVATE_ISSUERS=true")
	// make dev's PUBLIC_URL is its front door on localhost: the browser
	// must come back to the origin that holds its state cookie.
	base := strings.Replace(strings.TrimSuffix(p.URL, "/api"), "127.0.0.1", "localhost", 1)
	suffix := fmt.Sprintf("%d", clock.Real.Now().UnixNano())
	domain := "sso-" + suffix + ".example"
	op := testkit.StartOIDCProvider(t, []testkit.OIDCUser{{ID: "sam", Username: "sam", Password: "sam-at-the-provider",
		FirstName: "Sam", LastName: "Single", Email: "sam@" + domain, EmailVerified: true}}, base+"/sso/callback")
	c := p.Client(t)
	admin := c.Register("ada@"+domain, "Ada Admin", "SSO Org "+suffix)
	member := c.Invite(admin, "mo@"+domain, "Mo Member", "employee")
	c.Must(200, "PUT", "/organization/sso", admin.Token, map[string]any{"issuer_url": op.Issuer, "client_id": op.ClientID,
		"client_secret": op.ClientSecret, "domains": []string{domain}, "sso_only": true})

	runBrowserScript(t, root, p, "e2e/sso.mjs", "BASE_URL="+base, "SSO_EMAIL=sam@"+domain, "SSO_USERNAME=sam",
		"SSO_PASSWORD=sam-at-the-provider", "MEMBER_EMAIL="+member.Email)
}
