package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/metrics"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

// harness runs the ingest API over HTTP against a database of its own.
type harness struct {
	t    testing.TB
	db   *testkit.DB
	pool *pgxpool.Pool
	// sessionPool connects as the session service, for stopping sessions.
	sessionPool *pgxpool.Pool
	iss         *testkit.Issuer
	srv         *httptest.Server
	client      *http.Client
	// clock is the service's and the issuer's clock; tests move it.
	clock *testkit.Clock
	// redactions are the service's redaction rules, polled once at start
	// as the deployed service does.
	redactions *Redactions
}

// harnessInstant is where a harness's clock stands until a test moves it:
// a fixed instant, so that no verdict depends on the day the suite runs.
var harnessInstant = time.Date(2027, 6, 15, 9, 30, 0, 0, time.UTC)

func newHarness(t testing.TB, env map[string]string) *harness {
	t.Helper()
	db := testkit.NewDB(t)
	pool := db.Pool(t, "workpulse_ingest")
	clk := testkit.NewClock(harnessInstant)
	h := &harness{t: t, db: db, pool: pool, sessionPool: db.Pool(t, "workpulse_session"), clock: clk}
	// The clock's month and its neighbours, as the operator would have
	// created them; older months have no storage unless a test makes it.
	for m := -1; m <= 1; m++ {
		db.EnsureActivityMonth(t, harnessInstant.AddDate(0, m, 0))
	}
	h.iss = testkit.NewIssuerOn(t, clk)
	e := config.FromMap(env)
	cfg := LoadConfig(e, config.LoadCommon(e, "ingest", ":0"))
	reg := metrics.NewRegistry("ingest")
	h.redactions = NewRedactions(pool, quietLogger())
	if err := h.redactions.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	api := NewServer(Deps{Config: cfg, DB: pool, Verifier: h.iss.Verifier, Metrics: metrics.NewHTTP(reg, "ingest"), Registerer: reg, Clock: clk,
		Redactions: h.redactions})
	h.srv = httptest.NewServer(httpx.Stack(clk, api, 4<<20))
	t.Cleanup(h.srv.Close)
	h.client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128}}
	return h
}

// member is a user with a token.
type member struct {
	authn.Principal
	Token string
}

func (h *harness) member(org string) member {
	p := testkit.Member(org, authn.RoleEmployee)
	return member{Principal: p, Token: h.iss.Token(h.t, p)}
}

// startSession arranges an active session of m that started at start.
func (h *harness) startSession(m member, start time.Time) string {
	h.t.Helper()
	id := uuid.NewString()
	if _, err := h.db.Owner.Exec(context.Background(), "INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, status) VALUES ($1, $2, $3, $4, 'active')",
		id, m.OrganizationID, m.UserID, start); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// post sends body as JSON and decodes the response into out when it is
// not nil; it returns the status and raw body.
func (h *harness) post(token, path string, body, out any) (int, []byte) {
	return testkit.Do(h.t, h.client, http.MethodPost, h.srv.URL+path, token, body, out)
}

// postConcurrently posts every body to path at once, as many agents would,
// and returns the answers in the bodies' order; any answer but 201 fails
// the test.
func (h *harness) postConcurrently(token, path string, bodies []any) [][]byte {
	h.t.Helper()
	answers := make([][]byte, len(bodies))
	errs := make(chan error, len(bodies))
	var wg sync.WaitGroup
	for i, body := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, raw, err := h.tryPost(token, path, body)
			if err == nil && status != http.StatusCreated {
				err = fmt.Errorf("status %d: %s", status, raw)
			}
			if err != nil {
				errs <- err
			}
			answers[i] = raw
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		h.t.Fatal(err)
	}
	return answers
}

// tryPost is post for use off the test goroutine.
func (h *harness) tryPost(token, path string, body any) (int, []byte, error) {
	return testkit.Request(h.client, http.MethodPost, h.srv.URL+path, token, body)
}

// sessionRow reads a session as stored, bypassing row-level security.
func (h *harness) sessionRow(id string) tracking.Session {
	h.t.Helper()
	s, err := tracking.ScanSession(h.db.Owner.QueryRow(context.Background(), "SELECT "+tracking.SessionColumns+" FROM tracking.work_sessions WHERE id = $1", id))
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// storedSums returns the sums of the stored activity of a session.
func (h *harness) storedSums(id string) (count, active, idle int64) {
	h.t.Helper()
	err := h.db.Owner.QueryRow(context.Background(), "SELECT count(*), coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'active'), 0),"+
		" coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'idle'), 0) FROM tracking.activity_logs WHERE session_id = $1", id).Scan(&count, &active, &idle)
	if err != nil {
		h.t.Fatal(err)
	}
	return count, active, idle
}

// assertExact checks that a session's totals are the sums of its stored
// activities and of what the test expected, and that every change bumped
// the version once.
func (h *harness) assertExact(id string, wantCount, wantActive, wantIdle int64, changes int64) tracking.Session {
	h.t.Helper()
	s := h.sessionRow(id)
	count, active, idle := h.storedSums(id)
	if wantCount >= 0 && (count != wantCount || active != wantActive || idle != wantIdle) {
		h.t.Errorf("stored %d activities (%d active s, %d idle s), want %d (%d, %d)", count, active, idle, wantCount, wantActive, wantIdle)
	}
	if s.TotalActiveSeconds != active || s.TotalIdleSeconds != idle {
		h.t.Errorf("session totals %d active / %d idle, stored activity sums %d / %d", s.TotalActiveSeconds, s.TotalIdleSeconds, active, idle)
	}
	if changes >= 0 && s.Version != 1+changes {
		h.t.Errorf("version %d, want %d", s.Version, 1+changes)
	}
	return s
}

type errorEnvelope struct {
	Success bool `json:"success"`
	Error   struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

func errorCode(t *testing.T, raw []byte) errorEnvelope {
	t.Helper()
	var e errorEnvelope
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("not an error envelope: %s", raw)
	}
	return e
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func ptr[T any](v T) *T { return &v }
