package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"
	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/page"
	"github.com/workpulse/workpulse/services/platform/validate"
)

type registerRequest struct {
	Email            string `json:"email"`
	Password         string `json:"password"`
	Name             string `json:"name"`
	OrganizationName string `json:"organization_name"`
	PlanType         string `json:"plan_type"`
	InvitationToken  string `json:"invitation_token"`
	// Accepted for compatibility with the original's clients and ignored:
	// membership of an existing organization takes an invitation.
	Role           any `json:"role"`
	OrganizationID any `json:"organization_id"`
}

type authResponse struct {
	AccessToken  string        `json:"access_token"`
	User         userView      `json:"user"`
	Organization *Organization `json:"organization,omitempty"`
	// RefreshToken is spent by POST /api/auth/refresh for the next
	// access token; ExpiresIn is the access token's lifetime in seconds.
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// userView is the contract's user object in auth responses.
type userView struct {
	ID             string `json:"id"`
	Email          string `json:"email"`
	Name           string `json:"name"`
	Role           string `json:"role"`
	OrganizationID string `json:"organization_id"`
}

func viewOf(u User) userView {
	return userView{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, OrganizationID: u.OrganizationID}
}

// Validate trims the names, defaults the plan and checks every field.
func (req *registerRequest) Validate() error {
	req.Email = strings.TrimSpace(req.Email)
	req.Name = strings.TrimSpace(req.Name)
	req.OrganizationName = strings.TrimSpace(req.OrganizationName)
	if req.PlanType == "" {
		req.PlanType = "free"
	}
	var v validate.Fields
	v.Email("email", req.Email)
	v.Length("password", req.Password, 8, 128, false)
	v.Length("name", req.Name, 2, 200, true)
	if req.InvitationToken == "" {
		v.Length("organization_name", req.OrganizationName, 1, 200, true)
		v.OneOf("plan_type", req.PlanType, "free", "pro", "enterprise")
	}
	return v.Err()
}

func (s *server) register(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[registerRequest](r)
	if err != nil {
		return err
	}
	if req.InvitationToken == "" && !s.cfg.SelfRegistration {
		return ErrRegistrationDisabled
	}
	ip := s.clientIP(r)
	if wait := s.throttle.RegisterAttempt(r.Context(), ip); wait > 0 {
		return tooMany(w, wait)
	}
	u, org, err := s.createAccount(r.Context(), req)
	if errors.Is(err, ErrHashingBusy) || (err == nil && req.InvitationToken != "") {
		s.throttle.RegisterRefund(r.Context(), ip)
	}
	if err != nil {
		return err
	}
	resp, err := s.signIn(r.Context(), u, nil)
	if err != nil {
		return err
	}
	resp.Organization = &org
	httpx.JSON(w, http.StatusCreated, resp)
	return nil
}

// createAccount creates the member an invitation admits, or a new
// organization and its admin.
func (s *server) createAccount(ctx context.Context, req registerRequest) (User, Organization, error) {
	hash, err := s.hasher.Hash(ctx, req.Password)
	if err != nil {
		return User{}, Organization{}, err
	}
	u := User{ID: newID(), Email: req.Email, Name: req.Name}
	if req.InvitationToken != "" {
		return s.store.AcceptInvitation(ctx, req.InvitationToken, u, hash)
	}
	org := Organization{ID: newID(), Name: req.OrganizationName, PlanType: req.PlanType}
	u.OrganizationID, u.Role = org.ID, authn.RoleAdmin
	return u, org, s.store.CreateOrganization(ctx, org, u, hash)
}

// tooMany answers 429 with the wait in whole seconds, rounded up.
func tooMany(w http.ResponseWriter, wait time.Duration) error {
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	return ErrTooManyAttempts
}

type loginRequest struct {
	Email          string `json:"email"`
	Password       string `json:"password"`
	OrganizationID string `json:"organization_id"`
}

// Validate trims the email and checks every field.
func (req *loginRequest) Validate() error {
	req.Email = strings.TrimSpace(req.Email)
	var v validate.Fields
	v.Length("email", req.Email, 1, 254, false)
	v.Length("password", req.Password, 1, 128, false)
	if req.OrganizationID != "" {
		v.UUID("organization_id", req.OrganizationID)
	}
	return v.Err()
}

func (s *server) login(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[loginRequest](r)
	if err != nil {
		return err
	}
	login := Login{Client: s.clientOf(r), Method: "password"}
	ip := login.IP
	if wait := s.throttle.LoginAttempt(r.Context(), req.Email, ip); wait > 0 {
		return tooMany(w, wait)
	}
	user, refused, err := s.authenticate(r.Context(), req)
	switch {
	case err == nil:
		s.throttle.LoginSucceeded(r.Context(), req.Email, ip)
	case !errors.Is(err, ErrInvalidCredentials):
		s.throttle.LoginRefund(r.Context(), req.Email, ip)
	}
	if err != nil {
		if rerr := s.recordRefused(r.Context(), refused, err, login); rerr != nil {
			return rerr
		}
		return err
	}
	resp, err := s.signIn(r.Context(), user, &login)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, resp)
	return nil
}

// authenticate finds the one account the email and password open. When
// it refuses the sign-in it returns the accounts it refused: every one
// tried for a wrong password, the one the password opened otherwise.
func (s *server) authenticate(ctx context.Context, req loginRequest) (User, []loginCandidate, error) {
	cands, err := s.store.LoginCandidates(ctx, req.Email)
	if err != nil {
		return User{}, nil, err
	}
	var tried, matched []loginCandidate
	for _, c := range cands {
		if req.OrganizationID != "" && c.OrganizationID != req.OrganizationID {
			continue
		}
		tried = append(tried, c)
		ok, err := s.hasher.Verify(ctx, c.PasswordHash, req.Password)
		if errors.Is(err, ErrHashingBusy) {
			return User{}, nil, err
		}
		if err == nil && ok {
			matched = append(matched, c)
		}
	}
	if len(cands) == 0 {
		if _, err := s.hasher.Verify(ctx, dummyHash, req.Password); errors.Is(err, ErrHashingBusy) {
			return User{}, nil, err
		}
	}
	switch {
	case len(matched) == 0:
		return User{}, tried, ErrInvalidCredentials
	case len(matched) > 1:
		return User{}, nil, ErrOrganizationNeeded
	case !matched[0].Active:
		return User{}, matched, ErrAccountDisabled
	}
	if err := s.rehash(ctx, matched[0], req.Password); err != nil {
		return User{}, nil, err
	}
	u, err := s.store.GetUser(ctx, matched[0].OrganizationID, matched[0].ID)
	if err != nil {
		return User{}, nil, err
	}
	if err := s.passwordAllowed(ctx, u); err != nil {
		return User{}, matched, err
	}
	return u, nil, nil
}

// loginRefusals are the reasons a refused sign-in's entry names.
var loginRefusals = map[error]string{ErrInvalidCredentials: "invalid_password", ErrAccountDisabled: "account_disabled", ErrSSORequired: "sso_required"}

// recordRefused records a sign-in refused with err in the audit log of
// each account it was refused to.
func (s *server) recordRefused(ctx context.Context, refused []loginCandidate, err error, l Login) error {
	for _, c := range refused {
		if rerr := s.store.RecordLoginFailure(ctx, c.OrganizationID, c.ID, loginRefusals[err], l); rerr != nil {
			return rerr
		}
	}
	return nil
}

// rehash replaces an imported bcrypt hash with argon2id once the password
// is known to be right. With every hashing slot taken it leaves the hash
// for a later login rather than refusing this one.
func (s *server) rehash(ctx context.Context, c loginCandidate, password string) error {
	if !NeedsRehash(c.PasswordHash) {
		return nil
	}
	h, err := s.hasher.Hash(ctx, password)
	if errors.Is(err, ErrHashingBusy) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.store.ReplacePasswordHash(ctx, c.OrganizationID, c.ID, c.PasswordHash, h)
}

// signIn opens a session for u: an access token carrying its id and the
// session's first refresh token. A login (not nil) is recorded in the
// audit log with the session.
func (s *server) signIn(ctx context.Context, u User, login *Login) (authResponse, error) {
	sid, refresh, err := s.store.OpenSession(ctx, u, login)
	if err != nil {
		return authResponse{}, err
	}
	return s.answer(u, sid, refresh)
}

// answer is the body of a sign-in or a refresh: the contract's
// access_token and user, and the refresh token beside them.
func (s *server) answer(u User, sid, refresh string) (authResponse, error) {
	signer, err := s.keys.Signer(s.cfg.Issuer)
	if err != nil {
		return authResponse{}, err
	}
	token, err := signer.Sign(authn.Principal{UserID: u.ID, Email: u.Email, OrganizationID: u.OrganizationID, Role: u.Role,
		SessionID: sid, TokenVersion: u.TokenVersion}, s.clock.Now())
	if err != nil {
		return authResponse{}, err
	}
	return authResponse{AccessToken: token, User: viewOf(u), RefreshToken: refresh,
		ExpiresIn: int(s.cfg.TokenTTL / time.Second)}, nil
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// Validate checks the token's length.
func (req *refreshRequest) Validate() error {
	var v validate.Fields
	v.Length("refresh_token", req.RefreshToken, 1, 256, false)
	return v.Err()
}

// refresh serves POST /api/auth/refresh: it spends a refresh token for a
// new access token and the next refresh token.
func (s *server) refresh(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[refreshRequest](r)
	if err != nil {
		return err
	}
	u, sid, next, err := s.store.Refresh(r.Context(), req.RefreshToken)
	if err != nil {
		return err
	}
	resp, err := s.answer(u, sid, next)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, resp)
	return nil
}

// logout serves POST /api/auth/logout: the caller's session ends, and its
// tokens are refused everywhere within a poll.
func (s *server) logout(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	if p.SessionID != "" {
		if err := s.store.CloseSession(r.Context(), p.OrganizationID, p.UserID, p.SessionID); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// logoutEverywhere serves POST /api/auth/logout-all: every session of the
// caller ends, and every token issued to them before is refused.
func (s *server) logoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	if _, err := s.store.UpdateUser(r.Context(), p.OrganizationID, p.UserID, func(u *User) { u.TokenVersion++ }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) jwks(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=60")
	// A JWKS is a standard document the other services and any verifier
	// read as it is, whatever envelope the API answers in.
	httpx.SkipEnvelope(w)
	httpx.JSON(w, http.StatusOK, s.keys.JWKS())
	return nil
}

// listEmployees serves GET /api/users/employees: every member for an
// admin; a manager's own people, themself and their teams' members, whom
// the board and the reports list for them.
func (s *server) listEmployees(w http.ResponseWriter, r *http.Request) error {
	return s.serveUsers(w, r, UserFilter{Manager: teamViewer(authn.MustFromContext(r.Context()))})
}

// listUsers serves GET /api/users: the members, filtered by ?role= and
// ?active=, a page at a time.
func (s *server) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := UserFilter{Role: q.Get("role")}
	var v validate.Fields
	if f.Role != "" {
		v.OneOf("role", f.Role, authn.Roles...)
	}
	if a := q.Get("active"); a != "" {
		active, err := strconv.ParseBool(a)
		if err != nil {
			v.Add("active", "must be true or false", validate.Echo(a))
		}
		f.Active = &active
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.serveUsers(w, r, f)
}

func (s *server) serveUsers(w http.ResponseWriter, r *http.Request, f UserFilter) error {
	return page.Serve(w, r, authn.MustFromContext(r.Context()).OrganizationID,
		func(ctx context.Context, org string, req page.Request) ([]User, *page.Cursor, error) {
			return s.store.ListUsers(ctx, org, f, req)
		})
}

type userChangeRequest struct {
	Role   *string `json:"role"`
	Active *bool   `json:"active"`
}

// Validate checks the role.
func (req *userChangeRequest) Validate() error {
	var v validate.Fields
	if req.Role != nil {
		v.OneOf("role", *req.Role, authn.Roles...)
	}
	if req.Role == nil && req.Active == nil {
		v.Add("role", "send role, active or both", nil)
	}
	return v.Err()
}

// updateUser serves PATCH /api/users/{id}: an admin changes a member's
// role, deactivates or reactivates them.
func (s *server) updateUser(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[userChangeRequest](r)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	if _, err := uuid.Parse(id); err != nil {
		return ErrUserNotFound
	}
	u, err := s.store.UpdateUser(r.Context(), authn.MustFromContext(r.Context()).OrganizationID, id, func(u *User) {
		if req.Role != nil {
			u.Role = *req.Role
		}
		if req.Active != nil {
			u.Active = *req.Active
		}
	})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, u)
	return nil
}

// removeUser serves DELETE /api/users/{id}?data=keep|erase: an admin
// removes a member, keeping their sessions, activity and reports or
// erasing them in every service.
func (s *server) removeUser(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if _, err := uuid.Parse(id); err != nil {
		return ErrUserNotFound
	}
	data := r.URL.Query().Get("data")
	var v validate.Fields
	v.OneOf("data", data, "keep", "erase")
	if err := v.Err(); err != nil {
		return err
	}
	if err := s.store.RemoveUser(r.Context(), authn.MustFromContext(r.Context()).OrganizationID, id, data == "erase"); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type profileRequest struct {
	Name string `json:"name"`
}

// Validate trims and checks the name.
func (req *profileRequest) Validate() error {
	req.Name = strings.TrimSpace(req.Name)
	var v validate.Fields
	v.Length("name", req.Name, 2, 200, true)
	return v.Err()
}

// getMe serves GET /api/users/me.
func (s *server) getMe(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	u, err := s.store.GetUser(r.Context(), p.OrganizationID, p.UserID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, u)
	return nil
}

// updateMe serves PATCH /api/users/me: the caller renames themself.
func (s *server) updateMe(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[profileRequest](r)
	if err != nil {
		return err
	}
	p := authn.MustFromContext(r.Context())
	u, err := s.store.UpdateUser(r.Context(), p.OrganizationID, p.UserID, func(u *User) { u.Name = req.Name })
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, u)
	return nil
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// Validate checks both passwords' lengths.
func (req *passwordRequest) Validate() error {
	var v validate.Fields
	v.Length("current_password", req.CurrentPassword, 1, 128, false)
	v.Length("new_password", req.NewPassword, 8, 128, false)
	return v.Err()
}

// changePassword serves POST /api/users/me/password. The current password
// is throttled as a login is, so a stolen token cannot guess it; the
// answer carries a new token, since the change revokes every earlier one.
func (s *server) changePassword(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[passwordRequest](r)
	if err != nil {
		return err
	}
	p := authn.MustFromContext(r.Context())
	ip := s.clientIP(r)
	if wait := s.throttle.LoginAttempt(r.Context(), p.Email, ip); wait > 0 {
		return tooMany(w, wait)
	}
	u, err := s.replacePassword(r.Context(), p, req)
	switch {
	case err == nil:
		s.throttle.LoginSucceeded(r.Context(), p.Email, ip)
	case errors.Is(err, ErrInvalidCredentials):
		if rerr := s.store.RecordPasswordChangeFailure(r.Context(), p.OrganizationID, p.UserID, s.clientOf(r)); rerr != nil {
			return rerr
		}
	default:
		s.throttle.LoginRefund(r.Context(), p.Email, ip)
	}
	if err != nil {
		return err
	}
	resp, err := s.signIn(r.Context(), u, nil)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, resp)
	return nil
}

func (s *server) replacePassword(ctx context.Context, p authn.Principal, req passwordRequest) (User, error) {
	hash, err := s.store.PasswordHash(ctx, p.OrganizationID, p.UserID)
	if err != nil {
		return User{}, err
	}
	ok, err := s.hasher.Verify(ctx, hash, req.CurrentPassword)
	if errors.Is(err, ErrHashingBusy) {
		return User{}, err
	}
	if err != nil || !ok {
		return User{}, ErrInvalidCredentials
	}
	if hash, err = s.hasher.Hash(ctx, req.NewPassword); err != nil {
		return User{}, err
	}
	return s.store.SetPassword(ctx, p.OrganizationID, p.UserID, hash)
}

type invitationRequest struct {
	Email          string `json:"email"`
	Role           string `json:"role"`
	ExpiresInHours int    `json:"expires_in_hours"`
}

// Validate trims the email, defaults the role and the lifetime, and
// checks every field.
func (req *invitationRequest) Validate() error {
	req.Email = strings.TrimSpace(req.Email)
	if req.Role == "" {
		req.Role = authn.RoleEmployee
	}
	if req.ExpiresInHours == 0 {
		req.ExpiresInHours = 72
	}
	var v validate.Fields
	v.Email("email", req.Email)
	v.OneOf("role", req.Role, authn.Roles...)
	v.IntRange("expires_in_hours", req.ExpiresInHours, 1, 720)
	return v.Err()
}

func (s *server) createInvitation(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	req, err := httpx.DecodeBody[invitationRequest](r)
	if err != nil {
		return err
	}
	token, err := newSecret()
	if err != nil {
		return err
	}
	inv := Invitation{ID: newID(), OrganizationID: p.OrganizationID, Email: req.Email, Role: req.Role,
		ExpiresAt: s.expiry(req.ExpiresInHours), Token: token, Emailed: s.cfg.Mail.Enabled()}
	var compose func(string, bool) (string, string)
	if inv.Emailed {
		compose = s.invitationMail(inv)
	}
	if err := s.store.CreateInvitation(r.Context(), inv, p.UserID, compose); err != nil {
		return err
	}
	httpx.JSON(w, http.StatusCreated, inv)
	return nil
}

func (s *server) expiry(hours int) time.Time {
	return s.clock.Now().UTC().Add(time.Duration(hours) * time.Hour).Truncate(time.Second)
}

type adoptionTokenRequest struct {
	ExpiresInHours int `json:"expires_in_hours"`
}

// Validate defaults the lifetime to a day and checks it.
func (req *adoptionTokenRequest) Validate() error {
	if req.ExpiresInHours == 0 {
		req.ExpiresInHours = 24
	}
	var v validate.Fields
	v.IntRange("expires_in_hours", req.ExpiresInHours, 1, 720)
	return v.Err()
}

// createAdoptionToken lets an admin hand the organization over to a
// WorkPulseTenant: the platform team puts the token in a Secret the
// resource references, and the operator presents it once.
func (s *server) createAdoptionToken(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	req, err := httpx.DecodeBody[adoptionTokenRequest](r)
	if err != nil {
		return err
	}
	token, err := newSecret()
	if err != nil {
		return err
	}
	at := AdoptionToken{ID: newID(), OrganizationID: p.OrganizationID, ExpiresAt: s.expiry(req.ExpiresInHours), Token: token}
	if err := s.store.CreateAdoptionToken(r.Context(), at, p.UserID); err != nil {
		return err
	}
	httpx.JSON(w, http.StatusCreated, at)
	return nil
}

// clientIP is the peer address, or the nearest X-Forwarded-For hop when
// the peer is a trusted proxy (the front door, an ingress controller).
func (s *server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer := net.ParseIP(host)
	if peer == nil || !s.trusted(peer) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip := net.ParseIP(strings.TrimSpace(hops[i]))
		if ip == nil {
			break
		}
		if !s.trusted(ip) || i == 0 {
			return ip.String()
		}
	}
	return host
}

func (s *server) trusted(ip net.IP) bool {
	for _, n := range s.cfg.TrustedProxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

func equalFoldEmail(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

func (s *server) requireOperator(next http.Handler) http.Handler {
	return httpx.Handler(func(w http.ResponseWriter, r *http.Request) error {
		tok := []byte(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if s.cfg.OperatorToken == "" || subtle.ConstantTimeCompare(tok, []byte(s.cfg.OperatorToken)) != 1 {
			return apierr.ErrInvalidToken
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

func (s *server) getTenant(w http.ResponseWriter, r *http.Request) error {
	resp, err := s.store.GetTenant(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, resp)
	return nil
}

// Validate checks every field of the body.
func (req *TenantRequest) Validate() error {
	var v validate.Fields
	v.Length("name", req.Name, 1, 200, true)
	v.UUID("tenant_uid", req.TenantUID)
	v.Length("adoption_token", req.AdoptionToken, 0, 256, false)
	v.OneOf("plan_type", req.PlanType, "free", "pro", "enterprise")
	if req.Admin != nil {
		v.Email("admin.email", req.Admin.Email)
		v.Length("admin.name", req.Admin.Name, 2, 200, true)
		v.Length("admin.password", req.Admin.Password, 8, 128, false)
	}
	return v.Err()
}

func (s *server) putTenant(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[TenantRequest](r)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	var v validate.Fields
	v.UUID("id", id)
	if err := v.Err(); err != nil {
		return err
	}
	var hash string
	if req.Admin != nil {
		if hash, err = s.hasher.Hash(r.Context(), req.Admin.Password); err != nil {
			return err
		}
	}
	resp, err := s.store.UpsertTenant(r.Context(), id, req, hash)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, resp)
	return nil
}
