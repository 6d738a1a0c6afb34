package auth

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"encoding/json"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/export"
	"github.com/workpulse/workpulse/services/platform/outbox"
	"github.com/workpulse/workpulse/services/platform/page"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/platform/sealbox"
	"github.com/workpulse/workpulse/services/platform/validate"
)

// OutboxTable is where auth's events wait for the relay.
const OutboxTable = "auth.outbox"

const source = "auth"

// User is a member of an organization as the API shows it.
type User struct {
	ID             string    `json:"id"`
	Email          string    `json:"email"`
	Name           string    `json:"name"`
	Role           string    `json:"role"`
	OrganizationID string    `json:"organization_id"`
	Active         bool      `json:"active"`
	CreatedAt      time.Time `json:"created_at"`
	// TokenVersion goes into the user's tokens (claim ver); raising it
	// revokes every token issued before.
	TokenVersion int `json:"-"`
}

// userColumns are what scanUser reads, in its order.
const userColumns = "id, email, name, role, organization_id, active, created_at, token_version"

func scanUser(r pgx.Row, u *User, extra ...any) error {
	return r.Scan(append([]any{&u.ID, &u.Email, &u.Name, &u.Role, &u.OrganizationID, &u.Active, &u.CreatedAt, &u.TokenVersion}, extra...)...)
}

// Organization as the API shows it.
type Organization struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	PlanType string `json:"plan_type"`
}

// Store is auth's data access.
type Store struct {
	db    *pgxpool.Pool
	clock clock.Clock
	// cipher seals the signing keys' private parts; nil stores them as
	// they are.
	cipher *sealbox.Cipher
	// tokenTTL is the access tokens' lifetime, refreshTTL a session's.
	tokenTTL, refreshTTL time.Duration
}

func (s *Store) insertOrganization(ctx context.Context, tx pgx.Tx, org Organization) error {
	_, err := tx.Exec(ctx, "INSERT INTO auth.organizations (id, name, plan_type) VALUES ($1, $2, $3)", org.ID, org.Name, org.PlanType)
	if err != nil {
		return err
	}
	ev, err := events.New(s.clock.Now(), source, events.TypeOrganizationCreated, org.ID, org.ID,
		events.OrganizationCreated{OrganizationID: org.ID, Name: org.Name, PlanType: org.PlanType})
	if err != nil {
		return err
	}
	return outbox.Enqueue(ctx, tx, OutboxTable, ev)
}

// insertUser adds a member; the organization's tenant must be set on tx.
func (s *Store) insertUser(ctx context.Context, tx pgx.Tx, u User, passwordHash string) error {
	_, err := tx.Exec(ctx, "INSERT INTO auth.users (id, organization_id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5, $6)",
		u.ID, u.OrganizationID, u.Email, u.Name, passwordHash, u.Role)
	if pg.IsUniqueViolation(err, "users_org_email_key") {
		return ErrUserExists
	}
	if err != nil {
		return err
	}
	return s.enqueueUserEvent(ctx, tx, events.TypeUserCreated, u)
}

// enqueueUserEvent publishes u as it now is (user.created and user.updated
// carry the same body) through the outbox of tx.
func (s *Store) enqueueUserEvent(ctx context.Context, tx pgx.Tx, eventType string, u User) error {
	ev, err := events.New(s.clock.Now(), source, eventType, u.OrganizationID, u.ID,
		events.UserCreated{UserID: u.ID, OrganizationID: u.OrganizationID, Email: u.Email, Name: u.Name, Role: u.Role})
	if err != nil {
		return err
	}
	return outbox.Enqueue(ctx, tx, OutboxTable, ev)
}

// CreateOrganization creates an organization and its first admin.
func (s *Store) CreateOrganization(ctx context.Context, org Organization, admin User, passwordHash string) error {
	return pg.InOrg(ctx, s.db, org.ID, func(tx pgx.Tx) error {
		var taken bool
		if err := tx.QueryRow(ctx, "SELECT auth.email_registered($1)", admin.Email).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return ErrUserExists
		}
		if err := s.insertOrganization(ctx, tx, org); err != nil {
			return err
		}
		return s.insertUser(ctx, tx, admin, passwordHash)
	})
}

// invitation is an invitation found by its token.
type invitation struct {
	ID, OrganizationID, Email, Role string
	ExpiresAt                       time.Time
	UsedAt                          *time.Time
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// AcceptInvitation spends the invitation and creates its member.
func (s *Store) AcceptInvitation(ctx context.Context, token string, u User, passwordHash string) (User, Organization, error) {
	var inv invitation
	err := s.db.QueryRow(ctx, "SELECT id, organization_id, email, role, expires_at, used_at FROM auth.invitation_by_token($1)",
		tokenHash(token)).Scan(&inv.ID, &inv.OrganizationID, &inv.Email, &inv.Role, &inv.ExpiresAt, &inv.UsedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, Organization{}, ErrInvitationInvalid
	}
	if err != nil {
		return User{}, Organization{}, err
	}
	if inv.UsedAt != nil || s.clock.Now().After(inv.ExpiresAt) || !equalFoldEmail(inv.Email, u.Email) {
		return User{}, Organization{}, ErrInvitationInvalid
	}
	u.OrganizationID, u.Role = inv.OrganizationID, inv.Role
	var org Organization
	err = pg.InOrg(ctx, s.db, inv.OrganizationID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE auth.invitations SET used_at = now() WHERE id = $1 AND used_at IS NULL", inv.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return ErrInvitationInvalid // spent by a concurrent registration
		}
		var active bool
		if err := tx.QueryRow(ctx, "SELECT id, name, plan_type, active FROM auth.organizations WHERE id = $1", inv.OrganizationID).
			Scan(&org.ID, &org.Name, &org.PlanType, &active); err != nil {
			return err
		}
		if !active {
			return ErrAccountDisabled
		}
		if err := passwordRefused(ctx, tx, inv.OrganizationID, inv.Role); errors.Is(err, ErrSSORequired) {
			return ErrSSOInvitation
		} else if err != nil {
			return err
		}
		return s.insertUser(ctx, tx, u, passwordHash)
	})
	return u, org, err
}

// loginCandidate is a user whose email matches a login attempt.
type loginCandidate struct {
	ID, OrganizationID, PasswordHash string
	Active                           bool
}

// LoginCandidates finds every account with email, across organizations.
func (s *Store) LoginCandidates(ctx context.Context, email string) ([]loginCandidate, error) {
	rows, err := s.db.Query(ctx, "SELECT id, organization_id, password_hash, active FROM auth.login_candidates($1)", email)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (loginCandidate, error) {
		var c loginCandidate
		return c, r.Scan(&c.ID, &c.OrganizationID, &c.PasswordHash, &c.Active)
	})
}

// ReplacePasswordHash stores hash as the user's password hash if it is
// still old: a concurrent login that replaced it first keeps its own.
func (s *Store) ReplacePasswordHash(ctx context.Context, orgID, userID, old, hash string) error {
	return pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE auth.users SET password_hash = $3, updated_at = $4 WHERE id = $1 AND password_hash = $2",
			userID, old, hash, s.clock.Now())
		return err
	})
}

// GetUser loads a member of org.
func (s *Store) GetUser(ctx context.Context, orgID, userID string) (User, error) {
	var u User
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		return scanUser(tx.QueryRow(ctx, "SELECT "+userColumns+" FROM auth.users WHERE id = $1", userID), &u)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrUserNotFound
	}
	return u, err
}

// UserFilter narrows a user list; zero values do not filter.
type UserFilter struct {
	Role   string
	Active *bool
	// Manager, when set, keeps the list to that manager and the members
	// of the teams they manage.
	Manager string
}

// ListUsers lists the members of org that f selects, by name.
func (s *Store) ListUsers(ctx context.Context, orgID string, f UserFilter, req page.Request) ([]User, *page.Cursor, error) {
	var rows []page.Keyed[User]
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		rs, err := tx.Query(ctx, "SELECT "+userColumns+", lower(name) FROM auth.users"+
			" WHERE (NOT $1 OR (lower(name), id) > ($2, $3::uuid)) AND ($5 = '' OR role = $5) AND ($6::boolean IS NULL OR active = $6)"+
			" AND ($7 = '' OR id::text = $7 OR id IN (SELECT tm.user_id FROM auth.team_members mine JOIN auth.team_members tm ON tm.team_id = mine.team_id"+
			" WHERE mine.user_id::text = $7 AND mine.role = 'manager'))"+
			" ORDER BY lower(name), id LIMIT $4", append(page.Args(req), f.Role, f.Active, f.Manager)...)
		if err != nil {
			return err
		}
		rows, err = pgx.CollectRows(rs, func(r pgx.CollectableRow) (page.Keyed[User], error) {
			var row page.Keyed[User]
			return row, scanUser(r, &row.Item, &row.Key)
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	users, next := page.TrimKeyed(rows, req, func(u User) string { return u.ID })
	return users, next, nil
}

// UpdateUser applies change to a member of org under a row lock, keeping
// at least one active admin. A change of role or of the active state
// raises the token version, so that the user's tokens stop carrying the
// old role within a poll of every service; a deactivated user's tokens
// are refused outright until reactivated.
func (s *Store) UpdateUser(ctx context.Context, orgID, userID string, change func(*User)) (User, error) {
	var u User
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		if err := scanUser(tx.QueryRow(ctx, "SELECT "+userColumns+" FROM auth.users WHERE id = $1 FOR UPDATE", userID), &u); err != nil {
			return err
		}
		before := u
		change(&u)
		if before.Role == authn.RoleAdmin && before.Active && (u.Role != authn.RoleAdmin || !u.Active) {
			if err := anotherActiveAdmin(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		// A raised version is the caller signing out everywhere.
		signOut := u.TokenVersion != before.TokenVersion
		revoked := signOut || u.Role != before.Role || u.Active != before.Active
		if revoked {
			u.TokenVersion = before.TokenVersion + 1
		}
		// Deactivation and signing out everywhere end the sessions too,
		// so that no refresh brings a token back; a role change keeps
		// them, and their next refresh carries the new role.
		if signOut || (before.Active && !u.Active) {
			if err := s.closeSessions(ctx, tx, u.ID, nil); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE auth.users SET name = $2, role = $3, active = $4, token_version = $5, updated_at = $6 WHERE id = $1",
			u.ID, u.Name, u.Role, u.Active, u.TokenVersion, s.clock.Now()); err != nil {
			return err
		}
		if revoked {
			if err := revoke(ctx, tx, authn.Revocation{Kind: authn.RevokeUser, Subject: u.ID, Blocked: !u.Active, MinVersion: u.TokenVersion}); err != nil {
				return err
			}
		}
		if err := s.auditUserChange(ctx, tx, before, u, signOut); err != nil {
			return err
		}
		if u.Name == before.Name && u.Role == before.Role {
			return nil
		}
		return s.enqueueUserEvent(ctx, tx, events.TypeUserUpdated, u)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrUserNotFound
	}
	return u, err
}

// anotherActiveAdmin is ErrLastAdmin unless an active admin other than
// userID remains. Admins lock their rows in id order, so that two admins
// demoting or removing each other at once cannot both pass.
func anotherActiveAdmin(ctx context.Context, tx pgx.Tx, userID string) error {
	var others int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM auth.users WHERE role = 'admin' AND active AND id <> $1 ORDER BY id FOR UPDATE) a", userID).Scan(&others); err != nil {
		return err
	}
	if others == 0 {
		return ErrLastAdmin
	}
	return nil
}

// RemoveUser deletes a member of org, keeping at least one active admin:
// their sessions end, their tokens are refused everywhere as a
// deactivated member's are, mail still queued for them is dropped, and
// user.removed tells the other services whether to erase their data.
func (s *Store) RemoveUser(ctx context.Context, orgID, userID string, erase bool) error {
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		var u User
		if err := scanUser(tx.QueryRow(ctx, "SELECT "+userColumns+" FROM auth.users WHERE id = $1 FOR UPDATE", userID), &u); err != nil {
			return err
		}
		if u.Role == authn.RoleAdmin && u.Active {
			if err := anotherActiveAdmin(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		if err := s.closeSessions(ctx, tx, u.ID, nil); err != nil {
			return err
		}
		// The revocation outlives the row: a token of the removed member
		// is refused for as long as it could be presented.
		if err := revoke(ctx, tx, authn.Revocation{Kind: authn.RevokeUser, Subject: u.ID, Blocked: true, MinVersion: u.TokenVersion + 1}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM auth.mail_outbox WHERE organization_id = $1 AND lower(recipient) = lower($2)", orgID, u.Email); err != nil {
			return err
		}
		if erase {
			// What the outbox still holds of the member (user.created and
			// user.updated carry their email and name) is never published:
			// the erasure's own event, enqueued below, carries ids only.
			// The outbox has no row-level security: the organization is
			// matched on the envelope.
			if _, err := tx.Exec(ctx, "DELETE FROM auth.outbox WHERE payload->>'organization_id' = $1 AND payload->'data'->>'user_id' = $2"+
				" AND payload->>'type' = ANY($3)", orgID, u.ID, []string{events.TypeUserCreated, events.TypeUserUpdated}); err != nil {
				return err
			}
		}
		// Their memberships go with the row; the managers of their teams
		// stop seeing them, even what is kept of their data.
		var managers []string
		if err := tx.QueryRow(ctx, "SELECT coalesce(array_agg(DISTINCT mgr.user_id::text), '{}') FROM auth.team_members mine"+
			" JOIN auth.team_members mgr ON mgr.team_id = mine.team_id AND mgr.role = 'manager' WHERE mine.user_id = $1", u.ID).Scan(&managers); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM auth.users WHERE id = $1", u.ID); err != nil {
			return err
		}
		if err := rescope(ctx, tx, orgID, append(managers, u.ID)); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, orgID, AuditRemoved, auditSubjectUser, &u.ID, map[string]any{"email": u.Email, "erase_data": erase}); err != nil {
			return err
		}
		ev, err := events.New(s.clock.Now(), source, events.TypeUserRemoved, orgID, u.ID,
			events.UserRemoved{UserID: u.ID, OrganizationID: orgID, EraseData: erase})
		if err != nil {
			return err
		}
		return outbox.Enqueue(ctx, tx, OutboxTable, ev)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrUserNotFound
	}
	return err
}

// PasswordHash returns a member's password hash.
func (s *Store) PasswordHash(ctx context.Context, orgID, userID string) (string, error) {
	var hash string
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT password_hash FROM auth.users WHERE id = $1 AND active", userID).Scan(&hash)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrUserNotFound
	}
	return hash, err
}

// SetPassword stores a member's new password hash and raises the token
// version: whoever held the old password holds no working token after.
func (s *Store) SetPassword(ctx context.Context, orgID, userID, hash string) (User, error) {
	var u User
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) (err error) {
		if u, err = s.setPassword(ctx, tx, userID, hash); err != nil {
			return err
		}
		return s.audit(ctx, tx, orgID, AuditPasswordChanged, auditSubjectUser, &u.ID, nil)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrUserNotFound
	}
	return u, err
}

// setPassword is SetPassword within tx; an inactive or unknown user is
// pgx.ErrNoRows.
func (s *Store) setPassword(ctx context.Context, tx pgx.Tx, userID, hash string) (User, error) {
	var u User
	err := scanUser(tx.QueryRow(ctx, "UPDATE auth.users SET password_hash = $2, token_version = token_version + 1, updated_at = $3"+
		" WHERE id = $1 AND active RETURNING "+userColumns, userID, hash, s.clock.Now()), &u)
	if err != nil {
		return u, err
	}
	if err := s.closeSessions(ctx, tx, u.ID, nil); err != nil {
		return u, err
	}
	return u, revoke(ctx, tx, authn.Revocation{Kind: authn.RevokeUser, Subject: u.ID, MinVersion: u.TokenVersion})
}

// CreatePasswordReset stores a reset of a member's password by the hash
// of token, and queues the mail compose writes for them in the same
// transaction. A member whose password login refuses (passwordRefused)
// gets no reset: compose writes them, told so by sso, how to sign in
// instead.
func (s *Store) CreatePasswordReset(ctx context.Context, orgID, userID, token string, expires time.Time,
	compose func(orgName string, sso bool) (subject, body string)) error {
	return pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		var email, orgName, role string
		if err := tx.QueryRow(ctx, "SELECT u.email, o.name, u.role FROM auth.users u JOIN auth.organizations o ON o.id = u.organization_id WHERE u.id = $1",
			userID).Scan(&email, &orgName, &role); err != nil {
			return err
		}
		err := passwordRefused(ctx, tx, orgID, role)
		if errors.Is(err, ErrSSORequired) {
			subject, body := compose(orgName, true)
			return s.queueMail(ctx, tx, orgID, email, subject, body)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO auth.password_resets (token_hash, organization_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
			tokenHash(token), orgID, userID, s.clock.Now(), expires); err != nil {
			return err
		}
		subject, body := compose(orgName, false)
		return s.queueMail(ctx, tx, orgID, email, subject, body)
	})
}

// PasswordResetOrganization finds the organization of a reset token.
func (s *Store) PasswordResetOrganization(ctx context.Context, token string) (string, error) {
	var org *string
	if err := s.db.QueryRow(ctx, "SELECT auth.password_reset_organization($1)::text", tokenHash(token)).Scan(&org); err != nil {
		return "", err
	}
	if org == nil {
		return "", ErrResetTokenInvalid
	}
	return *org, nil
}

// ResetPassword spends a reset token of org, with every other link of its
// user still open, and sets the user's new password hash. The entry it
// records names the user as the actor, since opening the link proved
// their mailbox, and the client that opened it.
func (s *Store) ResetPassword(ctx context.Context, orgID, token, hash string, client Client) (User, error) {
	var u User
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		var userID string
		var expires time.Time
		var used *time.Time
		if err := tx.QueryRow(ctx, "SELECT user_id, expires_at, used_at FROM auth.password_resets WHERE token_hash = $1 FOR UPDATE",
			tokenHash(token)).Scan(&userID, &expires, &used); err != nil {
			return err
		}
		now := s.clock.Now()
		if used != nil || !now.Before(expires) {
			return ErrResetTokenInvalid
		}
		// The organization may have become "SSO only" since the link was
		// mailed.
		var role string
		if err := tx.QueryRow(ctx, "SELECT role FROM auth.users WHERE id = $1", userID).Scan(&role); err != nil {
			return err
		}
		if err := passwordRefused(ctx, tx, orgID, role); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE auth.password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL", userID, now); err != nil {
			return err
		}
		var err error
		if u, err = s.setPassword(ctx, tx, userID, hash); errors.Is(err, pgx.ErrNoRows) {
			return ErrAccountDisabled
		}
		if err != nil {
			return err
		}
		return s.auditAs(ctx, tx, &u.ID, orgID, AuditPasswordReset, auditSubjectUser, &u.ID,
			map[string]any{"ip": client.IP, "user_agent": client.UserAgent})
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrResetTokenInvalid
	}
	return u, err
}

// sendNextMail locks the oldest due message of the mail outbox and hands
// it to send: a sent message is deleted, a failed one put off (5 s,
// doubled per attempt, at most an hour) or, at its last attempt, dropped
// with errMailAbandoned. It reports whether a message was due; send's
// error is returned once the outcome is stored.
func (s *Store) sendNextMail(ctx context.Context, maxAttempts int, send func(context.Context, queuedMail) error) (bool, error) {
	found := false
	var sendErr error
	err := pg.InTx(ctx, s.db, func(tx pgx.Tx) error {
		var m queuedMail
		var org string
		var sealed []byte
		err := tx.QueryRow(ctx, "SELECT id, organization_id::text, recipient, subject, body, attempts FROM auth.mail_outbox WHERE next_attempt_at <= now()"+
			" ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED").Scan(&m.ID, &org, &m.To, &m.Subject, &sealed, &m.AttemptsBeforeThis)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		// A body that does not open (sealed with a key this replica does
		// not hold) counts as a failed attempt: another replica, or this
		// one restarted with the key, may still send it.
		body, _, err := s.cipher.OpenSecret(fmt.Sprintf("the body of queued mail %d", m.ID), mailAD(org, m.To), sealed)
		if err == nil {
			m.Body = string(body)
			sendErr = send(ctx, m)
		} else {
			sendErr = err
		}
		switch {
		case sendErr == nil:
		case m.AttemptsBeforeThis+1 >= maxAttempts:
			sendErr = fmt.Errorf("%w (%d attempts): %v", errMailAbandoned, maxAttempts, sendErr)
		default:
			_, err := tx.Exec(ctx, "UPDATE auth.mail_outbox SET attempts = attempts + 1, last_error = $2,"+
				" next_attempt_at = now() + make_interval(secs => least(5 * power(2, attempts), 3600)) WHERE id = $1", m.ID, sendErr.Error())
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM auth.mail_outbox WHERE id = $1", m.ID)
		return err
	})
	if err != nil {
		return found, err
	}
	return found, sendErr
}

// newSecret is a random token for a client to hold; only its hash is
// stored.
func newSecret() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// addRefreshToken stores a new refresh token of session sid and returns it.
func (s *Store) addRefreshToken(ctx context.Context, tx pgx.Tx, orgID, sid string) (string, error) {
	token, err := newSecret()
	if err != nil {
		return "", err
	}
	_, err = tx.Exec(ctx, "INSERT INTO auth.refresh_tokens (token_hash, session_id, organization_id, created_at) VALUES ($1, $2, $3, $4)",
		tokenHash(token), sid, orgID, s.clock.Now())
	return token, err
}

// OpenSession starts a session of u and returns its id and first refresh
// token.
func (s *Store) OpenSession(ctx context.Context, u User, login *Login) (sid, refresh string, err error) {
	sid = newID()
	err = pg.InOrg(ctx, s.db, u.OrganizationID, func(tx pgx.Tx) error {
		now := s.clock.Now()
		if _, err := tx.Exec(ctx, "INSERT INTO auth.sessions (id, organization_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
			sid, u.OrganizationID, u.ID, now, now.Add(s.refreshTTL)); err != nil {
			return err
		}
		if login != nil {
			if err := s.auditAs(ctx, tx, &u.ID, u.OrganizationID, AuditLoginSucceeded, auditSubjectUser, &u.ID,
				map[string]any{"method": login.Method, "ip": login.IP, "user_agent": login.UserAgent, "session_id": sid}); err != nil {
				return err
			}
		}
		refresh, err = s.addRefreshToken(ctx, tx, u.OrganizationID, sid)
		return err
	})
	return sid, refresh, err
}

// Refresh spends a refresh token: it returns the session's user as now
// stored, the session id and the next refresh token. A token presented a
// second time revokes its session, since one of its two holders is not
// its owner.
func (s *Store) Refresh(ctx context.Context, token string) (u User, sid, next string, err error) {
	hash := tokenHash(token)
	var org *string
	if err := s.db.QueryRow(ctx, "SELECT auth.refresh_token_organization($1)::text", hash).Scan(&org); err != nil {
		return u, "", "", err
	}
	if org == nil {
		return u, "", "", ErrRefreshInvalid
	}
	reused := false
	err = pg.InOrg(ctx, s.db, *org, func(tx pgx.Tx) error {
		var used, revoked *time.Time
		var expires time.Time
		var userID string
		if err := tx.QueryRow(ctx, `SELECT t.session_id, t.used_at, s.user_id, s.revoked_at, s.expires_at
			FROM auth.refresh_tokens t JOIN auth.sessions s ON s.id = t.session_id WHERE t.token_hash = $1 FOR UPDATE OF t, s`, hash).
			Scan(&sid, &used, &userID, &revoked, &expires); err != nil {
			return err
		}
		now := s.clock.Now()
		switch {
		case revoked != nil || !now.Before(expires):
			return ErrRefreshInvalid
		case used != nil:
			reused = true
			return s.closeSessions(ctx, tx, userID, &sid)
		}
		var orgActive bool
		if err := scanUser(tx.QueryRow(ctx, "SELECT "+userColumns+", (SELECT active FROM auth.organizations WHERE id = organization_id) FROM auth.users WHERE id = $1",
			userID), &u, &orgActive); err != nil {
			return err
		}
		if !u.Active || !orgActive {
			return ErrAccountDisabled
		}
		if _, err := tx.Exec(ctx, "UPDATE auth.refresh_tokens SET used_at = $2 WHERE token_hash = $1", hash, now); err != nil {
			return err
		}
		next, err = s.addRefreshToken(ctx, tx, u.OrganizationID, sid)
		return err
	})
	switch {
	case reused:
		return User{}, "", "", ErrRefreshReused
	case errors.Is(err, pgx.ErrNoRows):
		return User{}, "", "", ErrRefreshInvalid
	}
	return u, sid, next, err
}

// CloseSession ends one session of a user, its user signing out of it,
// and records that in the audit log unless it had ended already.
func (s *Store) CloseSession(ctx context.Context, orgID, userID, sid string) error {
	return pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		var live bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM auth.sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL)",
			sid, userID).Scan(&live); err != nil || !live {
			return err
		}
		if err := s.closeSessions(ctx, tx, userID, &sid); err != nil {
			return err
		}
		return s.audit(ctx, tx, orgID, AuditSignedOut, auditSubjectUser, &userID, map[string]any{"session_id": sid})
	})
}

// closeSessions ends the user's live sessions (only one when only is set)
// and revokes their access tokens until the last of them has expired.
func (s *Store) closeSessions(ctx context.Context, tx pgx.Tx, userID string, only *string) error {
	now := s.clock.Now()
	rows, err := tx.Query(ctx, "UPDATE auth.sessions SET revoked_at = $3 WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id = $2::uuid) RETURNING id::text",
		userID, only, now)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	// Verifiers allow a few seconds of clock skew past expiry.
	until := now.Add(s.tokenTTL + time.Minute)
	for _, id := range ids {
		if err := revoke(ctx, tx, authn.Revocation{Kind: authn.RevokeSession, Subject: id, Blocked: true, ExpiresAt: &until}); err != nil {
			return err
		}
	}
	return nil
}

// Invitation is what an admin gets back; Token is shown only once.
type Invitation struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Email          string    `json:"email"`
	Role           string    `json:"role"`
	ExpiresAt      time.Time `json:"expires_at"`
	Token          string    `json:"token"`
	// Emailed is true when the invitation was queued for mail to Email.
	Emailed bool `json:"emailed"`
}

// CreateInvitation stores an invitation by the hash of its token and,
// when compose is set, queues the mail it writes to the invited person in
// the same transaction.
func (s *Store) CreateInvitation(ctx context.Context, inv Invitation, createdBy string, compose func(orgName string, sso bool) (subject, body string)) error {
	return pg.InOrg(ctx, s.db, inv.OrganizationID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO auth.invitations (id, organization_id, email, role, token_hash, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			inv.ID, inv.OrganizationID, inv.Email, inv.Role, tokenHash(inv.Token), createdBy, inv.ExpiresAt)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, inv.OrganizationID, AuditInvited, auditSubjectInvitation, &inv.ID, map[string]any{"email": inv.Email, "role": inv.Role}); err != nil || compose == nil {
			return err
		}
		var orgName string
		if err := tx.QueryRow(ctx, "SELECT name FROM auth.organizations WHERE id = $1", inv.OrganizationID).Scan(&orgName); err != nil {
			return err
		}
		// Where the invitee will sign in through the provider, the mail
		// sends them there rather than to choose a password.
		refused := passwordRefused(ctx, tx, inv.OrganizationID, inv.Role)
		if refused != nil && !errors.Is(refused, ErrSSORequired) {
			return refused
		}
		subject, body := compose(orgName, refused != nil)
		return s.queueMail(ctx, tx, inv.OrganizationID, inv.Email, subject, body)
	})
}

// CreateAdoptionToken stores an adoption token by the hash of its token.
func (s *Store) CreateAdoptionToken(ctx context.Context, at AdoptionToken, createdBy string) error {
	return pg.InOrg(ctx, s.db, at.OrganizationID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO auth.adoption_tokens (id, organization_id, token_hash, created_by, expires_at) VALUES ($1, $2, $3, $4, $5)",
			at.ID, at.OrganizationID, tokenHash(at.Token), createdBy, at.ExpiresAt)
		return err
	})
}

// spendAdoptionToken spends token for the transaction's organization
// (row-level security hides every other organization's tokens) on behalf
// of the resource tenantUID, and records that resource as the manager.
func (s *Store) spendAdoptionToken(ctx context.Context, tx pgx.Tx, id, token, tenantUID string) error {
	if token == "" {
		return ErrAdoptionTokenRequired
	}
	now := s.clock.Now()
	tag, err := tx.Exec(ctx, "UPDATE auth.adoption_tokens SET used_at = $2, used_by = $3 WHERE token_hash = $1 AND used_at IS NULL AND expires_at >= $2",
		tokenHash(token), now, tenantUID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return ErrAdoptionTokenInvalid
	}
	_, err = tx.Exec(ctx, "UPDATE auth.organizations SET managed_by = $2 WHERE id = $1", id, tenantUID)
	return err
}

// revoke records r in the revocation list every service polls. Writers
// take turns through a lock, so that rows commit in the order of their seq
// and a poll that has read a seq never misses a lower one committed later.
func revoke(ctx context.Context, tx pgx.Tx, r authn.Revocation) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(7366254102)"); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO auth.revocations (kind, subject, blocked, min_version, expires_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (kind, subject) DO UPDATE SET blocked = EXCLUDED.blocked, min_version = EXCLUDED.min_version,
			expires_at = EXCLUDED.expires_at, seq = nextval('auth.revocations_seq')`,
		r.Kind, r.Subject, r.Blocked, r.MinVersion, r.ExpiresAt)
	return err
}

// deleteExpiredRevocations deletes at most limit revocations that expired
// before before, and returns how many. SKIP LOCKED lets replicas sweeping
// at once take different rows instead of waiting on each other.
func (s *Store) deleteExpiredRevocations(ctx context.Context, before time.Time, limit int) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM auth.revocations WHERE (kind, subject) IN (
		SELECT kind, subject FROM auth.revocations WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		before, limit)
	return tag.RowsAffected(), err
}

func newID() string { return uuid.NewString() }

// ensureSigningKey stores the key newKey makes unless some key retires
// after freshUntil, and keeps every key published for at least published
// after it retires (keys made before device tokens, or before a longer
// DEVICE_TOKEN_TTL, are kept longer). The advisory lock makes replicas
// refreshing at once add one key, not one each.
func (s *Store) ensureSigningKey(ctx context.Context, freshUntil time.Time, published time.Duration, newKey func() (signingKey, error)) error {
	return pg.InTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(7366254101)"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE auth.signing_keys SET expire_at = retire_at + $1 WHERE expire_at < retire_at + $1 AND expire_at > $2",
			published, s.clock.Now()); err != nil {
			return err
		}
		var fresh bool
		err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM auth.signing_keys WHERE retire_at > $1)", freshUntil).Scan(&fresh)
		if err != nil || fresh {
			return err
		}
		k, err := newKey()
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO auth.signing_keys (kid, private_key, retire_at, expire_at) VALUES ($1, $2, $3, $4)",
			k.kid, s.cipher.Seal(k.kid, k.priv.Seed()), k.retireAt, k.expireAt)
		return err
	})
}

// resealSigningKeys rewrites every signing key not sealed with the current
// cipher key (stored before encryption, or under a previous key) and
// returns how many it rewrote. Replicas starting at once take turns
// through the signing keys' lock.
func (s *Store) resealSigningKeys(ctx context.Context) (int, error) {
	n := 0
	err := pg.InTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(7366254101)"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT kid, private_key FROM auth.signing_keys")
		if err != nil {
			return err
		}
		type stored struct {
			kid  string
			seed []byte
		}
		stale, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (stored, error) {
			var k stored
			var raw []byte
			if err := r.Scan(&k.kid, &raw); err != nil {
				return k, err
			}
			seed, current, err := openSeed(s.cipher, k.kid, raw)
			if err == nil && !current {
				k.seed = seed
			}
			return k, err
		})
		if err != nil {
			return err
		}
		for _, k := range stale {
			if k.seed == nil {
				continue
			}
			if _, err := tx.Exec(ctx, "UPDATE auth.signing_keys SET private_key = $2 WHERE kid = $1", k.kid, s.cipher.Seal(k.kid, k.seed)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// signingKeys loads the keys not expired at now, newest first.
func (s *Store) signingKeys(ctx context.Context, now time.Time) ([]signingKey, error) {
	rows, err := s.db.Query(ctx, "SELECT kid, private_key, retire_at, expire_at FROM auth.signing_keys WHERE expire_at > $1 ORDER BY created_at DESC", now)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (signingKey, error) {
		var k signingKey
		var raw []byte
		if err := r.Scan(&k.kid, &raw, &k.retireAt, &k.expireAt); err != nil {
			return k, err
		}
		seed, _, err := openSeed(s.cipher, k.kid, raw)
		if err != nil {
			return k, fmt.Errorf("auth: %w", err)
		}
		if len(seed) != ed25519.SeedSize {
			return k, fmt.Errorf("auth: signing key %s is malformed", k.kid)
		}
		k.priv = ed25519.NewKeyFromSeed(seed)
		return k, nil
	})
}

// GetTenant reports the organization id as the operator sees it.
func (s *Store) GetTenant(ctx context.Context, id string) (TenantResponse, error) {
	var resp TenantResponse
	err := pg.InOrg(ctx, s.db, id, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT id, name, plan_type, active, tenant_generation, coalesce(managed_by::text, '') FROM auth.organizations WHERE id = $1", id).
			Scan(&resp.Organization.ID, &resp.Organization.Name, &resp.Organization.PlanType, &resp.Active, &resp.Generation, &resp.ManagedBy)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return resp, errTenantNotFound
	}
	return resp, err
}

// UpsertTenant creates or updates the organization, creates the bootstrap
// admin once, and emits tenant.updated when the generation is newer than
// the one already applied.
func (s *Store) UpsertTenant(ctx context.Context, id string, req TenantRequest, adminHash string) (TenantResponse, error) {
	resp := TenantResponse{Organization: Organization{ID: id, Name: req.Name, PlanType: req.PlanType}, Active: req.Active, ManagedBy: req.TenantUID}
	err := pg.InOrg(ctx, s.db, id, func(tx pgx.Tx) error {
		var gen int64
		var managedBy *string
		wasActive := true
		err := tx.QueryRow(ctx, "SELECT tenant_generation, active, managed_by::text FROM auth.organizations WHERE id = $1 FOR UPDATE", id).Scan(&gen, &wasActive, &managedBy)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// A new organization takes its resource's uid: an ID the
			// resource names is adopted, never created.
			if id != req.TenantUID {
				return errTenantNotFound
			}
			resp.Created = true
			if err := s.insertOrganization(ctx, tx, resp.Organization); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE auth.organizations SET managed_by = $1 WHERE id = $1", id); err != nil {
				return err
			}
		case err != nil:
			return err
		case managedBy == nil || *managedBy != req.TenantUID:
			// Checked before anything changes: without the token nothing
			// of the organization is touched.
			if err := s.spendAdoptionToken(ctx, tx, id, req.AdoptionToken, req.TenantUID); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, id, AuditAdopted, auditSubjectOrg, &id,
				map[string]any{"tenant_uid": req.TenantUID, "previous_tenant_uid": managedBy}); err != nil {
				return err
			}
		}
		// The settings as the admins saw them, for the entry of what the
		// operator changes; a new organization had none.
		var before *OrganizationSettings
		if !resp.Created {
			o, err := organizationSettings(ctx, tx, id, false)
			if err != nil {
				return err
			}
			before = &o
		}
		if req.Admin != nil {
			err := tx.QueryRow(ctx, "SELECT id FROM auth.users WHERE lower(email) = lower($1)", req.Admin.Email).Scan(&resp.AdminID)
			if errors.Is(err, pgx.ErrNoRows) {
				resp.AdminID, resp.AdminCreated = newID(), true
				err = s.insertUser(ctx, tx, User{ID: resp.AdminID, Email: req.Admin.Email, Name: req.Admin.Name,
					Role: "admin", OrganizationID: id}, adminHash)
				if err == nil {
					err = s.audit(ctx, tx, id, AuditProvisioned, auditSubjectUser, &resp.AdminID, map[string]any{"email": req.Admin.Email, "role": "admin"})
				}
			}
			if err != nil {
				return err
			}
		}
		resp.Generation = max(gen, req.Generation)
		if req.Generation <= gen && !resp.Created {
			return nil
		}
		settings := events.TenantUpdated{OrganizationID: id, TenantSettings: req.TenantSettings}
		raw, err := json.Marshal(settings)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE auth.organizations SET name = $2, plan_type = $3, active = $4, tenant_settings = $5, tenant_generation = $6, updated_at = now() WHERE id = $1",
			id, req.Name, req.PlanType, req.Active, raw, resp.Generation); err != nil {
			return err
		}
		if req.Active != wasActive {
			if err := revoke(ctx, tx, authn.Revocation{Kind: authn.RevokeOrganization, Subject: id, Blocked: !req.Active}); err != nil {
				return err
			}
		}
		after, err := organizationSettings(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, id, AuditSettingsChanged, auditSubjectOrg, &id,
			map[string]any{"before": before, "after": after, "active": req.Active, "generation": resp.Generation}); err != nil {
			return err
		}
		ev, err := events.New(s.clock.Now(), source, events.TypeTenantUpdated, id, id, settings)
		if err != nil {
			return err
		}
		return outbox.Enqueue(ctx, tx, OutboxTable, ev)
	})
	return resp, err
}

// OrganizationSettings are an organization's settings as its admins see
// them. A zero number is the installation's default.
type OrganizationSettings struct {
	ID                       string `json:"id"`
	Name                     string `json:"name"`
	PlanType                 string `json:"plan_type"`
	TimeZone                 string `json:"time_zone"`
	InactiveThresholdSeconds int    `json:"inactive_threshold_seconds"`
	IdleThresholdSeconds     int    `json:"idle_threshold_seconds"`
	OvertimeThresholdHours   int    `json:"overtime_threshold_hours"`
	ActivityWindowDays       int    `json:"activity_window_days"`
	RetentionMonths          int    `json:"retention_months"`
	// Managed is true when a WorkPulseTenant declares the settings: they
	// change there, never through the API.
	Managed bool `json:"managed"`
	active  bool
}

// organizationSettings reads the settings of the transaction's
// organization, locked for update when forUpdate. A managed
// organization's come from what the operator last declared.
func organizationSettings(ctx context.Context, tx pgx.Tx, id string, forUpdate bool) (OrganizationSettings, error) {
	q := "SELECT id, name, plan_type, active, time_zone, coalesce(inactive_threshold_seconds, 0), coalesce(idle_threshold_seconds, 0)," +
		" coalesce(overtime_threshold_hours, 0), coalesce(activity_window_days, 0), coalesce(retention_months, 0)," +
		" tenant_settings, tenant_generation FROM auth.organizations WHERE id = $1"
	if forUpdate {
		q += " FOR UPDATE"
	}
	var o OrganizationSettings
	var declared []byte
	var gen int64
	err := tx.QueryRow(ctx, q, id).Scan(&o.ID, &o.Name, &o.PlanType, &o.active, &o.TimeZone, &o.InactiveThresholdSeconds,
		&o.IdleThresholdSeconds, &o.OvertimeThresholdHours, &o.ActivityWindowDays, &o.RetentionMonths, &declared, &gen)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, apierr.ErrNotFound
	}
	if err != nil {
		return o, err
	}
	o.Managed = declared != nil || gen > 0
	if declared != nil {
		var t events.TenantUpdated
		if err := json.Unmarshal(declared, &t); err != nil {
			return o, err
		}
		o.TimeZone = cmp.Or(t.TimeZone, "UTC")
		o.InactiveThresholdSeconds, o.IdleThresholdSeconds = t.InactiveThresholdSeconds, t.IdleThresholdSeconds
		o.OvertimeThresholdHours, o.ActivityWindowDays, o.RetentionMonths = t.OvertimeThresholdHours, t.ActivityWindowDays, t.RetentionMonths
	}
	return o, nil
}

// OrganizationSettings loads the settings of organization id.
func (s *Store) OrganizationSettings(ctx context.Context, id string) (OrganizationSettings, error) {
	var o OrganizationSettings
	err := pg.InOrg(ctx, s.db, id, func(tx pgx.Tx) (err error) {
		o, err = organizationSettings(ctx, tx, id, false)
		return err
	})
	return o, err
}

// UpdateOrganizationSettings applies change to the settings of an
// organization no WorkPulseTenant manages, stores them and emits
// tenant.updated. Its generation stays 0: the consumers apply equal
// generations in order, and the first generation a WorkPulseTenant sends
// taking the organization over wins over every change made here.
func (s *Store) UpdateOrganizationSettings(ctx context.Context, id string, change func(*OrganizationSettings)) (OrganizationSettings, error) {
	var o OrganizationSettings
	err := pg.InOrg(ctx, s.db, id, func(tx pgx.Tx) error {
		var err error
		if o, err = organizationSettings(ctx, tx, id, true); err != nil {
			return err
		}
		if o.Managed {
			return ErrOrganizationManaged
		}
		before := o
		change(&o)
		// PostgreSQL decides every organization-local day, so its zone
		// names are the ones to accept.
		var known bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)", o.TimeZone).Scan(&known); err != nil {
			return err
		}
		if !known {
			return apierr.InvalidField("time_zone", "must be an IANA time zone such as Europe/Berlin", validate.Echo(o.TimeZone))
		}
		if _, err := tx.Exec(ctx, "UPDATE auth.organizations SET time_zone = $2, inactive_threshold_seconds = nullif($3, 0),"+
			" idle_threshold_seconds = nullif($4, 0), overtime_threshold_hours = nullif($5, 0), activity_window_days = nullif($6, 0),"+
			" retention_months = nullif($7, 0), updated_at = $8 WHERE id = $1",
			id, o.TimeZone, o.InactiveThresholdSeconds, o.IdleThresholdSeconds, o.OvertimeThresholdHours, o.ActivityWindowDays,
			o.RetentionMonths, s.clock.Now()); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, id, AuditSettingsChanged, auditSubjectOrg, &id, map[string]any{"before": before, "after": o}); err != nil {
			return err
		}
		ev, err := events.New(s.clock.Now(), source, events.TypeTenantUpdated, id, id, events.TenantUpdated{OrganizationID: id,
			TenantSettings: events.TenantSettings{Name: o.Name, PlanType: o.PlanType, TimeZone: o.TimeZone, Active: o.active,
				InactiveThresholdSeconds: o.InactiveThresholdSeconds, IdleThresholdSeconds: o.IdleThresholdSeconds,
				OvertimeThresholdHours: o.OvertimeThresholdHours, ActivityWindowDays: o.ActivityWindowDays, RetentionMonths: o.RetentionMonths}})
		if err != nil {
			return err
		}
		return outbox.Enqueue(ctx, tx, OutboxTable, ev)
	})
	return o, err
}

// Team is a group of members as the API shows it.
type Team struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

const teamColumns = "id, organization_id, name, created_at, updated_at"

func scanTeam(r pgx.Row, t *Team, extra ...any) error {
	return r.Scan(append([]any{&t.ID, &t.OrganizationID, &t.Name, &t.CreatedAt, &t.UpdatedAt}, extra...)...)
}

// TeamMember is a member of a team with their role in it.
type TeamMember struct {
	UserID  string    `json:"user_id"`
	Email   string    `json:"email"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	AddedAt time.Time `json:"added_at"`
}

// Roles in a team.
const (
	TeamRoleMember  = "member"
	TeamRoleManager = "manager"
)

// CreateTeam stores a new team of org.
func (s *Store) CreateTeam(ctx context.Context, t *Team) error {
	err := pg.InOrg(ctx, s.db, t.OrganizationID, func(tx pgx.Tx) error {
		if err := scanTeam(tx.QueryRow(ctx, "INSERT INTO auth.teams (id, organization_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)"+
			" RETURNING "+teamColumns, t.ID, t.OrganizationID, t.Name, s.clock.Now()), t); err != nil {
			return err
		}
		return s.audit(ctx, tx, t.OrganizationID, AuditTeamCreated, auditSubjectTeam, &t.ID, map[string]any{"name": t.Name})
	})
	if pg.IsUniqueViolation(err, "teams_org_name_key") {
		return ErrTeamNameTaken
	}
	return err
}

// teamVisible is the condition on a team's id ($1) and a manager ($2)
// that keeps a manager to the teams they manage; an empty manager is an
// admin, who sees every team.
const teamVisible = "($2 = '' OR EXISTS (SELECT 1 FROM auth.team_members m WHERE m.team_id = $1 AND m.user_id::text = $2 AND m.role = 'manager'))"

// ListTeams lists the teams of org by name; a manager's (manager not
// empty) are the teams they manage.
func (s *Store) ListTeams(ctx context.Context, orgID, manager string, req page.Request) ([]Team, *page.Cursor, error) {
	var rows []page.Keyed[Team]
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		rs, err := tx.Query(ctx, "SELECT "+teamColumns+", lower(name) FROM auth.teams t"+
			" WHERE (NOT $1 OR (lower(name), id) > ($2, $3::uuid))"+
			" AND ($5 = '' OR EXISTS (SELECT 1 FROM auth.team_members m WHERE m.team_id = t.id AND m.user_id::text = $5 AND m.role = 'manager'))"+
			" ORDER BY lower(name), id LIMIT $4", append(page.Args(req), manager)...)
		if err != nil {
			return err
		}
		rows, err = pgx.CollectRows(rs, func(r pgx.CollectableRow) (page.Keyed[Team], error) {
			var row page.Keyed[Team]
			return row, scanTeam(r, &row.Item, &row.Key)
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	teams, next := page.TrimKeyed(rows, req, func(t Team) string { return t.ID })
	return teams, next, nil
}

// GetTeam loads a team of org that manager (empty: an admin) may see.
func (s *Store) GetTeam(ctx context.Context, orgID, id, manager string) (Team, error) {
	var t Team
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		return scanTeam(tx.QueryRow(ctx, "SELECT "+teamColumns+" FROM auth.teams WHERE id = $1 AND "+teamVisible, id, manager), &t)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrTeamNotFound
	}
	return t, err
}

// RenameTeam renames a team of org; a rename to its own name changes
// nothing and records nothing.
func (s *Store) RenameTeam(ctx context.Context, orgID, id, name string) (Team, error) {
	var t Team
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		var before string
		if err := tx.QueryRow(ctx, "SELECT name FROM auth.teams WHERE id = $1 FOR UPDATE", id).Scan(&before); err != nil {
			return err
		}
		if before == name {
			return scanTeam(tx.QueryRow(ctx, "SELECT "+teamColumns+" FROM auth.teams WHERE id = $1", id), &t)
		}
		if err := scanTeam(tx.QueryRow(ctx, "UPDATE auth.teams SET name = $2, updated_at = $3 WHERE id = $1 RETURNING "+teamColumns,
			id, name, s.clock.Now()), &t); err != nil {
			return err
		}
		return s.audit(ctx, tx, orgID, AuditTeamRenamed, auditSubjectTeam, &id, map[string]any{"before": before, "after": name})
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return t, ErrTeamNotFound
	case pg.IsUniqueViolation(err, "teams_org_name_key"):
		return t, ErrTeamNameTaken
	}
	return t, err
}

// DeleteTeam deletes a team of org with its memberships; its managers
// stop seeing its members.
func (s *Store) DeleteTeam(ctx context.Context, orgID, id string) error {
	return pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		name, managers, err := lockTeam(ctx, tx, id)
		if err != nil {
			return err
		}
		var members []string
		if err := tx.QueryRow(ctx, "SELECT coalesce(array_agg(user_id::text ORDER BY user_id), '{}') FROM auth.team_members WHERE team_id = $1", id).
			Scan(&members); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM auth.teams WHERE id = $1", id); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, orgID, AuditTeamDeleted, auditSubjectTeam, &id,
			map[string]any{"name": name, "members": members, "managers": managers}); err != nil {
			return err
		}
		return rescope(ctx, tx, orgID, managers)
	})
}

// lockTeam locks a team's row, so that changes of one team's membership
// take turns, and returns its name and managers.
func lockTeam(ctx context.Context, tx pgx.Tx, id string) (name string, managers []string, err error) {
	err = tx.QueryRow(ctx, "SELECT name, coalesce((SELECT array_agg(user_id::text ORDER BY user_id) FROM auth.team_members WHERE team_id = t.id AND role = 'manager'), '{}')"+
		" FROM auth.teams t WHERE id = $1 FOR UPDATE", id).Scan(&name, &managers)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, ErrTeamNotFound
	}
	return name, managers, err
}

// ListTeamMembers lists the members of a team of org by name; manager
// (empty: an admin) must manage the team.
func (s *Store) ListTeamMembers(ctx context.Context, orgID, teamID, manager string, req page.Request) ([]TeamMember, *page.Cursor, error) {
	var rows []page.Keyed[TeamMember]
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		var visible bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM auth.teams WHERE id = $1) AND "+teamVisible, teamID, manager).Scan(&visible); err != nil {
			return err
		}
		if !visible {
			return ErrTeamNotFound
		}
		rs, err := tx.Query(ctx, "SELECT u.id, u.email, u.name, m.role, m.created_at, lower(u.name)"+
			" FROM auth.team_members m JOIN auth.users u ON u.id = m.user_id"+
			" WHERE m.team_id = $5 AND (NOT $1 OR (lower(u.name), u.id) > ($2, $3::uuid))"+
			" ORDER BY lower(u.name), u.id LIMIT $4", append(page.Args(req), teamID)...)
		if err != nil {
			return err
		}
		rows, err = pgx.CollectRows(rs, func(r pgx.CollectableRow) (page.Keyed[TeamMember], error) {
			var row page.Keyed[TeamMember]
			m := &row.Item
			return row, r.Scan(&m.UserID, &m.Email, &m.Name, &m.Role, &m.AddedAt, &row.Key)
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	members, next := page.TrimKeyed(rows, req, func(m TeamMember) string { return m.UserID })
	return members, next, nil
}

// PutTeamMember adds a member of org to a team with role, or changes
// their role in it. Only an admin or a manager manages a team.
func (s *Store) PutTeamMember(ctx context.Context, orgID, teamID, userID, role string) (TeamMember, error) {
	m := TeamMember{UserID: userID, Role: role}
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		name, managers, err := lockTeam(ctx, tx, teamID)
		if err != nil {
			return err
		}
		var userRole string
		err = tx.QueryRow(ctx, "SELECT email, name, role FROM auth.users WHERE id = $1", userID).Scan(&m.Email, &m.Name, &userRole)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrUserNotFound
		}
		if err != nil {
			return err
		}
		if role == TeamRoleManager && userRole == authn.RoleEmployee {
			return ErrTeamManagerRole
		}
		// The team's row lock keeps the membership as read here until
		// the change commits.
		var before *string
		if err := tx.QueryRow(ctx, "SELECT (SELECT role FROM auth.team_members WHERE team_id = $1 AND user_id = $2)", teamID, userID).Scan(&before); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "INSERT INTO auth.team_members (team_id, user_id, organization_id, role, created_at) VALUES ($1, $2, $3, $4, $5)"+
			" ON CONFLICT (team_id, user_id) DO UPDATE SET role = EXCLUDED.role RETURNING created_at",
			teamID, userID, orgID, role, s.clock.Now()).Scan(&m.AddedAt); err != nil {
			return err
		}
		switch {
		case before == nil:
			err = s.audit(ctx, tx, orgID, AuditTeamMemberAdded, auditSubjectUser, &userID, map[string]any{"team_id": teamID, "team_name": name, "role": role})
		case *before != role:
			err = s.audit(ctx, tx, orgID, AuditTeamMemberRole, auditSubjectUser, &userID,
				map[string]any{"team_id": teamID, "team_name": name, "before": *before, "after": role})
		}
		if err != nil {
			return err
		}
		return rescope(ctx, tx, orgID, append(managers, userID))
	})
	return m, err
}

// RemoveTeamMember takes a member out of a team of org.
func (s *Store) RemoveTeamMember(ctx context.Context, orgID, teamID, userID string) error {
	return pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		name, managers, err := lockTeam(ctx, tx, teamID)
		if err != nil {
			return err
		}
		var role string
		err = tx.QueryRow(ctx, "DELETE FROM auth.team_members WHERE team_id = $1 AND user_id = $2 RETURNING role", teamID, userID).Scan(&role)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrTeamMemberNotFound
		}
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, orgID, AuditTeamMemberRemoved, auditSubjectUser, &userID,
			map[string]any{"team_id": teamID, "team_name": name, "role": role}); err != nil {
			return err
		}
		return rescope(ctx, tx, orgID, append(managers, userID))
	})
}

// rescope rewrites the team scope of each of the users (the managers a
// change of membership may concern) from the teams they manage now, with
// a new seq, for the services to poll. A user who manages no team gets an
// empty scope rather than no row, since a poll only learns of rows. The
// lock makes writers take turns, so that rows commit in seq order and a
// poll that has read a seq never misses a lower one committed later.
func rescope(ctx context.Context, tx pgx.Tx, orgID string, users []string) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(7366254103)"); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO auth.team_scopes (manager_id, organization_id, members)
		SELECT u, $2, coalesce((SELECT array_agg(DISTINCT tm.user_id) FROM auth.team_members mine
			JOIN auth.team_members tm ON tm.team_id = mine.team_id
			WHERE mine.user_id = u AND mine.role = 'manager' AND tm.user_id <> u), '{}')
		FROM (SELECT DISTINCT unnest($1::uuid[]) AS u) concerned
		WHERE EXISTS (SELECT 1 FROM auth.team_members WHERE user_id = u AND role = 'manager')
			OR EXISTS (SELECT 1 FROM auth.team_scopes WHERE manager_id = u)
		ON CONFLICT (manager_id) DO UPDATE SET members = EXCLUDED.members, seq = nextval('auth.team_scopes_seq')`,
		users, orgID)
	return err
}

// SSOConfig is an organization's single sign-on: its OpenID Provider, the
// client WorkPulse is registered as there, and the verified email domains
// whose people it signs in.
type SSOConfig struct {
	OrganizationID string
	IssuerURL      string
	ClientID       string
	ClientSecret   string
	Domains        []string
	// SSOOnly refuses password sign-in to the organization's members
	// other than its admins.
	SSOOnly   bool
	UpdatedAt time.Time
}

// ssoSecretAD binds a sealed client secret to its organization's row.
func ssoSecretAD(orgID string) string { return "sso:" + orgID }

func ssoSecretName(orgID string) string { return "the SSO client secret of organization " + orgID }

// SSOConfig loads the single sign-on of organization orgID.
func (s *Store) SSOConfig(ctx context.Context, orgID string) (SSOConfig, error) {
	var c SSOConfig
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) (err error) {
		c, err = s.ssoConfig(ctx, tx, orgID, false)
		return err
	})
	return c, err
}

func (s *Store) ssoConfig(ctx context.Context, tx pgx.Tx, orgID string, forUpdate bool) (SSOConfig, error) {
	q := "SELECT organization_id, issuer_url, client_id, client_secret, sso_only, updated_at," +
		" ARRAY(SELECT domain FROM auth.sso_domains d WHERE d.organization_id = c.organization_id ORDER BY domain)" +
		" FROM auth.sso_configs c WHERE organization_id = $1"
	if forUpdate {
		q += " FOR UPDATE"
	}
	var c SSOConfig
	var sealed []byte
	err := tx.QueryRow(ctx, q, orgID).Scan(&c.OrganizationID, &c.IssuerURL, &c.ClientID, &sealed, &c.SSOOnly, &c.UpdatedAt, &c.Domains)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrSSONotConfigured
	}
	if err != nil {
		return c, err
	}
	secret, _, err := s.cipher.OpenSecret(ssoSecretName(orgID), ssoSecretAD(orgID), sealed)
	if err != nil {
		return c, fmt.Errorf("auth: %w", err)
	}
	c.ClientSecret = string(secret)
	return c, nil
}

// PutSSOConfig stores c as its organization's single sign-on, keeping the
// stored client secret when c's is empty, and returns it as stored.
func (s *Store) PutSSOConfig(ctx context.Context, c SSOConfig) (SSOConfig, error) {
	var out SSOConfig
	err := pg.InOrg(ctx, s.db, c.OrganizationID, func(tx pgx.Tx) error {
		before, err := ssoAuditedConfig(ctx, tx, c.OrganizationID)
		if err != nil {
			return err
		}
		secretChanged := c.ClientSecret != ""
		if !secretChanged {
			old, err := s.ssoConfig(ctx, tx, c.OrganizationID, true)
			if errors.Is(err, ErrSSONotConfigured) {
				return apierr.InvalidField("client_secret", "is required when single sign-on is first set up", nil)
			}
			if err != nil {
				return err
			}
			c.ClientSecret = old.ClientSecret
		}
		now := s.clock.Now()
		if _, err := tx.Exec(ctx, `INSERT INTO auth.sso_configs (organization_id, issuer_url, client_id, client_secret, sso_only, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (organization_id) DO UPDATE SET issuer_url = EXCLUDED.issuer_url,
			client_id = EXCLUDED.client_id, client_secret = EXCLUDED.client_secret, sso_only = EXCLUDED.sso_only, updated_at = EXCLUDED.updated_at`,
			c.OrganizationID, c.IssuerURL, c.ClientID, s.cipher.SealSecret(ssoSecretAD(c.OrganizationID), []byte(c.ClientSecret)), c.SSOOnly, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM auth.sso_domains WHERE organization_id = $1", c.OrganizationID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO auth.sso_domains (domain, organization_id) SELECT unnest($2::text[]), $1", c.OrganizationID, c.Domains)
		if pg.IsUniqueViolation(err, "sso_domains_pkey") {
			return ErrSSODomainTaken
		}
		if err != nil {
			return err
		}
		if out, err = s.ssoConfig(ctx, tx, c.OrganizationID, false); err != nil {
			return err
		}
		return s.audit(ctx, tx, c.OrganizationID, AuditSSOConfigured, auditSubjectOrg, &c.OrganizationID,
			map[string]any{"before": before, "after": out.audited(), "client_secret_changed": secretChanged})
	})
	return out, err
}

// ssoAudited is what the audit log keeps of a single sign-on: never the
// client secret, only whether it changed.
type ssoAudited struct {
	IssuerURL string   `json:"issuer_url"`
	ClientID  string   `json:"client_id"`
	Domains   []string `json:"domains"`
	SSOOnly   bool     `json:"sso_only"`
}

func (c SSOConfig) audited() ssoAudited {
	return ssoAudited{IssuerURL: c.IssuerURL, ClientID: c.ClientID, Domains: c.Domains, SSOOnly: c.SSOOnly}
}

// ssoAuditedConfig locks and reads organization orgID's single sign-on
// as the audit log keeps it, nil when there is none. The secret stays
// sealed, so that a configuration whose secret no key opens any more can
// still be replaced or removed.
func ssoAuditedConfig(ctx context.Context, tx pgx.Tx, orgID string) (*ssoAudited, error) {
	var c ssoAudited
	err := tx.QueryRow(ctx, "SELECT issuer_url, client_id, sso_only, ARRAY(SELECT domain FROM auth.sso_domains d WHERE d.organization_id = c.organization_id ORDER BY domain)"+
		" FROM auth.sso_configs c WHERE organization_id = $1 FOR UPDATE", orgID).Scan(&c.IssuerURL, &c.ClientID, &c.SSOOnly, &c.Domains)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return &c, err
}

// DeleteSSOConfig removes the single sign-on of organization orgID; its
// members sign in with their passwords again.
func (s *Store) DeleteSSOConfig(ctx context.Context, orgID string) error {
	return pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		before, err := ssoAuditedConfig(ctx, tx, orgID)
		if err != nil {
			return err
		}
		if before == nil {
			return ErrSSONotConfigured
		}
		if _, err := tx.Exec(ctx, "DELETE FROM auth.sso_configs WHERE organization_id = $1", orgID); err != nil {
			return err
		}
		return s.audit(ctx, tx, orgID, AuditSSORemoved, auditSubjectOrg, &orgID, map[string]any{"before": before})
	})
}

// SSODomainOrganization finds the organization whose single sign-on
// covers email domain.
func (s *Store) SSODomainOrganization(ctx context.Context, domain string) (string, error) {
	var org *string
	if err := s.db.QueryRow(ctx, "SELECT auth.sso_domain_organization($1)::text", domain).Scan(&org); err != nil {
		return "", err
	}
	if org == nil {
		return "", ErrSSONotConfigured
	}
	return *org, nil
}

// ssoLogin is a sign-in between the redirect to the provider and its
// callback.
type ssoLogin struct {
	OrganizationID, Nonce, CodeVerifier string
	ExpiresAt                           time.Time
}

// StartSSOLogin stores a sign-in by the hash of its state, and drops the
// organization's sign-ins that expired unfinished.
func (s *Store) StartSSOLogin(ctx context.Context, state string, l ssoLogin) error {
	return pg.InOrg(ctx, s.db, l.OrganizationID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM auth.sso_logins WHERE organization_id = $1 AND expires_at < $2", l.OrganizationID, s.clock.Now()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO auth.sso_logins (state_hash, organization_id, nonce, code_verifier, expires_at) VALUES ($1, $2, $3, $4, $5)",
			tokenHash(state), l.OrganizationID, l.Nonce, l.CodeVerifier, l.ExpiresAt)
		return err
	})
}

// TakeSSOLogin spends the sign-in of state: a state works once, and not
// after its expiry.
func (s *Store) TakeSSOLogin(ctx context.Context, state string) (ssoLogin, error) {
	hash := tokenHash(state)
	var l ssoLogin
	var org *string
	if err := s.db.QueryRow(ctx, "SELECT auth.sso_login_organization($1)::text", hash).Scan(&org); err != nil {
		return l, err
	}
	if org == nil {
		return l, ErrSSOStateInvalid
	}
	err := pg.InOrg(ctx, s.db, *org, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "DELETE FROM auth.sso_logins WHERE state_hash = $1 RETURNING organization_id::text, nonce, code_verifier, expires_at", hash).
			Scan(&l.OrganizationID, &l.Nonce, &l.CodeVerifier, &l.ExpiresAt)
	})
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !s.clock.Now().Before(l.ExpiresAt)) {
		return ssoLogin{}, ErrSSOStateInvalid
	}
	return l, err
}

// SSOUser is the member of orgID with email, created without a password
// on their first sign-in: with the role of the newest live invitation of
// the email, which it spends, or else as an employee when domainAllowed.
// The domain decides who may join unasked; a member, or an invited
// person, is named by their exact email, which the provider verified as
// a reset by mail would.
func (s *Store) SSOUser(ctx context.Context, orgID, email, name string, domainAllowed bool) (User, error) {
	var u User
	find := func(tx pgx.Tx) error {
		var orgActive bool
		err := scanUser(tx.QueryRow(ctx, "SELECT "+userColumns+", (SELECT active FROM auth.organizations WHERE id = organization_id)"+
			" FROM auth.users WHERE lower(email) = lower($1)", email), &u, &orgActive)
		if err == nil && (!u.Active || !orgActive) {
			return ErrAccountDisabled
		}
		return err
	}
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		err := find(tx)
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var orgActive bool
		if err := tx.QueryRow(ctx, "SELECT active FROM auth.organizations WHERE id = $1", orgID).Scan(&orgActive); err != nil {
			return err
		}
		if !orgActive {
			return ErrAccountDisabled
		}
		role := authn.RoleEmployee
		err = tx.QueryRow(ctx, "SELECT role FROM auth.invitations WHERE lower(email) = lower($1) AND used_at IS NULL AND expires_at > $2"+
			" ORDER BY created_at DESC LIMIT 1 FOR UPDATE", email, s.clock.Now()).Scan(&role)
		switch {
		case errors.Is(err, pgx.ErrNoRows) && !domainAllowed:
			return ErrSSODomainNotAllowed
		case err == nil:
			// Once the person exists every open invitation of theirs is moot.
			if _, err := tx.Exec(ctx, "UPDATE auth.invitations SET used_at = $2 WHERE lower(email) = lower($1) AND used_at IS NULL", email, s.clock.Now()); err != nil {
				return err
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		u = User{ID: newID(), OrganizationID: orgID, Email: email, Name: name, Role: role, CreatedAt: s.clock.Now().UTC(), Active: true}
		// No password: the member signs in through the provider, or sets
		// one through a password reset where passwords are allowed.
		return s.insertUser(ctx, tx, u, "")
	})
	if errors.Is(err, ErrUserExists) {
		// A first sign-in of the same person in another tab created them.
		err = pg.InOrg(ctx, s.db, orgID, find)
	}
	return u, err
}

// PasswordAllowed is passwordRefused for a member of orgID with role.
func (s *Store) PasswordAllowed(ctx context.Context, orgID, role string) error {
	return pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error { return passwordRefused(ctx, tx, orgID, role) })
}

// passwordRefused is ErrSSORequired for a member with role of an "SSO
// only" organization, whose password login refuses: no password may be
// set for them either (joining, a reset), which login would then refuse.
// Admins keep their passwords as the way back in when the provider is
// down or misconfigured.
func passwordRefused(ctx context.Context, tx pgx.Tx, orgID, role string) error {
	if role == authn.RoleAdmin {
		return nil
	}
	var only bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM auth.sso_configs WHERE organization_id = $1 AND sso_only)", orgID).Scan(&only); err != nil {
		return err
	}
	if only {
		return ErrSSORequired
	}
	return nil
}

// resealMail rewrites every queued body not sealed with the current
// cipher key and returns how many it rewrote: a message retried for hours
// must still open once the previous key is dropped.
func (s *Store) resealMail(ctx context.Context) (int, error) {
	n := 0
	err := pg.InTx(ctx, s.db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT id, organization_id::text, recipient, body FROM auth.mail_outbox ORDER BY id FOR UPDATE SKIP LOCKED")
		if err != nil {
			return err
		}
		type row struct {
			id           int64
			org, to      string
			body, sealed []byte
		}
		var stale []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.org, &r.to, &r.sealed); err != nil {
				return err
			}
			body, current, err := s.cipher.OpenSecret(fmt.Sprintf("the body of queued mail %d", r.id), mailAD(r.org, r.to), r.sealed)
			if err != nil {
				return err
			}
			if !current {
				r.body = body
				stale = append(stale, r)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range stale {
			if _, err := tx.Exec(ctx, "UPDATE auth.mail_outbox SET body = $2 WHERE id = $1", r.id, s.cipher.SealSecret(mailAD(r.org, r.to), r.body)); err != nil {
				return err
			}
		}
		n = len(stale)
		return nil
	})
	return n, err
}

// resealSSOSecrets rewrites every client secret not sealed with the
// current cipher key and returns how many it rewrote.
func (s *Store) resealSSOSecrets(ctx context.Context) (int, error) {
	rows, err := s.db.Query(ctx, "SELECT auth.sso_organizations()::text")
	if err != nil {
		return 0, err
	}
	orgs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, err
	}
	n := 0
	for _, org := range orgs {
		err := pg.InOrg(ctx, s.db, org, func(tx pgx.Tx) error {
			var sealed []byte
			if err := tx.QueryRow(ctx, "SELECT client_secret FROM auth.sso_configs WHERE organization_id = $1 FOR UPDATE", org).Scan(&sealed); err != nil {
				return err
			}
			secret, current, err := s.cipher.OpenSecret(ssoSecretName(org), ssoSecretAD(org), sealed)
			if err != nil || current {
				return err
			}
			n++
			_, err = tx.Exec(ctx, "UPDATE auth.sso_configs SET client_secret = $2 WHERE organization_id = $1", org, s.cipher.SealSecret(ssoSecretAD(org), secret))
			return err
		})
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return n, err
		}
	}
	return n, nil
}

// deviceColumns are what scanDevice reads, in its order.
const deviceColumns = "id, user_id, name, created_at, expires_at, last_used_at"

func scanDevice(r pgx.Row, d *Device, extra ...any) error {
	return r.Scan(append([]any{&d.ID, &d.UserID, &d.Name, &d.CreatedAt, &d.ExpiresAt, &d.LastUsedAt}, extra...)...)
}

// CreateDevice stores a device registered in org.
func (s *Store) CreateDevice(ctx context.Context, orgID string, d Device) error {
	return pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO auth.devices (id, organization_id, user_id, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
			d.ID, orgID, d.UserID, d.Name, d.CreatedAt, d.ExpiresAt)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, orgID, AuditDeviceRegistered, auditSubjectDevice, &d.ID, map[string]any{"name": d.Name, "user_id": d.UserID})
	})
}

// ListDevices lists the live devices of org, of one user unless userID is
// "", by name.
func (s *Store) ListDevices(ctx context.Context, orgID, userID string, req page.Request) ([]Device, *page.Cursor, error) {
	var rows []page.Keyed[Device]
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		rs, err := tx.Query(ctx, "SELECT "+deviceColumns+", lower(name) FROM auth.devices"+
			" WHERE (NOT $1 OR (lower(name), id) > ($2, $3::uuid)) AND revoked_at IS NULL AND expires_at > $6"+
			" AND ($5 = '' OR user_id = nullif($5, '')::uuid) ORDER BY lower(name), id LIMIT $4",
			append(page.Args(req), userID, s.clock.Now())...)
		if err != nil {
			return err
		}
		rows, err = pgx.CollectRows(rs, func(r pgx.CollectableRow) (page.Keyed[Device], error) {
			var row page.Keyed[Device]
			return row, scanDevice(r, &row.Item, &row.Key)
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	devices, next := page.TrimKeyed(rows, req, func(d Device) string { return d.ID })
	return devices, next, nil
}

// RevokeDevice revokes a live device of the caller's, or of anyone in
// their organization when the caller is an admin, and lists it in the
// revocation list until its token expires.
func (s *Store) RevokeDevice(ctx context.Context, by authn.Principal, id string) error {
	err := pg.InOrg(ctx, s.db, by.OrganizationID, func(tx pgx.Tx) error {
		var expires time.Time
		var name, owner string
		if err := tx.QueryRow(ctx, "UPDATE auth.devices SET revoked_at = $2, revoked_by = $3"+
			" WHERE id = $1 AND revoked_at IS NULL AND ($4 OR user_id = $3) RETURNING expires_at, name, user_id::text",
			id, s.clock.Now(), by.UserID, by.IsAdmin()).Scan(&expires, &name, &owner); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, by.OrganizationID, AuditDeviceRevoked, auditSubjectDevice, &id, map[string]any{"name": name, "user_id": owner}); err != nil {
			return err
		}
		until, err := deviceRevocationUntil(ctx, tx, id, expires)
		if err != nil {
			return err
		}
		return revoke(ctx, tx, authn.Revocation{Kind: authn.RevokeDevice, Subject: id, Blocked: true, ExpiresAt: &until})
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrDeviceNotFound
	}
	return err
}

// deviceRevocationUntil is how long the device's row of the revocation
// list must stay to refuse its tokens, the latest of which expires at
// expires: a minute more (verifiers allow a few seconds of clock skew past
// expiry), or longer when the row already refuses a token renewed away
// before DEVICE_TOKEN_TTL was shortened.
func deviceRevocationUntil(ctx context.Context, tx pgx.Tx, id string, expires time.Time) (time.Time, error) {
	until := expires.Add(time.Minute)
	var held *time.Time
	err := tx.QueryRow(ctx, "SELECT expires_at FROM auth.revocations WHERE kind = $1 AND subject = $2", authn.RevokeDevice, id).Scan(&held)
	if errors.Is(err, pgx.ErrNoRows) {
		return until, nil
	}
	if err == nil && held != nil && held.After(until) {
		until = *held
	}
	return until, err
}

// RenewDevice gives a device of by's, live or expired after notBefore,
// its next token version and the expiry expires, and lists it in the
// revocation list so that every service refuses its earlier tokens. sign
// makes the new token for that version inside the transaction, so a
// failure leaves the current one working. A device token renews its own
// device only, and only while it is the device's current token; its use
// is the device's last use.
func (s *Store) RenewDevice(ctx context.Context, by authn.Principal, id string, notBefore, expires time.Time, sign func(version int) (string, error)) (Device, error) {
	var d Device
	err := pg.InOrg(ctx, s.db, by.OrganizationID, func(tx pgx.Tx) error {
		var before time.Time
		var version int
		// FOR UPDATE: two renewals at once take turns, and the second finds
		// the first's version.
		if err := tx.QueryRow(ctx, "SELECT expires_at, token_version FROM auth.devices"+
			" WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3 FOR UPDATE",
			id, by.UserID, notBefore).Scan(&before, &version); err != nil {
			return err
		}
		if by.IsDevice() && by.TokenVersion != version {
			return apierr.ErrTokenRevoked
		}
		now := s.clock.Now()
		if err := scanDevice(tx.QueryRow(ctx, "UPDATE auth.devices SET token_version = $2, expires_at = $3,"+
			" last_used_at = CASE WHEN $4 THEN greatest(last_used_at, $5) ELSE last_used_at END WHERE id = $1 RETURNING "+deviceColumns,
			id, version+1, expires, by.IsDevice(), now.Truncate(time.Second)), &d); err != nil {
			return err
		}
		via := "user"
		if by.IsDevice() {
			via = "device"
		}
		if err := s.audit(ctx, tx, by.OrganizationID, AuditDeviceRenewed, auditSubjectDevice, &id, map[string]any{"name": d.Name,
			"user_id": d.UserID, "by": via, "expires_before": before, "expires_after": d.ExpiresAt}); err != nil {
			return err
		}
		until, err := deviceRevocationUntil(ctx, tx, id, before)
		if err != nil {
			return err
		}
		if err := revoke(ctx, tx, authn.Revocation{Kind: authn.RevokeDevice, Subject: id, MinVersion: version + 1, ExpiresAt: &until}); err != nil {
			return err
		}
		d.Token, err = sign(version + 1)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Device{}, ErrDeviceNotFound
	}
	return d, err
}

// audit records in tx, the transaction of the change, that the caller of
// ctx did action to a subject of org.
func (s *Store) audit(ctx context.Context, tx pgx.Tx, org, action, subjectType string, subjectID *string, details map[string]any) error {
	return s.auditAs(ctx, tx, actorOf(ctx), org, action, subjectType, subjectID, details)
}

// auditAs is audit for an actor the request carries no token of: a member
// signing in or resetting their password, or nobody (nil) for a failed
// sign-in and the operator.
func (s *Store) auditAs(ctx context.Context, tx pgx.Tx, actor *string, org, action, subjectType string, subjectID *string, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	_, err := tx.Exec(ctx, "INSERT INTO auth.audit_log (id, organization_id, occurred_at, actor_id, action, subject_type, subject_id, details)"+
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", newID(), org, s.clock.Now(), actor, action, subjectType, subjectID, details)
	return err
}

// RecordLoginFailure records that a sign-in to a member of org was
// refused (reason: invalid_password, account_disabled, sso_required),
// with the client that tried, capped as recordRefusal caps it.
func (s *Store) RecordLoginFailure(ctx context.Context, orgID, userID, reason string, l Login) error {
	return s.recordRefusal(ctx, orgID, nil, AuditLoginFailed, auditSubjectUser, userID,
		map[string]any{"reason": reason, "method": l.Method, "ip": l.IP, "user_agent": l.UserAgent})
}

// RecordSSOFailure records that a single sign-on to org was refused
// after its provider answered (reason: sso_failed, email_unverified,
// domain_not_allowed, account_disabled). Its subject is the member
// refused when there is one (userID: a deactivated member the provider
// vouched for), bounded per member as their refused password sign-ins
// are; else the organization, since the refusal names no member, or one
// the provider has not vouched for. The email the provider named, if
// any, is recorded as its claim, so that an admin sees who was refused.
func (s *Store) RecordSSOFailure(ctx context.Context, orgID, userID, reason, email string, c Client) error {
	details := map[string]any{"reason": reason, "method": "sso", "ip": c.IP, "user_agent": c.UserAgent}
	if email != "" {
		details["email"] = email
	}
	if userID != "" {
		return s.recordRefusal(ctx, orgID, nil, AuditLoginFailed, auditSubjectUser, userID, details)
	}
	return s.recordRefusal(ctx, orgID, nil, AuditLoginFailed, auditSubjectOrg, orgID, details)
}

// RecordPasswordChangeFailure records that a member's change of their
// own password was refused for a wrong current password.
func (s *Store) RecordPasswordChangeFailure(ctx context.Context, orgID, userID string, c Client) error {
	return s.recordRefusal(ctx, orgID, &userID, AuditPasswordChangeFailed, auditSubjectUser, userID,
		map[string]any{"ip": c.IP, "user_agent": c.UserAgent})
}

// refusalSubjects are the tables whose row recordRefusal locks, by
// subject type.
var refusalSubjects = map[string]string{auditSubjectUser: "auth.users", auditSubjectOrg: "auth.organizations"}

// recordRefusal records a refusal of action to a subject of org. The log
// is append-only, so that nothing rewrites what it recorded; what one
// subject's refusals may add to it is bounded instead: at most
// maxLoginFailureEntries entries of action in loginFailureSpan, the last
// of them saying that further refusals go unrecorded. The subject's row
// lock makes concurrent refusals take turns at the count; a subject
// removed meanwhile is not recorded.
func (s *Store) recordRefusal(ctx context.Context, orgID string, actor *string, action, subjectType, subjectID string, details map[string]any) error {
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT id FROM "+refusalSubjects[subjectType]+" WHERE id = $1 FOR UPDATE", subjectID).Scan(new(string)); err != nil {
			return err
		}
		var recorded int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM auth.audit_log WHERE subject_id = $1 AND action = $2 AND occurred_at > $3",
			subjectID, action, s.clock.Now().Add(-loginFailureSpan)).Scan(&recorded); err != nil {
			return err
		}
		if recorded >= maxLoginFailureEntries {
			return nil
		}
		if recorded == maxLoginFailureEntries-1 {
			details["further_failures_unrecorded"] = true
		}
		return s.auditAs(ctx, tx, actor, orgID, action, subjectType, &subjectID, details)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	return err
}

// auditUserChange records what a change of a member did: a role change,
// a deactivation or reactivation, signing out everywhere.
func (s *Store) auditUserChange(ctx context.Context, tx pgx.Tx, before, after User, signedOut bool) error {
	record := func(action string, details map[string]any) error {
		return s.audit(ctx, tx, after.OrganizationID, action, auditSubjectUser, &after.ID, details)
	}
	if before.Role != after.Role {
		if err := record(AuditRoleChanged, map[string]any{"from": before.Role, "to": after.Role}); err != nil {
			return err
		}
	}
	switch {
	case before.Active && !after.Active:
		if err := record(AuditDeactivated, nil); err != nil {
			return err
		}
	case !before.Active && after.Active:
		if err := record(AuditReactivated, nil); err != nil {
			return err
		}
	}
	if signedOut {
		return record(AuditSignedOutAll, nil)
	}
	return nil
}

// auditColumns are what scanAudit reads, in its order.
const auditColumns = "id, occurred_at, actor_id::text, action, subject_type, subject_id::text, details"

// ListAudit lists org's audit log entries that f selects, newest first.
func (s *Store) ListAudit(ctx context.Context, orgID string, f AuditFilter, req page.Request) ([]AuditEntry, *page.Cursor, error) {
	var rows []page.Keyed[AuditEntry]
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		// The cursor's key is the last entry's instant, as text: the
		// keyset compares it back as an instant.
		rs, err := tx.Query(ctx, "SELECT "+auditColumns+", occurred_at::text AS cursor_key FROM auth.audit_log"+
			" WHERE (NOT $1 OR (occurred_at, id) < (nullif($2, '')::timestamptz, $3::uuid))"+
			" AND ($5 = '' OR actor_id = nullif($5, '')::uuid) AND ($6 = '' OR subject_id = nullif($6, '')::uuid) AND ($7 = '' OR action = $7)"+
			" AND ($8::timestamptz IS NULL OR occurred_at >= $8) AND ($9::timestamptz IS NULL OR occurred_at < $9)"+
			" ORDER BY occurred_at DESC, id DESC LIMIT $4",
			append(page.Args(req), f.ActorID, f.SubjectID, f.Action, f.From, f.To)...)
		if err != nil {
			return err
		}
		rows, err = pgx.CollectRows(rs, func(r pgx.CollectableRow) (page.Keyed[AuditEntry], error) {
			var row page.Keyed[AuditEntry]
			e := &row.Item
			return row, r.Scan(&e.ID, &e.OccurredAt, &e.ActorID, &e.Action, &e.SubjectType, &e.SubjectID, &e.Details, &row.Key)
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	entries, next := page.TrimKeyed(rows, req, func(e AuditEntry) string { return e.ID })
	return entries, next, nil
}

// --- Export

// exportSections are auth's part of a member's export: their profile,
// teams, devices and sign-ins (never a token, a hash or a secret) and
// the audit entries about them or their devices.
var exportSections = []export.Section{
	{Name: "profile", Query: `SELECT row_to_json(t) FROM (
		SELECT u.id, u.email, u.name, u.role, u.active, u.created_at, u.updated_at, u.organization_id, o.name AS organization_name
		FROM auth.users u JOIN auth.organizations o ON o.id = u.organization_id WHERE u.id = $1) t`},
	{Name: "teams", Query: `SELECT row_to_json(t) FROM (
		SELECT m.team_id, tm.name AS team_name, m.role, m.created_at
		FROM auth.team_members m JOIN auth.teams tm ON tm.id = m.team_id WHERE m.user_id = $1) t
		ORDER BY t.created_at, t.team_id`},
	{Name: "devices", Query: `SELECT row_to_json(t) FROM (
		SELECT id, name, created_at, expires_at, last_used_at, revoked_at, revoked_by FROM auth.devices WHERE user_id = $1) t
		ORDER BY t.created_at, t.id`},
	{Name: "sign_ins", Query: `SELECT row_to_json(t) FROM (
		SELECT id, created_at, expires_at, revoked_at FROM auth.sessions WHERE user_id = $1) t
		ORDER BY t.created_at, t.id`},
	{Name: "audit", Query: `SELECT row_to_json(t) FROM (
		SELECT id, occurred_at, actor_id, action, subject_type, subject_id, details FROM auth.audit_log
		WHERE subject_id = $1 OR subject_type = 'device' AND subject_id IN (SELECT id FROM auth.devices WHERE user_id = $1)) t
		ORDER BY t.occurred_at, t.id`},
}

// RecordExport records that the caller of ctx exports the data of member
// userID of org (format json or csv), before any of it is written: an
// export cut short has still taken data out.
func (s *Store) RecordExport(ctx context.Context, orgID, userID, format string) error {
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		var known bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM auth.users WHERE id = $1)", userID).Scan(&known); err != nil {
			return err
		}
		if !known {
			return ErrUserNotFound
		}
		return s.audit(ctx, tx, orgID, AuditDataExported, auditSubjectUser, &userID, map[string]any{"format": format})
	})
	return err
}

// ExportUser writes auth's part of the export of member userID of org.
func (s *Store) ExportUser(ctx context.Context, orgID, userID string, w io.Writer, asCSV bool, l export.Limits) error {
	return pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		return export.Part(ctx, tx, w, asCSV, l.MaxRows, userID, exportSections)
	})
}
