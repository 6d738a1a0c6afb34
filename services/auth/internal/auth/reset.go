package auth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/validate"
)

// ResetConfig is how password resets by email behave.
type ResetConfig struct {
	// TTL is how long a reset link works.
	TTL time.Duration
	// Window, MaxByEmail and MaxByIP cap the reset requests per account
	// and per address, so that nobody floods a mailbox or the SMTP
	// server through the API.
	Window     time.Duration
	MaxByEmail int
	MaxByIP    int
}

func loadResetConfig(e *config.Env) ResetConfig {
	return ResetConfig{
		TTL:        e.Duration("PASSWORD_RESET_TTL", time.Hour, time.Minute, 7*24*time.Hour),
		Window:     e.Duration("PASSWORD_RESET_THROTTLE_WINDOW", time.Hour, time.Second, 24*time.Hour),
		MaxByEmail: e.Int("PASSWORD_RESET_MAX_PER_EMAIL", 5, 1, 1000),
		MaxByIP:    e.Int("PASSWORD_RESET_MAX_PER_IP", 30, 1, 100000),
	}
}

// ResetAttempt counts a reset request for email from ip, or returns how
// long the caller must wait. Unknown and known emails count alike, so
// that the answer tells nothing about the account.
func (t *Throttle) ResetAttempt(ctx context.Context, l ResetConfig, email, ip string) time.Duration {
	byEmail := t.run(ctx, countScript, []string{t.prefix + ":reset-requests:email:" + strings.ToLower(email)},
		l.Window.Milliseconds(), l.MaxByEmail)
	byIP := t.run(ctx, countScript, []string{t.prefix + ":reset-requests:ip:" + ip}, l.Window.Milliseconds(), l.MaxByIP)
	return max(byEmail, byIP)
}

type resetRequest struct {
	Email string `json:"email"`
}

// Validate trims and checks the email.
func (req *resetRequest) Validate() error {
	req.Email = strings.TrimSpace(req.Email)
	var v validate.Fields
	v.Email("email", req.Email)
	return v.Err()
}

// requestPasswordReset serves POST /api/auth/password-reset: every active
// account with the email gets a link by mail. The answer is 202 whether
// or not there is one, so that it tells nobody who has an account.
func (s *server) requestPasswordReset(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[resetRequest](r)
	if err != nil {
		return err
	}
	if !s.cfg.Mail.Enabled() {
		return ErrMailUnavailable
	}
	if wait := s.throttle.ResetAttempt(r.Context(), s.cfg.Reset, req.Email, s.clientIP(r)); wait > 0 {
		return tooMany(w, wait)
	}
	cands, err := s.store.LoginCandidates(r.Context(), req.Email)
	if err != nil {
		return err
	}
	for _, c := range cands {
		if !c.Active {
			continue
		}
		token, err := newSecret()
		if err != nil {
			return err
		}
		link := s.cfg.PublicURL + "/reset#" + url.Values{"token": {token}}.Encode()
		if err := s.store.CreatePasswordReset(r.Context(), c.OrganizationID, c.ID, token, s.clock.Now().Add(s.cfg.Reset.TTL),
			func(orgName string, sso bool) (string, string) {
				if sso {
					return ssoResetMail(orgName, s.cfg.PublicURL+"/signin")
				}
				return resetMail(orgName, link, s.cfg.Reset.TTL)
			}); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func resetMail(orgName, link string, ttl time.Duration) (subject, body string) {
	return "Reset your WorkPulse password",
		"Someone asked to reset the password of your WorkPulse account in " + orgName + ".\n\n" +
			"To choose a new password, open this link within " + ttl.String() + ":\n\n" + link + "\n\n" +
			"The link works once. If you did not ask for it, ignore this message: your password stays as it is.\n"
}

// ssoResetMail answers a reset request of a member who signs in through
// their organization's provider: the request's answer tells nobody
// whether the account exists, so the mailbox's owner learns here why no
// link came.
func ssoResetMail(orgName, signIn string) (subject, body string) {
	return "Reset your WorkPulse password",
		"Someone asked to reset the password of your WorkPulse account in " + orgName + ".\n\n" +
			orgName + " signs in through its identity provider only, so your account has no WorkPulse password to reset. " +
			"Sign in with SSO using this email address:\n\n" + signIn + "\n\n" +
			"If you cannot sign in with your company account, ask your identity provider's or WorkPulse's admin.\n"
}

type resetConfirmRequest struct {
	Token       string `json:"token"`
	NewPassword string `json:"new_password"`
}

// Validate checks the token's and the password's lengths.
func (req *resetConfirmRequest) Validate() error {
	req.Token = strings.TrimSpace(req.Token)
	var v validate.Fields
	v.Length("token", req.Token, 1, 256, false)
	v.Length("new_password", req.NewPassword, 8, 128, false)
	return v.Err()
}

// confirmPasswordReset serves POST /api/auth/password-reset/confirm: the
// link's token sets a new password, and every session of the account
// ends, as after a change of password.
func (s *server) confirmPasswordReset(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[resetConfirmRequest](r)
	if err != nil {
		return err
	}
	// An unknown token is refused before any password is hashed, so that
	// made-up tokens cost no hashing slot.
	orgID, err := s.store.PasswordResetOrganization(r.Context(), req.Token)
	if err != nil {
		return err
	}
	hash, err := s.hasher.Hash(r.Context(), req.NewPassword)
	if err != nil {
		return err
	}
	client := s.clientOf(r)
	u, err := s.store.ResetPassword(r.Context(), orgID, req.Token, hash, client)
	if err != nil {
		return err
	}
	// Whoever opened the mailbox is the owner: the delays their earlier
	// failed logins earned end with the reset.
	s.throttle.LoginSucceeded(r.Context(), u.Email, client.IP)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// invitationMail is the message an invited person gets: the link that
// joins with a password, or, where they will sign in through the
// organization's provider (sso), the sign-in page, where signing in with
// SSO as the invited email accepts the invitation.
func (s *server) invitationMail(inv Invitation) func(orgName string, sso bool) (string, string) {
	link := s.cfg.PublicURL + "/join#" + url.Values{"token": {inv.Token}, "email": {inv.Email}}.Encode()
	expires := inv.ExpiresAt.UTC().Format("2 January 2006 15:04 MST")
	return func(orgName string, sso bool) (string, string) {
		how := "To accept, open this link and choose your name and password:\n\n" + link + "\n\n"
		if sso {
			how = "To accept, open this page and sign in with SSO, using your company account for " + inv.Email + ":\n\n" +
				s.cfg.PublicURL + "/signin\n\n"
		}
		return "You are invited to " + orgName + " on WorkPulse",
			"You are invited to join " + orgName + " on WorkPulse as " + inv.Role + ".\n\n" + how +
				"The invitation works once and expires on " + expires + ".\n"
	}
}
