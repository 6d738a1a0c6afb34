package testkit

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The OpenID Provider the single sign-on tests sign in through: the
// example provider of zitadel's OpenID Connect library, a certified
// implementation, run as its own process.
const (
	oidcProviderPkg     = "github.com/zitadel/oidc/v3/example/server"
	oidcProviderVersion = "v3.52.0"
)

// OIDCUser is a person the provider knows; they sign in with Username and
// Password on its login form, and their ID token carries Email and
// EmailVerified.
type OIDCUser struct {
	ID            string
	Username      string
	Password      string
	FirstName     string
	LastName      string
	Email         string
	EmailVerified bool
}

// OIDCProvider is a running OpenID Provider with one confidential client.
type OIDCProvider struct {
	// Issuer is the provider's issuer URL (with its trailing slash).
	Issuer                 string
	ClientID, ClientSecret string
}

// StartOIDCProvider runs the provider on a free port until the test ends,
// knowing users, with its client allowed to send people back to
// redirectURIs.
func StartOIDCProvider(t testing.TB, users []OIDCUser, redirectURIs ...string) *OIDCProvider {
	t.Helper()
	bin := GoBinary(t, oidcProviderPkg, oidcProviderVersion)
	byID := map[string]OIDCUser{}
	for _, u := range users {
		byID[u.ID] = u
	}
	raw, err := json.Marshal(byID)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(FreePort(t))
	// The provider names itself localhost in its issuer, whatever it
	// listens on.
	issuer := "http://localhost:" + port + "/"
	StartBinary(t, bin, issuer+".well-known/openid-configuration",
		[]string{"PORT=" + port, "USERS_FILE=" + file, "REDIRECT_URI=" + strings.Join(redirectURIs, ",")})
	return &OIDCProvider{Issuer: issuer, ClientID: "web", ClientSecret: "secret"}
}

var oidcLoginID = regexp.MustCompile(`name="id" value="([^"]*)"`)

// Login opens authURL (an authorization request) in client, whose cookie
// jar plays the browser, fills in the provider's login form with username
// and password and returns where the provider sent the browser back: the
// redirect URI with the code and state, or with the error. client's
// redirects are followed up to the one leaving the provider.
func (p *OIDCProvider) Login(t testing.TB, client *http.Client, authURL, username, password string) *url.URL {
	t.Helper()
	issuer, err := url.Parse(p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	var back *url.URL
	c := *client
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != issuer.Host {
			back = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page := readPage(t, resp)
	if back != nil {
		return back
	}
	m := oidcLoginID.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the provider's answer to the authorization request holds no login form (%d):\n%s", resp.StatusCode, page)
	}
	resp, err = c.PostForm(p.Issuer+"login/username", url.Values{"id": {html.UnescapeString(m[1])},
		"username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	page = readPage(t, resp)
	if back == nil {
		t.Fatalf("the provider did not send the browser back after the login form (%d):\n%s", resp.StatusCode, page)
	}
	return back
}

func readPage(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(fmt.Errorf("reading the provider's page: %w", err))
	}
	return string(raw)
}
