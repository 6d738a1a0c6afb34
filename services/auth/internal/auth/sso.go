package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/netguard"
	"github.com/workpulse/workpulse/services/platform/validate"
)

const (
	// ssoCookie holds a sign-in's state in the browser that started it, so
	// that a callback carried to another browser (a sign-in planted on a
	// victim) is refused.
	ssoCookie = "wp_sso_state"
	// ssoLoginTTL is how long a person has at the provider's login page.
	ssoLoginTTL = 10 * time.Minute
	// ssoProviderTTL is how long a provider's discovery document is kept;
	// its keys are fetched again whenever a token names an unknown one.
	ssoProviderTTL = time.Hour
	// ssoCallbackPath is the web app's page the provider sends people
	// back to; it posts the code and state to /api/auth/sso/callback.
	ssoCallbackPath = "/sso/callback"
)

// oidcClient talks to the organizations' OpenID Providers.
type oidcClient struct {
	http  *http.Client
	clock clock.Clock

	mu        sync.Mutex
	providers map[string]cachedProvider // by issuer URL
}

type cachedProvider struct {
	provider *oidc.Provider
	until    time.Time
}

func newOIDCClient(allowPrivate bool, clk clock.Clock) *oidcClient {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		// Checked on the address dialled, after resolution, so that a
		// public name resolving to an internal address is refused too.
		dialer.Control = netguard.Control
	}
	transport := &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: 5 * time.Second, Proxy: http.ProxyFromEnvironment}
	return &oidcClient{http: &http.Client{Transport: transport, Timeout: 10 * time.Second}, clock: clk, providers: map[string]cachedProvider{}}
}

func (c *oidcClient) context(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, c.http)
}

// provider discovers the OpenID Provider at issuer, or returns the one
// discovered within the last hour.
func (c *oidcClient) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	now := c.clock.Now()
	c.mu.Lock()
	cached, ok := c.providers[issuer]
	c.mu.Unlock()
	if ok && now.Before(cached.until) {
		return cached.provider, nil
	}
	p, err := oidc.NewProvider(c.context(ctx), issuer)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.providers[issuer] = cachedProvider{provider: p, until: now.Add(ssoProviderTTL)}
	c.mu.Unlock()
	return p, nil
}

func (s *server) oauth2Config(p *oidc.Provider, c SSOConfig) *oauth2.Config {
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: s.cfg.PublicURL + ssoCallbackPath, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

// ssoConfigView is an organization's single sign-on as its admins see it:
// the client secret never leaves the service.
type ssoConfigView struct {
	IssuerURL       string    `json:"issuer_url"`
	ClientID        string    `json:"client_id"`
	ClientSecretSet bool      `json:"client_secret_set"`
	Domains         []string  `json:"domains"`
	SSOOnly         bool      `json:"sso_only"`
	RedirectURL     string    `json:"redirect_url"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func (s *server) ssoView(c SSOConfig) ssoConfigView {
	return ssoConfigView{IssuerURL: c.IssuerURL, ClientID: c.ClientID, ClientSecretSet: c.ClientSecret != "", Domains: c.Domains,
		SSOOnly: c.SSOOnly, RedirectURL: s.cfg.PublicURL + ssoCallbackPath, UpdatedAt: c.UpdatedAt}
}

// getSSO serves GET /api/organization/sso.
func (s *server) getSSO(w http.ResponseWriter, r *http.Request) error {
	c, err := s.store.SSOConfig(r.Context(), authn.MustFromContext(r.Context()).OrganizationID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, s.ssoView(c))
	return nil
}

type ssoConfigRequest struct {
	IssuerURL string `json:"issuer_url"`
	ClientID  string `json:"client_id"`
	// ClientSecret empty keeps the stored one.
	ClientSecret string   `json:"client_secret"`
	Domains      []string `json:"domains"`
	SSOOnly      bool     `json:"sso_only"`
}

// Validate trims and lower-cases the domains and checks every field.
func (req *ssoConfigRequest) Validate() error {
	req.IssuerURL = strings.TrimSpace(req.IssuerURL)
	req.ClientID = strings.TrimSpace(req.ClientID)
	var v validate.Fields
	if u, err := url.Parse(req.IssuerURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") ||
		u.RawQuery != "" || u.Fragment != "" || len(req.IssuerURL) > 2048 {
		v.Add("issuer_url", "must be the provider's issuer, an absolute http(s) URL without query or fragment", validate.Echo(req.IssuerURL))
	}
	v.Length("client_id", req.ClientID, 1, 256, false)
	v.Length("client_secret", req.ClientSecret, 0, 1024, false)
	if len(req.Domains) == 0 || len(req.Domains) > 50 {
		v.Add("domains", "must list between 1 and 50 email domains", nil)
	}
	for i, d := range req.Domains {
		d = strings.ToLower(strings.TrimSpace(d))
		req.Domains[i] = d
		if !isDomain(d) {
			v.Add(fmt.Sprintf("domains[%d]", i), "must be an email domain such as example.com", validate.Echo(d))
		}
	}
	slices.Sort(req.Domains)
	req.Domains = slices.Compact(req.Domains)
	return v.Err()
}

// isDomain accepts host names of two labels or more, as email domains are.
func isDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return false
			}
		}
	}
	return true
}

// putSSO serves PUT /api/organization/sso: an admin sets up or changes
// the organization's single sign-on. The provider must answer discovery,
// so that a mistyped issuer is refused here rather than at every sign-in.
func (s *server) putSSO(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[ssoConfigRequest](r)
	if err != nil {
		return err
	}
	if s.cfg.PublicURL == "" {
		return ErrSSOUnavailable
	}
	if err := s.checkIssuer(r.Context(), req.IssuerURL); err != nil {
		return err
	}
	c, err := s.store.PutSSOConfig(r.Context(), SSOConfig{OrganizationID: authn.MustFromContext(r.Context()).OrganizationID,
		IssuerURL: req.IssuerURL, ClientID: req.ClientID, ClientSecret: req.ClientSecret, Domains: req.Domains, SSOOnly: req.SSOOnly})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, s.ssoView(c))
	return nil
}

func (s *server) checkIssuer(ctx context.Context, issuer string) error {
	if !s.cfg.SSOAllowPrivateIssuers && !strings.HasPrefix(issuer, "https://") {
		return apierr.InvalidField("issuer_url", "must be an https URL", validate.Echo(issuer))
	}
	_, err := s.oidc.provider(ctx, issuer)
	switch {
	case errors.Is(err, netguard.ErrPrivate):
		return apierr.InvalidField("issuer_url", "is on a loopback, private or link-local address, which this installation refuses", validate.Echo(issuer))
	case err != nil:
		return apierr.InvalidField("issuer_url", "no OpenID Provider with this issuer answers discovery at its /.well-known/openid-configuration", validate.Echo(issuer))
	}
	return nil
}

// deleteSSO serves DELETE /api/organization/sso.
func (s *server) deleteSSO(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.DeleteSSOConfig(r.Context(), authn.MustFromContext(r.Context()).OrganizationID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type ssoStartRequest struct {
	Email          string `json:"email"`
	OrganizationID string `json:"organization_id"`
}

// Validate checks that one of the email and the organization is sent.
func (req *ssoStartRequest) Validate() error {
	req.Email = strings.TrimSpace(req.Email)
	var v validate.Fields
	switch {
	case req.Email != "" && req.OrganizationID != "":
		v.Add("email", "send email or organization_id, not both", nil)
	case req.Email != "":
		v.Email("email", req.Email)
	case req.OrganizationID != "":
		v.UUID("organization_id", req.OrganizationID)
	default:
		v.Add("email", "send email or organization_id", nil)
	}
	return v.Err()
}

type ssoStartResponse struct {
	AuthorizationURL string `json:"authorization_url"`
	OrganizationID   string `json:"organization_id"`
}

// ssoStart serves POST /api/auth/sso/start: it finds the organization by
// the email's domain (or its id), remembers a state, a nonce and a PKCE
// verifier for the callback, and answers the provider URL to send the
// browser to. The state also goes into a cookie of this browser.
func (s *server) ssoStart(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[ssoStartRequest](r)
	if err != nil {
		return err
	}
	if s.cfg.PublicURL == "" {
		return ErrSSOUnavailable
	}
	org := req.OrganizationID
	if req.Email != "" {
		if org, err = s.store.SSODomainOrganization(r.Context(), emailDomain(req.Email)); err != nil {
			return err
		}
	}
	c, err := s.store.SSOConfig(r.Context(), org)
	if err != nil {
		return err
	}
	p, err := s.oidc.provider(r.Context(), c.IssuerURL)
	if err != nil {
		return fmt.Errorf("auth: discover %s: %w", c.IssuerURL, err)
	}
	state, err := newSecret()
	if err != nil {
		return err
	}
	nonce, err := newSecret()
	if err != nil {
		return err
	}
	verifier := oauth2.GenerateVerifier()
	expires := s.clock.Now().Add(ssoLoginTTL)
	if err := s.store.StartSSOLogin(r.Context(), state, ssoLogin{OrganizationID: org, Nonce: nonce, CodeVerifier: verifier, ExpiresAt: expires}); err != nil {
		return err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if req.Email != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", req.Email))
	}
	s.setSSOCookie(w, state, int(ssoLoginTTL/time.Second))
	httpx.JSON(w, http.StatusOK, ssoStartResponse{AuthorizationURL: s.oauth2Config(p, c).AuthCodeURL(state, opts...), OrganizationID: org})
	return nil
}

// setSSOCookie sets (maxAge > 0) or clears the state cookie. SameSite=Lax
// keeps it off other sites' requests; the callback is the web app's own.
func (s *server) setSSOCookie(w http.ResponseWriter, state string, maxAge int) {
	if maxAge <= 0 {
		maxAge = -1
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: state, Path: "/api/auth/sso", MaxAge: maxAge, HttpOnly: true,
		Secure: strings.HasPrefix(s.cfg.PublicURL, "https://"), SameSite: http.SameSiteLaxMode})
}

func emailDomain(email string) string {
	return strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
}

type ssoCallbackRequest struct {
	Code  string `json:"code"`
	State string `json:"state"`
}

// Validate checks both fields' lengths.
func (req *ssoCallbackRequest) Validate() error {
	var v validate.Fields
	v.Length("code", req.Code, 1, 4096, false)
	v.Length("state", req.State, 1, 256, false)
	return v.Err()
}

// ssoCallback serves POST /api/auth/sso/callback: the web app passes on
// what the provider sent back, and gets the tokens of a password login.
func (s *server) ssoCallback(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[ssoCallbackRequest](r)
	if err != nil {
		return err
	}
	cookie, err := r.Cookie(ssoCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(req.State)) != 1 {
		return ErrSSOStateInvalid
	}
	login, err := s.store.TakeSSOLogin(r.Context(), req.State)
	if err != nil {
		return err
	}
	s.setSSOCookie(w, "", 0)
	u, email, err := s.ssoUser(r.Context(), login, req.Code)
	if reason, refused := ssoRefusals[err]; refused {
		// A deactivated member is the one refused: the entry names them,
		// as a refused password sign-in does. Other refusals name no
		// member the provider vouched for.
		member := ""
		if errors.Is(err, ErrAccountDisabled) {
			member = u.ID
		}
		if rerr := s.store.RecordSSOFailure(r.Context(), login.OrganizationID, member, reason, email, s.clientOf(r)); rerr != nil {
			return rerr
		}
	}
	if err != nil {
		return err
	}
	resp, err := s.signIn(r.Context(), u, &Login{Client: s.clientOf(r), Method: "sso"})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, resp)
	return nil
}

// ssoRefusals are the reasons a refused single sign-on's entry names: the
// refusals after the provider answered. A callback refused before (an
// unknown or replayed state) names no organization to record it in.
var ssoRefusals = map[error]string{ErrSSOLoginFailed: "sso_failed", ErrSSOEmailUnverified: "email_unverified",
	ErrSSODomainNotAllowed: "domain_not_allowed", ErrAccountDisabled: "account_disabled"}

// ssoClaims are what the ID token must say of the person.
type ssoClaims struct {
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"`
	Name          string `json:"name"`
	GivenName     string `json:"given_name"`
	FamilyName    string `json:"family_name"`
}

// verified reads email_verified, which some providers send as a string.
func (c ssoClaims) verified() bool {
	return c.EmailVerified == true || c.EmailVerified == "true"
}

// displayName is the name the provider gives, else the email's local part.
func (c ssoClaims) displayName() string {
	name := strings.TrimSpace(c.Name)
	if name == "" {
		name = strings.TrimSpace(c.GivenName + " " + c.FamilyName)
	}
	if n := len([]rune(name)); n < 2 || n > 200 {
		name = c.Email[:strings.LastIndexByte(c.Email, '@')]
	}
	if len([]rune(name)) < 2 {
		name = c.Email
	}
	return name
}

// ssoUser redeems the code with the login's PKCE verifier, checks the ID
// token (signature, issuer, audience, expiry, nonce) and its verified
// email, and returns the member it names, provisioned on their first
// sign-in (SSOUser), and the email the provider named, if it got that
// far, for the audit entry of a refusal; refused as deactivated, the
// member is returned too.
func (s *server) ssoUser(ctx context.Context, login ssoLogin, code string) (User, string, error) {
	c, err := s.store.SSOConfig(ctx, login.OrganizationID)
	if err != nil {
		return User{}, "", err
	}
	p, err := s.oidc.provider(ctx, c.IssuerURL)
	if err != nil {
		return User{}, "", fmt.Errorf("auth: discover %s: %w", c.IssuerURL, err)
	}
	tok, err := s.oauth2Config(p, c).Exchange(s.oidc.context(ctx), code, oauth2.VerifierOption(login.CodeVerifier))
	if err != nil {
		return User{}, "", ErrSSOLoginFailed
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return User{}, "", ErrSSOLoginFailed
	}
	idToken, err := p.VerifierContext(s.oidc.context(ctx), &oidc.Config{ClientID: c.ClientID, Now: s.clock.Now}).Verify(ctx, raw)
	if err != nil || subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(login.Nonce)) != 1 {
		return User{}, "", ErrSSOLoginFailed
	}
	var claims ssoClaims
	if err := idToken.Claims(&claims); err != nil {
		return User{}, "", ErrSSOLoginFailed
	}
	if claims.Email == "" {
		// Providers may keep the profile out of the ID token and answer it
		// from the UserInfo endpoint for the access token instead.
		info, err := p.UserInfo(s.oidc.context(ctx), oauth2.StaticTokenSource(tok))
		if err != nil || info.Subject != idToken.Subject {
			return User{}, "", ErrSSOLoginFailed
		}
		if err := info.Claims(&claims); err != nil {
			return User{}, "", ErrSSOLoginFailed
		}
	}
	claims.Email = strings.TrimSpace(claims.Email)
	var v validate.Fields
	if v.Email("email", claims.Email); v.Err() != nil {
		// No email at all: none is recorded with the refusal.
		return User{}, "", ErrSSOEmailUnverified
	}
	if !claims.verified() {
		return User{}, claims.Email, ErrSSOEmailUnverified
	}
	u, err := s.store.SSOUser(ctx, c.OrganizationID, claims.Email, claims.displayName(), slices.Contains(c.Domains, emailDomain(claims.Email)))
	return u, claims.Email, err
}

// passwordAllowed refuses password sign-in to the members of an "SSO
// only" organization (passwordRefused).
func (s *server) passwordAllowed(ctx context.Context, u User) error {
	return s.store.PasswordAllowed(ctx, u.OrganizationID, u.Role)
}
