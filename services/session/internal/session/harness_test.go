package session

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/metrics"
	"github.com/workpulse/workpulse/services/platform/page"
	"github.com/workpulse/workpulse/test/testkit"
)

// harness runs the session API over HTTP against a database of its own.
type harness struct {
	t    *testing.T
	db   *testkit.DB
	pool *pgxpool.Pool
	iss  *testkit.Issuer
	srv  *httptest.Server
	// teams are the managers' team scopes the verifier hands out.
	teams *testkit.Teams
	// clock is the service's and the issuer's clock; tests move it.
	clock *testkit.Clock
}

// harnessInstant is where a harness's clock stands until a test moves it:
// a fixed instant, so that no verdict depends on the day the suite runs.
var harnessInstant = time.Date(2027, 6, 15, 9, 30, 0, 0, time.UTC)

func newHarness(t *testing.T) *harness { return newHarnessWith(t, 0) }

// newHarnessWith caps the organizations' projects at maxProjects (0: the default).
// Each harness has its own database, so its test runs beside the others.
func newHarnessWith(t *testing.T, maxProjects int) *harness {
	t.Helper()
	t.Parallel()
	db := testkit.NewDB(t)
	pool := db.Pool(t, "workpulse_session")
	clk := testkit.NewClock(harnessInstant)
	iss := testkit.NewIssuerOn(t, clk)
	teams := testkit.NewTeams(t, db, "workpulse_session", iss.Verifier)
	api := NewServer(Deps{DB: pool, Verifier: iss.Verifier, Metrics: metrics.NewHTTP(metrics.NewRegistry("session"), "session"), Clock: clk,
		Window: storage.Window(storage.DefaultWindowDays), MaxProjects: maxProjects})
	srv := httptest.NewServer(httpx.Stack(clk, api, 1<<20))
	t.Cleanup(srv.Close)
	return &harness{t: t, db: db, pool: pool, iss: iss, srv: srv, clock: clk, teams: teams}
}

type member struct {
	authn.Principal
	Token string
}

func (h *harness) member(org, role string) member {
	p := testkit.Member(org, role)
	return member{Principal: p, Token: h.iss.Token(h.t, p)}
}

// team is a member with role, a colleague in the same organization with
// colleagueRole, and an admin of another organization who must see none of it.
func (h *harness) team(role, colleagueRole string) (m, colleague, stranger member) {
	m = h.member("", role)
	return m, h.member(m.OrganizationID, colleagueRole), h.member("", authn.RoleAdmin)
}

// do sends a request (body nil, []byte, or JSON-encoded) and decodes a
// response into out when out is not nil.
func (h *harness) do(method, token, path string, body, out any) (int, []byte) {
	h.t.Helper()
	return testkit.Do(h.t, http.DefaultClient, method, h.srv.URL+path, token, body, out)
}

// getPage reads one page of a listing paged by X-Next-Cursor, decoding
// its body into out when the answer is a 200, and returns the status and
// the next page's cursor ("" on the last page).
func (h *harness) getPage(token, path string, out any) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, out); err != nil {
			h.t.Fatalf("%s: %v", raw, err)
		}
	}
	return resp.StatusCode, resp.Header.Get(page.NextHeader)
}

func (h *harness) try(method, token, path string, body any) (int, []byte, error) {
	return testkit.Request(http.DefaultClient, method, h.srv.URL+path, token, body)
}

func errorCode(t *testing.T, raw []byte) string {
	t.Helper()
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("not an error envelope: %s", raw)
	}
	return e.Error.Code
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func testLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
