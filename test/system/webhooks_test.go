package systemtest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// hookReceiver is an https webhook receiver of the test's own. Its
// certificate is httptest's, which the platform trusts only through
// WEBHOOK_CA_FILE; it checks every signature with its own code, from the
// secret the endpoint's creation answered, as docs/webhooks.md tells a
// receiver to.
type hookReceiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	secrets  map[string]string // path -> secret
	failNext map[string]int    // path -> requests to answer 500
	got      map[string][]hookRequest
	bad      []string
	// held, while not nil, stalls every request until it is closed: the
	// receiver is down as a hung server is, answering nothing.
	held chan struct{}
}

// hookRequest is a delivery the receiver accepted.
type hookRequest struct {
	Event    string // the WorkPulse-Event header
	Delivery string // the WorkPulse-Delivery header
	Body     []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rc := &hookReceiver{secrets: map[string]string{}, failNext: map[string]int{}, got: map[string][]hookRequest{}}
	rc.srv = httptest.NewTLSServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	t.Cleanup(rc.up) // a stalled request would keep Close waiting
	return rc
}

func (rc *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	held := rc.held
	rc.mu.Unlock()
	if held != nil {
		select {
		case <-held:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !signedBy(rc.secrets[r.URL.Path], r.Header.Get("WorkPulse-Signature"), body, clock.Real.Now()) {
		rc.bad = append(rc.bad, r.URL.Path+": "+r.Header.Get("WorkPulse-Signature")+" "+string(body))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("WorkPulse-Delivery") == "" {
		rc.bad = append(rc.bad, r.URL.Path+": "+r.Method+" "+r.Header.Get("Content-Type"))
	}
	if rc.failNext[r.URL.Path] > 0 {
		rc.failNext[r.URL.Path]--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	rc.got[r.URL.Path] = append(rc.got[r.URL.Path], hookRequest{Event: r.Header.Get("WorkPulse-Event"), Delivery: r.Header.Get("WorkPulse-Delivery"), Body: body})
}

// signedBy checks header (t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
// "<t>.<body>")>) from scratch, refusing a timestamp five minutes or more
// away from now.
func signedBy(secret, header string, body []byte, now time.Time) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || secret == "" || now.Sub(time.Unix(unix, 0)).Abs() >= 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(sig))
}

func (rc *hookReceiver) down() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.held == nil {
		rc.held = make(chan struct{})
	}
}

func (rc *hookReceiver) up() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.held != nil {
		close(rc.held)
		rc.held = nil
	}
}

func (rc *hookReceiver) received(path string) []hookRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got[path])
}

// hookEvent is a JSON delivery's body as docs/webhooks.md describes it.
type hookEvent struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	OrganizationID string          `json:"organization_id"`
	OccurredAt     time.Time       `json:"occurred_at"`
	Data           json.RawMessage `json:"data"`
}

// hookLogEntry is an entry of an endpoint's delivery log.
type hookLogEntry struct {
	EventID        string  `json:"event_id"`
	EventType      string  `json:"event_type"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	LastStatusCode *int    `json:"last_status_code"`
	LastError      *string `json:"last_error"`
}

// String shows what a failure message needs: the pointers' values.
func (e hookLogEntry) String() string {
	code, reason := "none", "none"
	if e.LastStatusCode != nil {
		code = strconv.Itoa(*e.LastStatusCode)
	}
	if e.LastError != nil {
		reason = *e.LastError
	}
	return e.EventType + " " + e.Status + " after " + strconv.Itoa(e.Attempts) + " attempts (last status " + code + ", last error " + reason + ")"
}

// TestWebhooksReachAPrivateReceiverSignedForEveryEventAndNeverHoldUpIngest
// runs the whole platform with a receiver certified by a CA only
// WEBHOOK_CA_FILE names. Two endpoints (JSON and Slack format) subscribe to
// every event; alert raised and resolved, session started and stopped, a
// manual entry approved and one rejected, and a day's summary are driven
// through the public API, and each reaches both endpoints with a signature
// the receiver verifies itself. The delivery log shows the status codes (a
// 500, then 200), test-send works, the endpoint secrets are not readable in
// the database, and while the receiver hangs, ingest answers every post at
// once; the deliveries follow when it is back.
//
// The steps build on each other, so the first that fails ends the test:
// its bounded wait names what did not arrive and the delivery log's last
// error, instead of every later wait running out in turn.
func TestWebhooksReachAPrivateReceiverSignedForEveryEventAndNeverHoldUpIngest(t *testing.T) {
	rc := newHookReceiver(t)
	// A delivery the receiver refused explains a missing one, so these are
	// reported however the test ends.
	defer func() {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if len(rc.bad) > 0 {
			t.Errorf("requests failing the receiver's own checks: %v", rc.bad)
		}
	}()
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, f) {
			t.Fatalf("stopped after the failed step %q", name)
		}
	}
	caFile := filepath.Join(t.TempDir(), "receivers-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	// The receiver listens on loopback, hence private targets allowed; the
	// short timeout keeps the hung receiver's attempts brief.
	p := StartPlatform(t, "WEBHOOK_CA_FILE="+caFile, "WEBHOOK_ALLOW_PRIVATE_TARGETS=true", "WEBHOOK_TIMEOUT=2s",
		"SIGNING_KEY_ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(key))
	c := p.Client(t)
	admin := c.Register("admin@hooks.example", "Hana Admin", "Hooks")
	emp := c.Invite(admin, "ada@hooks.example", "Ada", "employee")
	every := []string{"alert.raised", "alert.resolved", "session.started", "session.stopped",
		"time.requested", "time.approved", "time.rejected", "summary.ready"}
	endpoint := func(path, format string) string {
		var h struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}
		c.Must(201, "POST", "/webhooks", admin.Token, map[string]any{"url": rc.srv.URL + path, "event_types": every, "format": format}).Into(t, &h)
		rc.mu.Lock()
		rc.secrets[path] = h.Secret
		rc.mu.Unlock()
		return h.ID
	}
	jsonHook, slackHook := endpoint("/json", "json"), endpoint("/slack", "slack")
	// deliveries reads an endpoint's log as t, the step asking.
	deliveries := func(t *testing.T, id string) []hookLogEntry {
		var l []hookLogEntry
		p.Client(t).Must(200, "GET", "/webhooks/"+id+"/deliveries?limit=100", admin.Token, nil).Into(t, &l)
		return l
	}

	step("The endpoint secrets are not readable in the database.", func(t *testing.T) {
		db := p.PG.Conn(t)
		rc.mu.Lock()
		secrets := []string{rc.secrets["/json"], rc.secrets["/slack"]}
		rc.mu.Unlock()
		for _, s := range secrets {
			var n int
			if err := db.QueryRow(context.Background(), `SELECT count(*) FROM reporting.webhook_endpoints e
				WHERE position(convert_to($1, 'UTF8') IN e.secret) > 0 OR e::text LIKE '%' || $1 || '%'`, strings.TrimPrefix(s, "whsec_")).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%d endpoint rows hold a secret as it was given out", n)
			}
		}
	})

	// The Slack endpoint answers its first request 500: the log shows it,
	// and the retry 30 s later is delivered.
	rc.mu.Lock()
	rc.failNext["/slack"] = 1
	rc.mu.Unlock()
	c.Must(202, "POST", "/webhooks/"+jsonHook+"/test", admin.Token, nil)
	c.Must(202, "POST", "/webhooks/"+slackHook+"/test", admin.Token, nil)
	step("A test-send arrives signed.", func(t *testing.T) {
		if !WaitFor(30*time.Second, func() bool { return len(rc.received("/json")) > 0 }) {
			t.Fatalf("no test delivery reached the JSON endpoint within 30 s; its log: %v", deliveries(t, jsonHook))
		}
		var e hookEvent
		if got := rc.received("/json")[0]; got.Event != "webhook.test" || json.Unmarshal(got.Body, &e) != nil || e.Type != "webhook.test" || e.OrganizationID != admin.Org {
			t.Errorf("the first delivery %s %s, want the organization's webhook.test", got.Event, got.Body)
		}
		var l []hookLogEntry
		if !WaitFor(30*time.Second, func() bool { l = deliveries(t, slackHook); return len(l) == 1 && l[0].Attempts == 1 }) ||
			l[0].Status != "pending" || l[0].LastStatusCode == nil || *l[0].LastStatusCode != 500 {
			t.Errorf("the Slack endpoint's log after 30 s: %v, want its test-send pending after a 500", l)
		}
	})

	// Every event, through the public API.
	now := clock.Real.Now().UTC().Truncate(time.Second)
	s := c.StartSession(emp, now.Add(-13*time.Minute))
	if res, r, err := c.Agent(emp, NewLedger()).Bulk(s.ID, Heartbeats(now.Add(-12*time.Minute), 23, 30, "idle")); err != nil || res.Uploaded != 23 {
		t.Fatalf("idle heartbeats: %+v %v %v", res, r, err)
	}
	c.runJob(admin, "idle-detection", nil)
	alerts := c.alerts(admin, "&status=open&type=idle")
	if len(alerts) != 1 || alerts[0].UserID != emp.ID {
		t.Fatalf("open idle alerts %+v, want Ada's", alerts)
	}
	c.Must(200, "POST", "/alerts/"+alerts[0].ID+"/resolve", admin.Token, nil)
	c.StopSession(emp, s.ID)
	yesterday := now.Truncate(24 * time.Hour).Add(-24 * time.Hour)
	request := func(from time.Time, minutes int) string {
		var tr struct {
			ID string `json:"id"`
		}
		c.Must(201, "POST", "/time-requests", emp.Token, map[string]any{"start_time": from.Format(time.RFC3339),
			"end_time": from.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339), "note": "client visit"}).Into(t, &tr)
		return tr.ID
	}
	c.Must(200, "POST", "/time-requests/"+request(yesterday.Add(9*time.Hour), 60)+"/approve", admin.Token, nil)
	c.Must(200, "POST", "/time-requests/"+request(yesterday.Add(14*time.Hour), 30)+"/reject", admin.Token, map[string]any{"note": "no visit"})
	c.runJob(admin, "daily-summary", map[string]any{"date": yesterday.Format(time.DateOnly)})

	// byType is what path accepted, by event type, each once.
	byType := func(path string) map[string][]hookRequest {
		got := map[string][]hookRequest{}
		for _, r := range rc.received(path) {
			got[r.Event] = append(got[r.Event], r)
		}
		return got
	}
	// missing is the event types path has not accepted yet.
	missing := func(path string) []string {
		got := byType(path)
		var out []string
		for _, typ := range every {
			if len(got[typ]) == 0 {
				out = append(out, typ)
			}
		}
		return out
	}
	step("Every event reaches the JSON endpoint once, as the documented body.", func(t *testing.T) {
		if !WaitFor(90*time.Second, func() bool { return len(missing("/json")) == 0 }) {
			t.Fatalf("after 90 s the JSON endpoint still misses %v; its log: %v", missing("/json"), deliveries(t, jsonHook))
		}
		for typ, reqs := range byType("/json") {
			// Two manual entries were filed, each its own event.
			if want := map[string]int{"time.requested": 2}[typ]; len(reqs) != max(want, 1) {
				t.Errorf("%s arrived %d times, want %d", typ, len(reqs), max(want, 1))
			}
			var e hookEvent
			if err := json.Unmarshal(reqs[0].Body, &e); err != nil || e.Type != typ || e.OrganizationID != admin.Org || e.ID == "" || e.OccurredAt.IsZero() {
				t.Errorf("%s body %s (%v), want the event of the organization", typ, reqs[0].Body, err)
			}
			var d struct {
				UserID string `json:"user_id"`
				Date   string `json:"date"`
				Users  int    `json:"users"`
				Status string `json:"status"`
			}
			_ = json.Unmarshal(e.Data, &d)
			switch {
			case typ == "summary.ready" && (d.Date != yesterday.Format(time.DateOnly) || d.Users != 1):
				t.Errorf("summary.ready data %s, want yesterday with Ada's summary", e.Data)
			case typ != "summary.ready" && typ != "webhook.test" && d.UserID != emp.ID:
				t.Errorf("%s data %s, want Ada's", typ, e.Data)
			case typ == "time.approved" && d.Status != "approved", typ == "time.rejected" && d.Status != "rejected":
				t.Errorf("%s data %s", typ, e.Data)
			}
		}
	})
	step("Every event reaches the Slack endpoint as one line of text.", func(t *testing.T) {
		if !WaitFor(90*time.Second, func() bool { return len(missing("/slack")) == 0 }) {
			t.Fatalf("after 90 s the Slack endpoint still misses %v; its log: %v", missing("/slack"), deliveries(t, slackHook))
		}
		want := map[string]string{
			"alert.raised":    "WorkPulse: idle alert raised for Ada",
			"alert.resolved":  "WorkPulse: idle alert resolved for Ada",
			"session.started": "WorkPulse: Ada started a work session.",
			"session.stopped": "WorkPulse: Ada stopped a work session (",
			"time.requested":  "WorkPulse: Ada asks for a manual entry of ",
			"time.approved":   "WorkPulse: a manual entry of 1h0m0s from " + yesterday.Add(9*time.Hour).Format("2006-01-02 15:04") + " UTC was approved for Ada.",
			"time.rejected":   "WorkPulse: a manual entry of 30m0s from " + yesterday.Add(14*time.Hour).Format("2006-01-02 15:04") + " UTC was rejected for Ada.",
			"summary.ready":   "WorkPulse: the daily summary of " + yesterday.Format(time.DateOnly) + " is ready (1 member).",
		}
		for typ, reqs := range byType("/slack") {
			var m map[string]string
			if err := json.Unmarshal(reqs[0].Body, &m); err != nil || len(m) != 1 || !strings.HasPrefix(m["text"], want[typ]) {
				t.Errorf("%s as Slack %s, want {\"text\": %q...}", typ, reqs[0].Body, want[typ])
			}
		}
	})
	step("The delivery logs show each delivery with its status code.", func(t *testing.T) {
		var l []hookLogEntry
		delivered := func(id string) bool {
			l = deliveries(t, id)
			for _, d := range l {
				if d.Status != "delivered" {
					return false
				}
			}
			return true
		}
		if !WaitFor(60*time.Second, func() bool { return delivered(jsonHook) }) {
			t.Fatalf("the JSON endpoint's log after 60 s: %v, want every delivery delivered", l)
		}
		// time.requested twice, every other event once, and the test-send.
		if len(l) != len(every)+2 {
			t.Errorf("the JSON endpoint's log has %d entries, want %d", len(l), len(every)+2)
		}
		for _, d := range l {
			if d.LastStatusCode == nil || *d.LastStatusCode != 200 || d.Attempts != 1 {
				t.Errorf("JSON delivery %v, want delivered with a 200 at the first attempt", d)
			}
		}
		if !WaitFor(60*time.Second, func() bool { return delivered(slackHook) }) {
			t.Fatalf("the Slack endpoint's log after 60 s: %v, want every delivery delivered", l)
		}
		for _, d := range l {
			if d.EventType == "webhook.test" && (d.Attempts != 2 || d.LastStatusCode == nil || *d.LastStatusCode != 200) {
				t.Errorf("the Slack test-send %v, want delivered with a 200 at the second attempt after the 500", d)
			}
		}
	})

	step("While the receiver hangs, ingest answers at once and the deliveries wait.", func(t *testing.T) {
		c := p.Client(t)
		rc.down()
		s := c.StartSession(emp, clock.Real.Now().Add(-3*time.Minute))
		var slowest time.Duration
		for _, a := range Heartbeats(clock.Real.Now().Add(-150*time.Second), 5, 30, "active") {
			watch := clock.Start()
			c.Must(201, "POST", "/sessions/"+s.ID+"/activity", emp.Token, a)
			slowest = max(slowest, watch.Elapsed())
		}
		stopped := c.StopSession(emp, s.ID)
		if stopped.TotalActiveSeconds != 150 {
			t.Errorf("the session stopped with %d active seconds, want the 150 posted", stopped.TotalActiveSeconds)
		}
		// Each attempt at the hung receiver takes WEBHOOK_TIMEOUT (2 s); a post waiting for one would show.
		if slowest > 2*time.Second {
			t.Errorf("the slowest post took %s while the receiver hung", slowest)
		}
		var l []hookLogEntry
		timedOut := func() bool {
			l = deliveries(t, jsonHook)
			for _, d := range l {
				if d.EventType == "session.started" && d.Status == "pending" && d.Attempts >= 1 && d.LastStatusCode == nil && d.LastError != nil {
					return true
				}
			}
			return false
		}
		if !WaitFor(60*time.Second, timedOut) {
			t.Fatalf("the JSON endpoint's log after 60 s: %v, want the new session.started pending after an unanswered attempt", l)
		}
		rc.up()
		sessionEvents := func() int {
			n := 0
			for _, r := range rc.received("/json") {
				var e hookEvent
				if json.Unmarshal(r.Body, &e) == nil && strings.Contains(string(e.Data), s.ID) {
					n++
				}
			}
			return n
		}
		// The retry comes 30 s after the failed attempt.
		if !WaitFor(90*time.Second, func() bool { return sessionEvents() == 2 }) {
			t.Errorf("90 s after the receiver came back it had got %d of the new session's 2 events; the log: %v", sessionEvents(), deliveries(t, jsonHook))
		}
	})
}
