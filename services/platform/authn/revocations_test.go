package authn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/test/testkit"
)

// revocationInstant is where the tests' clock stands.
var revocationInstant = time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)

// revoke writes a row as the auth service does, through the owner.
func revoke(t *testing.T, db *testkit.DB, kind, subject string, blocked bool, minVersion int, expires *time.Time) {
	t.Helper()
	_, err := db.Owner.Exec(context.Background(), `INSERT INTO auth.revocations (kind, subject, blocked, min_version, expires_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (kind, subject) DO UPDATE SET blocked = EXCLUDED.blocked, min_version = EXCLUDED.min_version,
			expires_at = EXCLUDED.expires_at, seq = nextval('auth.revocations_seq')`, kind, subject, blocked, minVersion, expires)
	if err != nil {
		t.Fatal(err)
	}
}

// revocationList is a service's revocation list over a fresh database on
// the tests' clock, read through wrap (nil: the service's own source), and
// a verifier that consults it.
type revocationList struct {
	clk  *testkit.Clock
	db   *testkit.DB
	list *authn.Revocations
	iss  *testkit.Issuer
	v    *authn.Verifier
}

func newRevocationList(t *testing.T, role string, wrap func(authn.RevocationSource) authn.RevocationSource) revocationList {
	t.Helper()
	r := revocationList{clk: testkit.NewClock(revocationInstant), db: testkit.NewDB(t)}
	var src authn.RevocationSource = authn.PGRevocations{DB: r.db.Pool(t, role)}
	if wrap != nil {
		src = wrap(src)
	}
	r.list = authn.NewRevocations(src, r.clk)
	r.iss = testkit.NewIssuerOn(t, r.clk)
	r.v = r.iss.Verifier.WithRevocations(r.list)
	return r
}

func TestRevokedTokensAreRefusedByAServiceAtItsNextPoll(t *testing.T) {
	t.Parallel()
	later := revocationInstant.Add(time.Hour)
	earlier := revocationInstant.Add(-time.Minute)
	cases := []struct {
		name    string
		token   func(p *authn.Principal)
		revoke  func(t *testing.T, db *testkit.DB, p authn.Principal)
		refused error
	}{
		{"a deactivated user's token is refused", nil, func(t *testing.T, db *testkit.DB, p authn.Principal) {
			revoke(t, db, authn.RevokeUser, p.UserID, true, 1, nil)
		}, apierr.ErrAccountDisabled},
		{"a token of a deactivated organization is refused", nil, func(t *testing.T, db *testkit.DB, p authn.Principal) {
			revoke(t, db, authn.RevokeOrganization, p.OrganizationID, true, 0, nil)
		}, apierr.ErrAccountDisabled},
		{"a token older than its user's token version is refused", func(p *authn.Principal) { p.TokenVersion = 2 },
			func(t *testing.T, db *testkit.DB, p authn.Principal) {
				revoke(t, db, authn.RevokeUser, p.UserID, false, 3, nil)
			}, apierr.ErrTokenRevoked},
		{"a token of a signed-out session is refused", func(p *authn.Principal) { p.SessionID = uuid.NewString() },
			func(t *testing.T, db *testkit.DB, p authn.Principal) {
				revoke(t, db, authn.RevokeSession, p.SessionID, true, 0, &later)
			}, apierr.ErrTokenRevoked},
		{"a token of the user's current version still passes", func(p *authn.Principal) { p.TokenVersion = 3 },
			func(t *testing.T, db *testkit.DB, p authn.Principal) {
				revoke(t, db, authn.RevokeUser, p.UserID, false, 3, nil)
			}, nil},
		{"a reactivated organization's tokens pass again", nil, func(t *testing.T, db *testkit.DB, p authn.Principal) {
			revoke(t, db, authn.RevokeOrganization, p.OrganizationID, true, 0, nil)
			revoke(t, db, authn.RevokeOrganization, p.OrganizationID, false, 0, nil)
		}, nil},
		{"a device token from before its device's renewal is refused", func(p *authn.Principal) { p.DeviceID = uuid.NewString() },
			func(t *testing.T, db *testkit.DB, p authn.Principal) {
				revoke(t, db, authn.RevokeDevice, p.DeviceID, false, 1, &later)
			}, apierr.ErrTokenRevoked},
		{"a device token of its device's latest renewal still passes", func(p *authn.Principal) { p.DeviceID, p.TokenVersion = uuid.NewString(), 1 },
			func(t *testing.T, db *testkit.DB, p authn.Principal) {
				revoke(t, db, authn.RevokeDevice, p.DeviceID, false, 1, &later)
			}, nil},
		{"a revoked device's renewed token is refused too", func(p *authn.Principal) { p.DeviceID, p.TokenVersion = uuid.NewString(), 1 },
			func(t *testing.T, db *testkit.DB, p authn.Principal) {
				revoke(t, db, authn.RevokeDevice, p.DeviceID, true, 0, &later)
			}, apierr.ErrTokenRevoked},
		{"a revocation past its expiry is dropped", func(p *authn.Principal) { p.SessionID = uuid.NewString() },
			func(t *testing.T, db *testkit.DB, p authn.Principal) {
				revoke(t, db, authn.RevokeSession, p.SessionID, true, 0, &earlier)
			}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRevocationList(t, "workpulse_session", nil)
			db, list, iss, v := r.db, r.list, r.iss, r.v
			p := testkit.Member("", authn.RoleEmployee)
			if tc.token != nil {
				tc.token(&p)
			}
			tok := iss.Token(t, p)
			ctx := context.Background()
			if err := list.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			// The tracking routes' check, which device tokens pass too.
			verified, err := v.VerifyTracking(ctx, tok)
			if err != nil {
				t.Fatalf("before the revocation: %v", err)
			}
			tc.revoke(t, db, p)
			if _, err := v.VerifyTracking(ctx, tok); err != nil {
				t.Fatalf("the revocation took effect before the service polled: %v", err)
			}
			changed := list.Changed()
			if err := list.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			_, err = v.VerifyTracking(ctx, tok)
			if !errors.Is(err, tc.refused) || (tc.refused == nil) != (err == nil) {
				t.Fatalf("after the poll: got %v, want %v", err, tc.refused)
			}
			if err := v.Current(verified); !errors.Is(err, tc.refused) || (tc.refused == nil) != (err == nil) {
				t.Fatalf("a connection verified before: got %v, want %v", err, tc.refused)
			}
			select {
			case <-changed:
			default:
				t.Fatal("the poll that brought the revocation did not signal a change")
			}
		})
	}
}

// failingSource fails every read after its first.
type failingSource struct {
	authn.RevocationSource
	reads int
}

func (s *failingSource) RevocationsAfter(ctx context.Context, seq int64, limit int) ([]authn.Revocation, error) {
	if s.reads++; s.reads > 1 {
		return nil, errors.New("connection refused")
	}
	return s.RevocationSource.RevocationsAfter(ctx, seq, limit)
}

func TestWhenTheListCannotBeReadRevocationsAlreadyReadStillHold(t *testing.T) {
	t.Parallel()
	r := newRevocationList(t, "workpulse_report", func(src authn.RevocationSource) authn.RevocationSource {
		return &failingSource{RevocationSource: src}
	})
	db, list, iss, v := r.db, r.list, r.iss, r.v
	p := testkit.Member("", authn.RoleEmployee)
	revoke(t, db, authn.RevokeUser, p.UserID, true, 1, nil)
	ctx := context.Background()
	if err := list.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := list.Poll(ctx); err == nil {
		t.Fatal("a failed read was not reported")
	}
	if _, err := v.Verify(ctx, iss.Token(t, p)); !errors.Is(err, apierr.ErrAccountDisabled) {
		t.Fatalf("got %v, want the deactivated user refused", err)
	}
	other := testkit.Member(p.OrganizationID, authn.RoleEmployee)
	if _, err := v.Verify(ctx, iss.Token(t, other)); err != nil {
		t.Fatalf("a user nobody revoked was refused: %v", err)
	}
}

func TestAConnectionsTokenEndsAtItsExpiry(t *testing.T) {
	t.Parallel()
	clk := testkit.NewClock(revocationInstant)
	iss := testkit.NewIssuerOn(t, clk)
	p, err := iss.Verifier.Verify(context.Background(), iss.Token(t, testkit.Member("", authn.RoleAdmin)))
	if err != nil {
		t.Fatal(err)
	}
	if err := iss.Verifier.Current(p); err != nil {
		t.Fatalf("a fresh token: %v", err)
	}
	clk.Advance(time.Hour + 10*time.Second)
	if err := iss.Verifier.Current(p); !errors.Is(err, apierr.ErrTokenExpired) {
		t.Fatalf("past its expiry: got %v, want expired", err)
	}
}

// A signed-out session's row expires with its last token, and auth then
// deletes it from the table: the list must drop it from memory by itself,
// or a service running for months would hold every sign-out ever made.
func TestExpiredSessionRevocationsLeaveTheListInMemoryWhileTheRestStay(t *testing.T) {
	t.Parallel()
	r := newRevocationList(t, "workpulse_report", nil)
	clk, db, list, iss, v := r.clk, r.db, r.list, r.iss, r.v
	ctx := context.Background()

	soon, later := revocationInstant.Add(5*time.Minute), revocationInstant.Add(time.Hour)
	ended := testkit.Member("", authn.RoleEmployee)
	ended.SessionID = uuid.NewString()
	stillValid := testkit.Member(ended.OrganizationID, authn.RoleEmployee)
	stillValid.SessionID = uuid.NewString()
	deactivated := testkit.Member(ended.OrganizationID, authn.RoleEmployee)
	revoke(t, db, authn.RevokeSession, ended.SessionID, true, 0, &soon)
	revoke(t, db, authn.RevokeSession, stillValid.SessionID, true, 0, &later)
	revoke(t, db, authn.RevokeUser, deactivated.UserID, true, 1, nil)
	if err := list.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := list.Len(); got != 3 {
		t.Fatalf("the list holds %d rows after the first poll, want 3", got)
	}

	// Past the first row's expiry: nothing new to read, yet it must go.
	clk.Advance(10 * time.Minute)
	if err := list.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := list.Len(); got != 2 {
		t.Fatalf("the list holds %d rows after the first row expired, want 2", got)
	}
	for _, c := range []struct {
		name string
		p    authn.Principal
		want error
	}{
		{"A session whose row has not expired stays refused.", stillValid, apierr.ErrTokenRevoked},
		{"A deactivated user, whose row never expires, stays refused.", deactivated, apierr.ErrAccountDisabled},
	} {
		if _, err := v.Verify(ctx, iss.Token(t, c.p)); !errors.Is(err, c.want) {
			t.Errorf("%s got %v, want %v", c.name, err, c.want)
		}
	}
}
