package report

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
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

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/sealbox"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestWebhookRetrySchedule(t *testing.T) {
	t.Parallel()
	created := ts("2026-05-04T12:00:00Z")
	tests := []struct {
		name     string
		now      time.Time
		attempts int
		wait     time.Duration
		failed   bool
	}{
		{name: "The first failed attempt is retried after 30 seconds.", now: created, attempts: 1, wait: 30 * time.Second},
		{name: "The second failed attempt is retried after a minute.", now: created.Add(30 * time.Second), attempts: 2, wait: time.Minute},
		{name: "The seventh failed attempt waits 32 minutes.", now: created.Add(time.Hour), attempts: 7, wait: 32 * time.Minute},
		{name: "Later attempts wait an hour at most.", now: created.Add(2 * time.Hour), attempts: 9, wait: time.Hour},
		{name: "Very many attempts still wait an hour.", now: created.Add(3 * time.Hour), attempts: 200, wait: time.Hour},
		{name: "A retry exactly at the end of the day is still made.", now: created.Add(23 * time.Hour), attempts: 30, wait: time.Hour},
		{name: "A retry past a day after the delivery was created is not made: the delivery has failed.", now: created.Add(23*time.Hour + time.Second), attempts: 30, failed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, ok := webhookRetryAt(created, tt.now, tt.attempts)
			if ok == tt.failed {
				t.Fatalf("retry = %v, want %v", ok, !tt.failed)
			}
			if ok && next.Sub(tt.now) != tt.wait {
				t.Errorf("retried after %s, want %s", next.Sub(tt.now), tt.wait)
			}
		})
	}
}

func TestWebhookEndpointsAPI(t *testing.T) {
	f := newFixture(t)
	created := f.do(http.MethodPost, "/api/webhooks", &f.admin, `{"url":"https://hooks.example.com/in","event_types":["alert.raised"]}`)
	if created.status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	hook := decode[Webhook](t, created)
	if !strings.HasPrefix(hook.Secret, "whsec_") || !hook.Enabled || hook.Format != "json" {
		t.Fatalf("created %+v: want an enabled endpoint with its secret", hook)
	}
	id := hook.ID

	tests := []struct {
		name   string
		method string
		path   string
		who    *authn.Principal
		body   string
		status int
		code   string
	}{
		{name: "An http URL is refused: deliveries are signed and go over https only.", method: http.MethodPost, path: "/api/webhooks",
			who: &f.admin, body: `{"url":"http://hooks.example.com/in","event_types":["alert.raised"]}`, status: 400, code: "VALIDATION_FAILED"},
		{name: "A URL with credentials is refused.", method: http.MethodPost, path: "/api/webhooks",
			who: &f.admin, body: `{"url":"https://u:p@hooks.example.com/in","event_types":["alert.raised"]}`, status: 400, code: "VALIDATION_FAILED"},
		{name: "An unknown event type is refused.", method: http.MethodPost, path: "/api/webhooks",
			who: &f.admin, body: `{"url":"https://hooks.example.com/in","event_types":["user.created"]}`, status: 400, code: "VALIDATION_FAILED"},
		{name: "An endpoint without event types is refused.", method: http.MethodPost, path: "/api/webhooks",
			who: &f.admin, body: `{"url":"https://hooks.example.com/in","event_types":[]}`, status: 400, code: "VALIDATION_FAILED"},
		{name: "An unknown payload format is refused.", method: http.MethodPost, path: "/api/webhooks",
			who: &f.admin, body: `{"url":"https://hooks.example.com/in","event_types":["alert.raised"],"format":"teams"}`, status: 400, code: "VALIDATION_FAILED"},
		{name: "An employee may not manage webhooks.", method: http.MethodGet, path: "/api/webhooks", who: &f.ada, status: 403},
		{name: "Another organization's admin does not find the endpoint to change.", method: http.MethodPatch, path: "/api/webhooks/" + id,
			who: &f.otherAdmin, body: `{"enabled":false}`, status: 404, code: "WEBHOOK_NOT_FOUND"},
		{name: "Another organization's admin does not find its delivery log.", method: http.MethodGet, path: "/api/webhooks/" + id + "/deliveries",
			who: &f.otherAdmin, status: 404, code: "WEBHOOK_NOT_FOUND"},
		{name: "Another organization's admin cannot test-send to it.", method: http.MethodPost, path: "/api/webhooks/" + id + "/test",
			who: &f.otherAdmin, status: 404, code: "WEBHOOK_NOT_FOUND"},
		{name: "Another organization's admin cannot delete it.", method: http.MethodDelete, path: "/api/webhooks/" + id,
			who: &f.otherAdmin, status: 404, code: "WEBHOOK_NOT_FOUND"},
		{name: "A change to an https URL is refused when it is not one.", method: http.MethodPatch, path: "/api/webhooks/" + id,
			who: &f.admin, body: `{"url":"ftp://hooks.example.com"}`, status: 400, code: "VALIDATION_FAILED"},
		{name: "A path id that is not a UUID is no endpoint.", method: http.MethodDelete, path: "/api/webhooks/nope", who: &f.admin, status: 404, code: "WEBHOOK_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(tt.method, tt.path, tt.who, tt.body)
			if r.status != tt.status || (tt.code != "" && r.code() != tt.code) {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
		})
	}

	patched := f.do(http.MethodPatch, "/api/webhooks/"+id, &f.admin, `{"enabled":false,"event_types":["session.started","alert.resolved"]}`)
	if patched.status != http.StatusOK {
		t.Fatalf("patch: %d %s", patched.status, patched.body)
	}
	list := f.do(http.MethodGet, "/api/webhooks", &f.admin, "")
	if strings.Contains(string(list.body), hook.Secret) || strings.Contains(string(list.body), `"secret"`) {
		t.Fatalf("the list shows the secret again: %s", list.body)
	}
	hooks := decode[[]Webhook](t, list)
	if len(hooks) != 1 || hooks[0].Enabled || hooks[0].URL != "https://hooks.example.com/in" ||
		strings.Join(hooks[0].EventTypes, ",") != "session.started,alert.resolved" {
		t.Fatalf("after the change: %+v", hooks)
	}
	if other := decode[[]Webhook](t, f.do(http.MethodGet, "/api/webhooks", &f.otherAdmin, "")); len(other) != 0 {
		t.Fatalf("another organization lists %+v", other)
	}
	if r := f.do(http.MethodDelete, "/api/webhooks/"+id, &f.admin, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := f.do(http.MethodGet, "/api/webhooks/"+id+"/deliveries", &f.admin, ""); r.status != http.StatusNotFound {
		t.Fatalf("deliveries of a deleted endpoint: %d %s", r.status, r.body)
	}
}

// receiver is an endpoint written for the test: it checks every
// signature itself, from the secret it was given, and answers 500 to the
// first failures requests of a path.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	secrets map[string]string // path -> secret
	fail    map[string]int
	got     map[string][]webhookBody
	raw     map[string][]string
	bad     []string
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{secrets: map[string]string{}, fail: map[string]int{}, got: map[string][]webhookBody{}, raw: map[string][]string{}}
	rc.srv = httptest.NewTLSServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

// transport trusts the receiver's certificate.
func (rc *receiver) transport() *http.Transport {
	return rc.srv.Client().Transport.(*http.Transport)
}

// newWebhookFixture is newFixture with WEBHOOK_ALLOW_PRIVATE_TARGETS set
// to allowPrivate: the test's receiver listens on loopback.
func newWebhookFixture(t *testing.T, allowPrivate bool) *fixture {
	t.Helper()
	e := newEnv(t)
	e.clock.Set(testStart.AddDate(0, 0, 2))
	e.cfg.WebhookAllowPrivateTargets = allowPrivate
	return fixtureOn(t, e)
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !verifySignature(rc.secrets[r.URL.Path], r.Header.Get("WorkPulse-Signature"), body) {
		rc.bad = append(rc.bad, r.URL.Path+": "+r.Header.Get("WorkPulse-Signature"))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if rc.fail[r.URL.Path] > 0 {
		rc.fail[r.URL.Path]--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	rc.raw[r.URL.Path] = append(rc.raw[r.URL.Path], string(body))
	var b webhookBody
	if err := json.Unmarshal(body, &b); err != nil || (b.Type != "" && r.Header.Get("WorkPulse-Event") != b.Type) {
		rc.bad = append(rc.bad, r.URL.Path+": body "+string(body))
	}
	rc.got[r.URL.Path] = append(rc.got[r.URL.Path], b)
}

// verifySignature checks the scheme of docs/webhooks.md from scratch.
func verifySignature(secret, header string, body []byte) bool {
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
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil || secret == "" {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(want), []byte(sig))
}

func (rc *receiver) received(path string) []webhookBody {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]webhookBody(nil), rc.got[path]...)
}

// endpoint adds, as p, an endpoint of body (whose "URL" becomes rc's path)
// and gives rc its secret, so that rc verifies what it receives there.
func (rc *receiver) endpoint(t *testing.T, f *fixture, p authn.Principal, path, body string) Webhook {
	t.Helper()
	r := f.do(http.MethodPost, "/api/webhooks", &p, strings.Replace(body, "URL", rc.srv.URL+path, 1))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	h := decode[Webhook](t, r)
	rc.mu.Lock()
	rc.secrets[path] = h.Secret
	rc.mu.Unlock()
	return h
}

func TestWebhookDeliveriesAreSignedRetriedAndScopedToTheirOrganization(t *testing.T) {
	f := newWebhookFixture(t, true)
	rc := newReceiver(t)
	add := func(p authn.Principal, path, body string) Webhook { return rc.endpoint(t, f, p, path, body) }
	ours := add(f.admin, "/ours", `{"url":"URL","event_types":["alert.raised","session.started"]}`)
	add(f.admin, "/slack", `{"url":"URL","event_types":["alert.raised"],"format":"slack"}`)
	add(f.admin, "/disabled", `{"url":"URL","event_types":["alert.raised"],"enabled":false}`)
	add(f.otherAdmin, "/theirs", `{"url":"URL","event_types":["alert.raised"]}`)
	rc.mu.Lock()
	rc.fail["/ours"] = 2
	rc.mu.Unlock()

	brokers := testkit.Kafka(t)
	f.runConsumers(t, brokers)
	org, other := f.admin.OrganizationID, f.otherAdmin.OrganizationID
	alert := func(org string) events.Envelope {
		ev, err := events.New(f.clock.Now(), "report", events.TypeAlertRaised, org, uuid.NewString(),
			events.Alert{AlertID: uuid.NewString(), OrganizationID: org, UserID: f.ada.UserID, AlertType: "idle", Message: "No activity for 20 minutes"})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	ourAlert, theirAlert := alert(org), alert(other)
	stopped, err := events.New(f.clock.Now(), "session", events.TypeSessionStopped, org, uuid.NewString(),
		events.SessionStopped{Session: events.Session{SessionID: uuid.NewString(), OrganizationID: org, UserID: f.ada.UserID, Status: "stopped"}})
	if err != nil {
		t.Fatal(err)
	}
	// The alert comes twice, as after a consumer restart: it is delivered once.
	testkit.Publish(t, brokers, ourAlert, ourAlert, theirAlert, stopped)
	deliveries := func() int { return f.count("SELECT count(*) FROM reporting.webhook_deliveries") }
	eventually(t, 60*time.Second, "the deliveries are written", func() bool { return deliveries() >= 3 })
	// The session.stopped event, published last, has been consumed once
	// its processed record exists.
	eventually(t, 60*time.Second, "the session.stopped event is consumed", func() bool {
		return f.count("SELECT count(*) FROM reporting.processed_events WHERE consumer = $1 AND event_id = $2", GroupWebhooks, stopped.ID) == 1
	})
	if n := deliveries(); n != 3 {
		t.Fatalf("%d deliveries, want one to each of our two enabled endpoints and one to theirs", n)
	}

	d := NewDeliverer(f.pool, rc.transport(), f.cfg, f.log, f.clock)
	attempt := func(want int) {
		t.Helper()
		n, err := d.DeliverDue(f.ctx)
		if err != nil || n != want {
			t.Fatalf("attempted %d (%v), want %d", n, err, want)
		}
	}
	log := func() WebhookDelivery {
		t.Helper()
		list := decode[[]WebhookDelivery](t, f.do(http.MethodGet, "/api/webhooks/"+ours.ID+"/deliveries", &f.admin, ""))
		if len(list) != 1 {
			t.Fatalf("delivery log %+v, want one entry", list)
		}
		return list[0]
	}
	start := f.clock.Now()
	attempt(3) // ours fails with a 500, the Slack one and theirs are delivered
	if l := log(); l.Status != "pending" || l.Attempts != 1 || *l.LastStatusCode != 500 || !l.NextAttemptAt.Equal(start.Add(30*time.Second)) {
		t.Fatalf("after a 500: %+v", l)
	}
	attempt(0) // nothing is due before the backoff has passed
	f.clock.Advance(30 * time.Second)
	attempt(1)
	if l := log(); l.Attempts != 2 || !l.NextAttemptAt.Equal(start.Add(90*time.Second)) {
		t.Fatalf("after the second 500: %+v", l)
	}
	f.clock.Advance(time.Minute)
	attempt(1)
	if l := log(); l.Status != "delivered" || l.Attempts != 3 || *l.LastStatusCode != 200 || l.NextAttemptAt != nil || l.DeliveredAt == nil {
		t.Fatalf("after success: %+v", l)
	}
	// Five attempts: two 500s left ours pending, then three deliveries.
	if p, dl := testutil.ToFloat64(d.outcomes.WithLabelValues("pending")), testutil.ToFloat64(d.outcomes.WithLabelValues("delivered")); p != 2 || dl != 3 {
		t.Errorf("attempts counted %v pending and %v delivered, want 2 and 3", p, dl)
	}
	var m dto.Metric
	if err := d.latency.Write(&m); err != nil || m.GetHistogram().GetSampleCount() != 5 {
		t.Errorf("latency samples %d (%v), want one per answered attempt, 5", m.GetHistogram().GetSampleCount(), err)
	}

	if got := rc.received("/ours"); len(got) != 1 || got[0].ID != ourAlert.ID || got[0].OrganizationID != org || got[0].Type != events.TypeAlertRaised {
		t.Errorf("our endpoint received %+v, want our alert once", got)
	}
	if got := rc.received("/theirs"); len(got) != 1 || got[0].ID != theirAlert.ID {
		t.Errorf("their endpoint received %+v, want their alert once", got)
	}
	rc.mu.Lock()
	slack := rc.raw["/slack"]
	rc.mu.Unlock()
	if want := `{"text":"WorkPulse: idle alert raised for Ada: No activity for 20 minutes"}`; len(slack) != 1 || slack[0] != want {
		t.Errorf("the Slack endpoint received %q, want %s", slack, want)
	}
	if got := rc.received("/disabled"); len(got) != 0 {
		t.Errorf("the disabled endpoint received %+v", got)
	}
	rc.mu.Lock()
	if len(rc.bad) > 0 {
		t.Errorf("requests failing the receiver's own checks: %v", rc.bad)
	}
	rc.mu.Unlock()

	// A test-send goes out at the next pass, signed like any delivery.
	if r := f.do(http.MethodPost, "/api/webhooks/"+ours.ID+"/test", &f.admin, ""); r.status != http.StatusAccepted {
		t.Fatalf("test-send: %d %s", r.status, r.body)
	}
	attempt(1)
	if got := rc.received("/ours"); len(got) != 2 || got[1].Type != WebhookTestEvent {
		t.Errorf("after the test-send our endpoint received %+v", got)
	}
}

func TestWebhookDeliveryFailsAfterADayOfFailures(t *testing.T) {
	f := newWebhookFixture(t, true)
	rc := newReceiver(t)
	r := f.do(http.MethodPost, "/api/webhooks", &f.admin, `{"url":"`+rc.srv.URL+`/down","event_types":["alert.raised"]}`)
	hook := decode[Webhook](t, r)
	rc.mu.Lock()
	rc.secrets["/down"], rc.fail["/down"] = hook.Secret, 1<<30
	rc.mu.Unlock()
	if r := f.do(http.MethodPost, "/api/webhooks/"+hook.ID+"/test", &f.admin, ""); r.status != http.StatusAccepted {
		t.Fatalf("test-send: %d %s", r.status, r.body)
	}
	d := NewDeliverer(f.pool, rc.transport(), f.cfg, f.log, f.clock)
	attempts := 0
	for {
		n, err := d.DeliverDue(f.ctx)
		if err != nil || n != 1 {
			t.Fatalf("attempted %d (%v), want the one due delivery", n, err)
		}
		attempts++
		var next *time.Time
		if err := f.db.Owner.QueryRow(f.ctx, "SELECT next_attempt_at FROM reporting.webhook_deliveries").Scan(&next); err != nil {
			t.Fatal(err)
		}
		if next == nil {
			break
		}
		f.clock.Set(*next)
	}
	list := decode[[]WebhookDelivery](t, f.do(http.MethodGet, "/api/webhooks/"+hook.ID+"/deliveries", &f.admin, ""))
	if len(list) != 1 || list[0].Status != "failed" || list[0].NextAttemptAt != nil || list[0].Attempts != attempts {
		t.Fatalf("after a day of 500s (%d attempts): %+v", attempts, list)
	}
	// Attempts at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 and 63.5 minutes, then
	// hourly up to 1383.5 minutes: the next would be past the day.
	if attempts != 30 {
		t.Errorf("%d attempts in a day, want 30", attempts)
	}
}

func TestWebhookPrivateTargetsAreRefusedUnlessAllowed(t *testing.T) {
	f := newWebhookFixture(t, false)
	tests := []struct {
		name string
		url  string
	}{
		{name: "A loopback IP literal is refused.", url: "https://127.0.0.1/in"},
		{name: "An IPv6 loopback literal is refused.", url: "https://[::1]:8443/in"},
		{name: "The cloud metadata address is refused.", url: "https://169.254.169.254/latest/meta-data"},
		{name: "A private IP literal is refused.", url: "https://10.0.0.7/in"},
		{name: "A name resolving to loopback is refused.", url: "https://localhost/in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(http.MethodPost, "/api/webhooks", &f.admin, `{"url":"`+tt.url+`","event_types":["alert.raised"]}`)
			if r.status != http.StatusBadRequest || r.code() != "VALIDATION_FAILED" || !strings.Contains(string(r.body), "private") {
				t.Fatalf("create: %d %s, want 400 VALIDATION_FAILED naming private addresses", r.status, r.body)
			}
		})
	}
	created := f.do(http.MethodPost, "/api/webhooks", &f.admin, `{"url":"https://hooks.example.com/in","event_types":["alert.raised"]}`)
	if created.status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	hook := decode[Webhook](t, created)
	if r := f.do(http.MethodPatch, "/api/webhooks/"+hook.ID, &f.admin, `{"url":"https://192.168.1.1/in"}`); r.status != http.StatusBadRequest || r.code() != "VALIDATION_FAILED" {
		t.Fatalf("change to a private address: %d %s, want 400 VALIDATION_FAILED", r.status, r.body)
	}

	// An endpoint already pointing at loopback (as after a DNS change) is
	// refused when the delivery dials it: failed at once, not retried.
	rc := newReceiver(t)
	f.exec("UPDATE reporting.webhook_endpoints SET url = $1 WHERE id = $2", rc.srv.URL+"/in", hook.ID)
	if r := f.do(http.MethodPost, "/api/webhooks/"+hook.ID+"/test", &f.admin, ""); r.status != http.StatusAccepted {
		t.Fatalf("test-send: %d %s", r.status, r.body)
	}
	d := NewDeliverer(f.pool, rc.transport(), f.cfg, f.log, f.clock)
	if n, err := d.DeliverDue(f.ctx); err != nil || n != 1 {
		t.Fatalf("attempted %d (%v), want the one due delivery", n, err)
	}
	list := decode[[]WebhookDelivery](t, f.do(http.MethodGet, "/api/webhooks/"+hook.ID+"/deliveries", &f.admin, ""))
	if len(list) != 1 || list[0].Status != "failed" || list[0].NextAttemptAt != nil || list[0].Attempts != 1 ||
		list[0].LastError == nil || !strings.Contains(*list[0].LastError, "refused") {
		t.Fatalf("delivery log %+v, want one failed attempt refused as a private target", list)
	}
	f.clock.Advance(time.Hour)
	if n, err := d.DeliverDue(f.ctx); err != nil || n != 0 {
		t.Fatalf("attempted %d (%v) later, want none: a refused delivery is not retried", n, err)
	}
	if n := testutil.ToFloat64(d.outcomes.WithLabelValues("failed")); n != 1 {
		t.Errorf("%v failed attempts counted, want the refused one", n)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got["/in"]) != 0 || len(rc.bad) != 0 {
		t.Errorf("the loopback receiver was reached: %v %v", rc.got, rc.bad)
	}
}

func TestWebhookSecretsAreSealedAtRestAndStillSign(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(testStart.AddDate(0, 0, 2))
	e.cfg.WebhookAllowPrivateTargets = true
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	c, err := sealbox.New(base64.StdEncoding.EncodeToString(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.cfg.SecretCipher = c
	f := fixtureOn(t, e)
	rc := newReceiver(t)
	hook := decode[Webhook](t, f.do(http.MethodPost, "/api/webhooks", &f.admin, `{"url":"`+rc.srv.URL+`/new","event_types":["alert.raised"]}`))
	// An endpoint stored before encryption, as migration 00208 leaves it.
	legacy, legacySecret := uuid.NewString(), "whsec_stored_before_encryption"
	f.exec(`INSERT INTO reporting.webhook_endpoints (id, organization_id, url, event_types, secret, enabled, format, created_at, updated_at)
		VALUES ($1, $2, $3, '{alert.raised}', '\x77707031'::bytea || convert_to($4, 'UTF8'), true, 'json', now(), now())`,
		legacy, f.admin.OrganizationID, rc.srv.URL+"/legacy", legacySecret)
	rc.mu.Lock()
	rc.secrets["/new"], rc.secrets["/legacy"] = hook.Secret, legacySecret
	rc.mu.Unlock()

	n, err := ResealWebhookSecrets(f.ctx, f.pool, c)
	if err != nil || n != 1 {
		t.Fatalf("resealed %d (%v), want the one stored before encryption", n, err)
	}
	if n, err := ResealWebhookSecrets(f.ctx, f.pool, c); err != nil || n != 0 {
		t.Fatalf("a second start resealed %d (%v), want none", n, err)
	}
	for _, secret := range []string{hook.Secret, legacySecret, strings.TrimPrefix(hook.Secret, "whsec_")} {
		if n := f.count(`SELECT count(*) FROM reporting.webhook_endpoints e
			WHERE position(convert_to($1, 'UTF8') IN e.secret) > 0 OR e::text LIKE '%' || $1 || '%'`, secret); n != 0 {
			t.Errorf("the database holds the secret %q in %d rows", secret, n)
		}
	}

	for _, id := range []string{hook.ID, legacy} {
		if r := f.do(http.MethodPost, "/api/webhooks/"+id+"/test", &f.admin, ""); r.status != http.StatusAccepted {
			t.Fatalf("test-send: %d %s", r.status, r.body)
		}
	}
	d := NewDeliverer(f.pool, rc.transport(), f.cfg, f.log, f.clock)
	if n, err := d.DeliverDue(f.ctx); err != nil || n != 2 {
		t.Fatalf("attempted %d (%v), want both test-sends", n, err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) != 0 || len(rc.got["/new"]) != 1 || len(rc.got["/legacy"]) != 1 {
		t.Errorf("the receiver verified %d and %d deliveries, refused %v: want each signed with its endpoint's secret",
			len(rc.got["/new"]), len(rc.got["/legacy"]), rc.bad)
	}
}

func TestWebhookQueueGaugesShowThePendingDeliveriesAndTheLogIsPrunedInBoundedBatches(t *testing.T) {
	f := newWebhookFixture(t, true)
	rc := newReceiver(t)
	hooks := map[string]Webhook{}
	for _, path := range []string{"/ok", "/down"} {
		hooks[path] = decode[Webhook](t, f.do(http.MethodPost, "/api/webhooks", &f.admin, `{"url":"`+rc.srv.URL+path+`","event_types":["alert.raised"]}`))
		rc.mu.Lock()
		rc.secrets[path] = hooks[path].Secret
		rc.mu.Unlock()
	}
	rc.mu.Lock()
	rc.fail["/down"] = 1 << 30
	rc.mu.Unlock()
	for _, path := range []string{"/ok", "/down"} {
		if r := f.do(http.MethodPost, "/api/webhooks/"+hooks[path].ID+"/test", &f.admin, ""); r.status != http.StatusAccepted {
			t.Fatalf("test-send %s: %d %s", path, r.status, r.body)
		}
	}
	d := NewDeliverer(f.pool, rc.transport(), f.cfg, f.log, f.clock)
	if n, err := d.DeliverDue(f.ctx); err != nil || n != 2 {
		t.Fatalf("attempted %d (%v), want both deliveries", n, err)
	}
	maintain := func() {
		t.Helper()
		if err := d.Maintain(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(90 * time.Second)
	maintain()
	if p, age := testutil.ToFloat64(d.pending), testutil.ToFloat64(d.oldestAge); p != 1 || age != 90 {
		t.Fatalf("pending %v, oldest age %v s; want the failing delivery, 90 s old", p, age)
	}

	// 2,500 finished deliveries past the retention, one inside it, and the
	// pending one far older than any retention, which stays however old.
	f.exec(`INSERT INTO reporting.webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, body, status, created_at)
		SELECT gen_random_uuid(), organization_id, id, gen_random_uuid(), 'alert.raised', '{}', CASE WHEN i % 2 = 0 THEN 'delivered' ELSE 'failed' END,
		  $2::timestamptz - interval '1 minute' * i
		FROM reporting.webhook_endpoints, generate_series(1, 2500) i WHERE id = $1`, hooks["/ok"].ID, f.clock.Now().Add(-WebhookLogRetention))
	f.exec("UPDATE reporting.webhook_deliveries SET created_at = $1 WHERE status = 'pending'", f.clock.Now().Add(-90*24*time.Hour))
	count := func(status string) int {
		return f.count("SELECT count(*) FROM reporting.webhook_deliveries WHERE status = $1 OR $1 = ''", status)
	}
	tests := []struct {
		name string
		want int
	}{
		{name: "The first pass deletes one batch of the old deliveries.", want: 2 + 2500 - webhookPruneBatch},
		{name: "The second pass deletes another batch.", want: 2 + 2500 - 2*webhookPruneBatch},
		{name: "The third pass deletes the rest, keeping the recent and the pending delivery.", want: 2},
		{name: "A further pass deletes nothing.", want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			maintain()
			if got := count(""); got != tt.want {
				t.Fatalf("%d deliveries left, want %d", got, tt.want)
			}
		})
	}
	if count("pending") != 1 || count("delivered") != 1 {
		t.Errorf("left %d pending and %d delivered, want the failing one pending and the recent one delivered", count("pending"), count("delivered"))
	}
	if age := testutil.ToFloat64(d.oldestAge); age != (90 * 24 * time.Hour).Seconds() {
		t.Errorf("oldest age %v s, want 90 days", age)
	}
	// A disabled endpoint's deliveries wait without an attempt; they are not
	// a queue that stalls.
	if r := f.do(http.MethodPatch, "/api/webhooks/"+hooks["/down"].ID, &f.admin, `{"enabled":false}`); r.status != http.StatusOK {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	maintain()
	if p, age := testutil.ToFloat64(d.pending), testutil.ToFloat64(d.oldestAge); p != 0 || age != 0 {
		t.Errorf("with the endpoint disabled: pending %v, oldest age %v s; want none", p, age)
	}
}

// TestTimeRequestEventsReachTheEndpointsSubscribedToThem publishes a
// manual entry's request and approval and a session edit's rejection:
// each endpoint gets, signed, exactly the steps it subscribed to, and a
// Slack endpoint a line naming the member and the period.
func TestTimeRequestEventsReachTheEndpointsSubscribedToThem(t *testing.T) {
	f := newWebhookFixture(t, true)
	rc := newReceiver(t)
	rc.endpoint(t, f, f.admin, "/time", `{"url":"URL","event_types":["time.requested","time.approved","time.rejected"]}`)
	rc.endpoint(t, f, f.admin, "/slack", `{"url":"URL","event_types":["time.approved","time.rejected"],"format":"slack"}`)
	rc.endpoint(t, f, f.admin, "/alerts", `{"url":"URL","event_types":["alert.raised"]}`)
	brokers := testkit.Kafka(t)
	f.runConsumers(t, brokers)
	org := f.admin.OrganizationID
	from := time.Date(2027, 6, 14, 9, 0, 0, 0, time.UTC)
	step := func(typ, kind, status string, hours int) events.Envelope {
		ev, err := events.New(f.clock.Now(), "ingest", typ, org, f.ada.UserID, events.TimeRequest{RequestID: uuid.NewString(), OrganizationID: org,
			UserID: f.ada.UserID, Kind: kind, Status: status, StartTime: from, EndTime: from.Add(time.Duration(hours) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	requested, approved := step(events.TypeTimeRequested, "entry", "pending", 1), step(events.TypeTimeApproved, "entry", "approved", 1)
	rejected := step(events.TypeTimeRejected, "edit", "rejected", 2)
	testkit.Publish(t, brokers, requested, approved, rejected)
	eventually(t, 60*time.Second, "the rejection is consumed", func() bool {
		return f.count("SELECT count(*) FROM reporting.processed_events WHERE consumer = $1 AND event_id = $2", GroupWebhooks, rejected.ID) == 1
	})
	d := NewDeliverer(f.pool, rc.transport(), f.cfg, f.log, f.clock)
	if n, err := d.DeliverDue(f.ctx); err != nil || n != 5 {
		t.Fatalf("delivered %d (%v), want the three steps to /time and two to /slack", n, err)
	}
	var got []string
	for _, b := range rc.received("/time") {
		got = append(got, b.Type+" "+b.ID)
	}
	slices.Sort(got)
	want := []string{events.TypeTimeApproved + " " + approved.ID, events.TypeTimeRejected + " " + rejected.ID, events.TypeTimeRequested + " " + requested.ID}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("/time received %v, want %v", got, want)
	}
	rc.mu.Lock()
	slack := slices.Sorted(slices.Values(rc.raw["/slack"]))
	bad := rc.bad
	rc.mu.Unlock()
	wantSlack := []string{`{"text":"WorkPulse: a manual entry of 1h0m0s from 2027-06-14 09:00 UTC was approved for Ada."}`,
		`{"text":"WorkPulse: a work session edited to 2h0m0s from 2027-06-14 09:00 UTC was rejected for Ada."}`}
	if fmt.Sprint(slack) != fmt.Sprint(wantSlack) {
		t.Errorf("/slack received %q, want %q", slack, wantSlack)
	}
	if got := rc.received("/alerts"); len(got) != 0 {
		t.Errorf("the alerts endpoint received %+v", got)
	}
	if len(bad) > 0 {
		t.Errorf("requests failing the receiver's own checks: %v", bad)
	}
}

// TestAReceiverCertifiedByAPrivateCAIsReachedThroughWEBHOOK_CA_FILE sends a
// test delivery to a receiver whose certificate the system does not trust:
// it fails until the receiver's CA is in WEBHOOK_CA_FILE.
func TestAReceiverCertifiedByAPrivateCAIsReachedThroughWEBHOOK_CA_FILE(t *testing.T) {
	rc := newReceiver(t)
	caFile := filepath.Join(t.TempDir(), "receivers.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	// The cases run side by side on one receiver, so each has a path (and
	// with it a secret) of its own.
	for _, c := range []struct {
		name   string
		env    map[string]string
		path   string
		status string
	}{
		{"Without the setting the receiver's certificate is refused and the delivery retried.", nil, "/untrusted", "pending"},
		{"With the receiver's CA in WEBHOOK_CA_FILE the delivery is made.", map[string]string{"WEBHOOK_CA_FILE": caFile}, "/trusted", "delivered"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newWebhookFixture(t, true)
			e := config.FromMap(c.env)
			loaded := LoadConfig(e, config.LoadCommon(e, "report", ":0"))
			if err := e.Err(); err != nil {
				t.Fatal(err)
			}
			f.cfg.WebhookRoots = loaded.WebhookRoots
			hook := rc.endpoint(t, f, f.admin, c.path, `{"url":"URL","event_types":["alert.raised"]}`)
			if r := f.do(http.MethodPost, "/api/webhooks/"+hook.ID+"/test", &f.admin, ""); r.status != http.StatusAccepted {
				t.Fatalf("test-send: %d %s", r.status, r.body)
			}
			// No transport of the test's: the deliverer's own, as the service runs it.
			d := NewDeliverer(f.pool, nil, f.cfg, f.log, f.clock)
			if n, err := d.DeliverDue(f.ctx); err != nil || n != 1 {
				t.Fatalf("attempted %d (%v), want the test delivery", n, err)
			}
			list := decode[[]WebhookDelivery](t, f.do(http.MethodGet, "/api/webhooks/"+hook.ID+"/deliveries", &f.admin, ""))
			if len(list) != 1 || list[0].Status != c.status {
				t.Fatalf("delivery log %+v, want the delivery %s", list, c.status)
			}
			if c.status == "pending" && (list[0].LastError == nil || !strings.Contains(*list[0].LastError, "certificate")) {
				t.Errorf("last error %v, want the certificate named", list[0].LastError)
			}
		})
	}
}

// TestReportRefusesToStartWithAnUnusableWebhookCAFileAndSealsWithTheInstallationKey
// loads report's settings: a CA file that is missing or holds no
// certificate stops the start; SIGNING_KEY_ENCRYPTION_KEY gives the cipher
// that seals the endpoints' secrets.
func TestReportRefusesToStartWithAnUnusableWebhookCAFileAndSealsWithTheInstallationKey(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, file, want string
	}{
		{"A missing file is refused.", filepath.Join(dir, "missing.pem"), "cannot be read"},
		{"A file without a PEM certificate is refused.", notPEM, "holds no PEM certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := config.FromMap(map[string]string{"WEBHOOK_CA_FILE": c.file})
			LoadConfig(e, config.LoadCommon(e, "report", ":0"))
			if err := e.Err(); err == nil || !strings.Contains(err.Error(), "WEBHOOK_CA_FILE") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("configuration error %v, want WEBHOOK_CA_FILE %s", err, c.want)
			}
		})
	}
	t.Run("The installation's key seals the webhook secrets.", func(t *testing.T) {
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		e := config.FromMap(map[string]string{"SIGNING_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(raw)})
		cfg := LoadConfig(e, config.LoadCommon(e, "report", ":0"))
		if err := e.Err(); err != nil || cfg.SecretCipher == nil {
			t.Fatalf("cipher %v (%v), want one of the key", cfg.SecretCipher, err)
		}
		if sealed := cfg.SecretCipher.SealSecret("ad", []byte("whsec_x")); strings.Contains(string(sealed), "whsec_x") {
			t.Errorf("sealed %q holds the secret", sealed)
		}
	})
}
