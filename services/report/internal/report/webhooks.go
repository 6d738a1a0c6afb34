package report

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/netguard"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/platform/sealbox"
	"github.com/workpulse/workpulse/services/platform/validate"
)

// WebhookEventTypes are the events an endpoint may subscribe to.
var WebhookEventTypes = []string{events.TypeAlertRaised, events.TypeAlertResolved, events.TypeSessionStarted, events.TypeSessionStopped,
	events.TypeTimeRequested, events.TypeTimeApproved, events.TypeTimeRejected, events.TypeSummaryReady}

// WebhookTestEvent is the type of the delivery POST /api/webhooks/{id}/test sends.
const WebhookTestEvent = "webhook.test"

// The retry schedule: the first retry after webhookFirstRetry, each next
// one twice as late up to webhookMaxRetry apart, none later than
// webhookRetryWindow after the delivery was created; then it has failed.
const (
	webhookFirstRetry  = 30 * time.Second
	webhookMaxRetry    = time.Hour
	webhookRetryWindow = 24 * time.Hour
	// webhookBatch bounds the deliveries of one organization one pass
	// sends, so that one organization's backlog does not starve the others.
	webhookBatch = 20
)

// WebhookLogRetention is how long the delivery log keeps a delivered or
// failed delivery; webhookPruneBatch bounds what one pass deletes, so that
// a backlog of old rows goes over many passes in short transactions.
const (
	WebhookLogRetention = 30 * 24 * time.Hour
	webhookPruneBatch   = 1000
)

// WebhookInterval is how often the serving process sends due deliveries.
const WebhookInterval = time.Second

// Webhook is an endpoint as the API shows it. Secret is set only in the
// answer to its creation.
type Webhook struct {
	ID         string    `json:"id"`
	URL        string    `json:"url"`
	EventTypes []string  `json:"event_types"`
	Enabled    bool      `json:"enabled"`
	Format     string    `json:"format"`
	Secret     string    `json:"secret,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// WebhookDelivery is one entry of an endpoint's delivery log.
type WebhookDelivery struct {
	ID             string     `json:"id"`
	EventID        string     `json:"event_id"`
	EventType      string     `json:"event_type"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	LastStatusCode *int       `json:"last_status_code"`
	LastError      *string    `json:"last_error"`
	CreatedAt      time.Time  `json:"created_at"`
	DeliveredAt    *time.Time `json:"delivered_at"`
}

// webhookInput is the body of POST and PATCH /api/webhooks; a PATCH
// leaves what it omits as it was.
type webhookInput struct {
	URL        *string   `json:"url"`
	EventTypes *[]string `json:"event_types"`
	Enabled    *bool     `json:"enabled"`
	Format     *string   `json:"format"`
}

// check validates what the body sets; creating requires url and event_types.
// Unless allowPrivate, a URL whose host is or resolves to a private
// address is refused.
func (in webhookInput) check(ctx context.Context, creating, allowPrivate bool) error {
	var v validate.Fields
	switch {
	case in.URL != nil:
		switch {
		case !webhookURLAllowed(*in.URL):
			v.Add("url", "must be an absolute https URL without credentials, at most 2048 characters", validate.Echo(*in.URL))
		case !allowPrivate && privateWebhookTarget(ctx, *in.URL):
			v.Add("url", "must not be or resolve to a loopback, private, link-local, CGNAT, multicast or unspecified address", validate.Echo(*in.URL))
		}
	case creating:
		v.Add("url", "is required", nil)
	}
	switch {
	case in.EventTypes != nil:
		if len(*in.EventTypes) == 0 {
			v.Add("event_types", "must name at least one event type", nil)
		}
		for i, t := range *in.EventTypes {
			v.OneOf("event_types["+strconv.Itoa(i)+"]", t, WebhookEventTypes...)
		}
	case creating:
		v.Add("event_types", "is required", nil)
	}
	if in.Format != nil {
		v.OneOf("format", *in.Format, webhookFormats...)
	}
	return v.Err()
}

// webhookFormats are the bodies an endpoint may receive: the event as
// JSON, or a Slack-compatible {"text": ...} message.
var webhookFormats = []string{"json", "slack"}

// webhookURLAllowed accepts https only: the body and its signature would
// otherwise cross the network readable, and the secret-derived signature
// with it.
func webhookURLAllowed(s string) bool {
	u, err := url.Parse(s)
	return err == nil && len(s) <= 2048 && u.Scheme == "https" && u.Hostname() != "" && u.User == nil
}

// newWebhookSecret returns 32 random bytes, hex encoded.
func newWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "whsec_" + hex.EncodeToString(b)
}

// webhookSecretAD binds a sealed secret to its endpoint's row.
func webhookSecretAD(id string) string { return "reporting.webhook_endpoints " + id }

// ResealWebhookSecrets seals every endpoint secret not sealed with the
// current key of c: the ones stored before encryption or with a previous
// key; the serving process runs it at start, which is how the secrets are
// encrypted and the key rotated. It returns how many it rewrote.
func ResealWebhookSecrets(ctx context.Context, db *pgxpool.Pool, c *sealbox.Cipher) (int, error) {
	orgs, err := tenantIDsWithWebhooks(ctx, db)
	if err != nil {
		return 0, fmt.Errorf("list tenants with webhooks: %w", err)
	}
	n := 0
	for _, org := range orgs {
		err := pg.InOrg(ctx, db, org, func(tx pgx.Tx) error {
			stored, err := lockWebhookSecrets(ctx, tx)
			if err != nil {
				return err
			}
			for _, s := range stored {
				secret, current, err := c.OpenSecret("the secret of webhook "+s.id, webhookSecretAD(s.id), s.sealed)
				if err != nil {
					return err
				}
				if current {
					continue
				}
				if err := updateWebhookSecret(ctx, tx, s.id, c.SealSecret(webhookSecretAD(s.id), secret)); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("organization %s: %w", org, err)
		}
	}
	return n, nil
}

// SignWebhook is the WorkPulse-Signature header of body sent at t:
// t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>.
func SignWebhook(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// webhookBody is what an endpoint receives: the event, without the
// internal routing fields of its envelope.
type webhookBody struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	OrganizationID string          `json:"organization_id"`
	OccurredAt     time.Time       `json:"occurred_at"`
	Data           json.RawMessage `json:"data"`
}

func webhookBodyOf(e events.Envelope) (string, error) {
	b, err := json.Marshal(webhookBody{ID: e.ID, Type: e.Type, OrganizationID: e.OrganizationID, OccurredAt: e.Time, Data: e.Data})
	return string(b), err
}

// slackBodyOf is e as a Slack-compatible message; who names the user it
// is about ("" when unknown).
func slackBodyOf(e events.Envelope, who string) (string, error) {
	text, err := slackText(e, who)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]string{"text": text})
	return string(b), err
}

// slackText is the line a chat shows for e.
func slackText(e events.Envelope, who string) (string, error) {
	if who == "" {
		who = "A member"
	}
	switch e.Type {
	case events.TypeAlertRaised, events.TypeAlertResolved:
		var a events.Alert
		if err := e.Payload(&a); err != nil {
			return "", err
		}
		verb := "raised"
		if e.Type == events.TypeAlertResolved {
			verb = "resolved"
		}
		return fmt.Sprintf("WorkPulse: %s alert %s for %s: %s", a.AlertType, verb, who, a.Message), nil
	case events.TypeSessionStarted:
		return fmt.Sprintf("WorkPulse: %s started a work session.", who), nil
	case events.TypeSessionStopped:
		var s events.SessionStopped
		if err := e.Payload(&s); err != nil {
			return "", err
		}
		return fmt.Sprintf("WorkPulse: %s stopped a work session (%s active, %s idle).", who,
			time.Duration(s.TotalActiveSeconds)*time.Second, time.Duration(s.TotalIdleSeconds)*time.Second), nil
	case events.TypeTimeRequested, events.TypeTimeApproved, events.TypeTimeRejected:
		var r events.TimeRequest
		if err := e.Payload(&r); err != nil {
			return "", err
		}
		what := "a manual entry of %s from %s UTC"
		if r.Kind == "edit" {
			what = "a work session edited to %s from %s UTC"
		}
		what = fmt.Sprintf(what, r.EndTime.Sub(r.StartTime), r.StartTime.UTC().Format("2006-01-02 15:04"))
		if e.Type == events.TypeTimeRequested {
			return fmt.Sprintf("WorkPulse: %s asks for %s, to review.", who, what), nil
		}
		return fmt.Sprintf("WorkPulse: %s was %s for %s.", what, r.Status, who), nil
	case events.TypeSummaryReady:
		var r events.SummaryReady
		if err := e.Payload(&r); err != nil {
			return "", err
		}
		members := "members"
		if r.Users == 1 {
			members = "member"
		}
		return fmt.Sprintf("WorkPulse: the daily summary of %s is ready (%d %s).", r.Date, r.Users, members), nil
	}
	return "WorkPulse: " + e.Type, nil
}

// eventUserID is the user an alert or session event is about.
func eventUserID(e events.Envelope) string {
	var u struct {
		UserID string `json:"user_id"`
	}
	_ = json.Unmarshal(e.Data, &u) // a payload without one names no one
	return u.UserID
}

// webhookRetryAt is when a delivery created at created is tried again
// after its attempts-th failed attempt at now; ok is false when that
// would be past the retry window, and the delivery has failed.
func webhookRetryAt(created, now time.Time, attempts int) (next time.Time, ok bool) {
	wait := webhookMaxRetry
	if attempts <= 8 { // 30s << 7 is past the cap already
		wait = min(webhookFirstRetry<<(attempts-1), webhookMaxRetry)
	}
	next = now.Add(wait)
	if next.After(created.Add(webhookRetryWindow)) {
		return time.Time{}, false
	}
	return next, true
}

// Deliverer sends the due webhook deliveries of every organization.
type Deliverer struct {
	db     *pgxpool.Pool
	client *http.Client
	log    *slog.Logger
	// clock decides what is due, stamps the signatures and schedules retries.
	clock   clock.Clock
	timeout time.Duration
	cipher  *sealbox.Cipher
	// outcomes counts attempts by the state they leave the delivery in;
	// latency times the attempts that got an answer.
	outcomes *prometheus.CounterVec
	latency  prometheus.Histogram
	// pending and oldestAge are the queue of every organization as the
	// last pass found it.
	pending   prometheus.Gauge
	oldestAge prometheus.Gauge
}

// Collectors are the deliverer's metrics, for the service's registry.
func (d *Deliverer) Collectors() []prometheus.Collector {
	return []prometheus.Collector{d.outcomes, d.latency, d.pending, d.oldestAge}
}

// NewDeliverer returns a deliverer sending through transport (nil: the
// default one), each attempt bounded by cfg.WebhookTimeout; unless
// cfg.WebhookAllowPrivateTargets, its connections to private addresses are
// refused; with cfg.WebhookRoots, receivers' certificates are checked
// against those. It opens the endpoints' secrets with cfg.SecretCipher.
func NewDeliverer(db *pgxpool.Pool, transport *http.Transport, cfg Config, log *slog.Logger, clk clock.Clock) *Deliverer {
	timeout := cfg.WebhookTimeout
	client := &http.Client{Transport: webhookTransport(transport, cfg), Timeout: timeout,
		// A redirect is an answer of the endpoint, not a place to send the
		// signed event to (nor a way around the private target check).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	outcomes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "workpulse_webhook_attempts_total",
		Help: "Webhook delivery attempts by the state they leave the delivery in: delivered, pending (to be retried) or failed.",
	}, []string{"outcome"})
	// Every outcome is exported from the start, at 0, so the dashboard and
	// rate() see an installation without deliveries rather than no series.
	for _, outcome := range []string{"delivered", "pending", "failed"} {
		outcomes.WithLabelValues(outcome)
	}
	return &Deliverer{db: db, client: client, log: log, clock: clk, timeout: timeout, cipher: cfg.SecretCipher,
		outcomes: outcomes,
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "workpulse_webhook_attempt_duration_seconds",
			Help:    "Time of the webhook delivery attempts that got an answer from the endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 9),
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "workpulse_webhook_pending_deliveries",
			Help: "Webhook deliveries to the enabled endpoints of every organization waiting for their first or a further attempt.",
		}),
		oldestAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "workpulse_webhook_oldest_pending_age_seconds",
			Help: "Age of the oldest pending webhook delivery to an enabled endpoint (0 with none pending).",
		})}
}

// Run sends due deliveries every WebhookInterval until ctx ends, for
// app.Service.Workers.
func (d *Deliverer) Run(ctx context.Context) error {
	clock.Every(ctx, WebhookInterval, func(ctx context.Context) {
		if _, err := d.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("webhook deliveries failed", "err", err)
		}
		if err := d.Maintain(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("webhook queue upkeep failed", "err", err)
		}
	})
	return nil
}

// DeliverDue makes one attempt at each due delivery (at most webhookBatch
// per organization) and returns how many it attempted.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	orgs, err := tenantIDsWithDueWebhooks(ctx, d.db, d.clock.Now())
	if err != nil {
		return 0, fmt.Errorf("list tenants with due webhooks: %w", err)
	}
	done := 0
	var errs []error
	for _, org := range orgs {
		n, err := d.deliver(ctx, org)
		done += n
		if err != nil {
			errs = append(errs, fmt.Errorf("organization %s: %w", org, err))
		}
	}
	return done, errors.Join(errs...)
}

// Maintain sets the queue gauges and prunes one batch of the delivery log:
// a finished delivery is kept for WebhookLogRetention.
func (d *Deliverer) Maintain(ctx context.Context) error {
	now := d.clock.Now()
	pending, oldest, err := webhookQueue(ctx, d.db)
	if err != nil {
		return fmt.Errorf("read the webhook queue: %w", err)
	}
	d.pending.Set(float64(pending))
	age := 0.0
	if oldest != nil {
		age = max(now.Sub(*oldest).Seconds(), 0)
	}
	d.oldestAge.Set(age)
	if _, err := pruneWebhookDeliveries(ctx, d.db, now.Add(-WebhookLogRetention), webhookPruneBatch); err != nil {
		return fmt.Errorf("prune the webhook delivery log: %w", err)
	}
	return nil
}

// deliver claims org's due deliveries, moving their next attempt past the
// time an attempt can take so that no other process sends them meanwhile
// (and a crash retries them), then sends each outside any transaction.
func (d *Deliverer) deliver(ctx context.Context, org string) (int, error) {
	var claimed []claimedDelivery
	now := d.clock.Now()
	err := pg.InOrg(ctx, d.db, org, func(tx pgx.Tx) error {
		var err error
		claimed, err = claimDueDeliveries(ctx, tx, now, now.Add(2*d.timeout), webhookBatch)
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, c := range claimed {
		began := d.clock.Now()
		code, sendErr := d.send(ctx, c)
		now := d.clock.Now()
		if code != 0 {
			d.latency.Observe(now.Sub(began).Seconds())
		}
		var status string
		if err := pg.InOrg(ctx, d.db, org, func(tx pgx.Tx) error {
			var err error
			status, err = recordAttempt(ctx, tx, c, code, sendErr, now)
			return err
		}); err != nil {
			return 0, err
		}
		d.outcomes.WithLabelValues(status).Inc()
	}
	return len(claimed), nil
}

// send posts c's body signed with its endpoint's secret and returns the
// status code (0 without an answer); an answer other than 2xx is an error.
func (d *Deliverer) send(ctx context.Context, c claimedDelivery) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, strings.NewReader(c.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "WorkPulse-Webhooks")
	req.Header.Set("WorkPulse-Event", c.eventType)
	req.Header.Set("WorkPulse-Delivery", c.id)
	secret, _, err := d.cipher.OpenSecret("the secret of webhook "+c.endpointID, webhookSecretAD(c.endpointID), c.sealedSecret)
	if err != nil {
		return 0, err
	}
	req.Header.Set("WorkPulse-Signature", SignWebhook(string(secret), d.clock.Now(), []byte(c.body)))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// Read a little of the answer so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the endpoint answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// deliveryOutcome is what an attempt changes in its delivery.
type deliveryOutcome struct {
	status      string
	next        *time.Time
	lastError   *string
	deliveredAt *time.Time
}

// outcomeOf decides a delivery's state after its attempts-th attempt at now.
func outcomeOf(created, now time.Time, attempts int, sendErr error) deliveryOutcome {
	if sendErr == nil {
		return deliveryOutcome{status: "delivered", deliveredAt: &now}
	}
	msg := sendErr.Error()
	// A private target stays one: retrying it for a day would only repeat
	// the refusal.
	if errors.Is(sendErr, netguard.ErrPrivate) {
		return deliveryOutcome{status: "failed", lastError: &msg}
	}
	if next, ok := webhookRetryAt(created, now, attempts); ok {
		return deliveryOutcome{status: "pending", next: &next, lastError: &msg}
	}
	return deliveryOutcome{status: "failed", lastError: &msg}
}

// HandleWebhooks writes a delivery for every enabled endpoint of the
// event's organization subscribed to its type, once per event.
func (c *Consumers) HandleWebhooks(ctx context.Context, e events.Envelope) error {
	if !slices.Contains(WebhookEventTypes, e.Type) {
		return nil
	}
	if !isUUID(e.OrganizationID) || !isUUID(e.ID) {
		return fmt.Errorf("%w: organization_id and id must be UUIDs", events.ErrMalformed)
	}
	body, err := webhookBodyOf(e)
	if err != nil {
		return err
	}
	return c.once(ctx, e, GroupWebhooks, func(tx pgx.Tx) error {
		who, err := memberName(ctx, tx, eventUserID(e))
		if err != nil {
			return err
		}
		slack, err := slackBodyOf(e, who)
		if err != nil {
			return err
		}
		return insertDeliveries(ctx, tx, e.ID, e.Type, body, slack, c.clock.Now())
	})
}

// testDelivery queues a webhook.test delivery for endpoint id of org, due now.
func testDelivery(ctx context.Context, tx pgx.Tx, org, id string, now time.Time) (WebhookDelivery, error) {
	eventID := uuid.NewString()
	body, err := json.Marshal(webhookBody{ID: eventID, Type: WebhookTestEvent, OrganizationID: org, OccurredAt: now,
		Data: json.RawMessage(`{"webhook_id":` + strconv.Quote(id) + `}`)})
	if err != nil {
		return WebhookDelivery{}, err
	}
	return insertTestDelivery(ctx, tx, id, eventID, string(body), `{"text":"WorkPulse: a test of this webhook."}`, now)
}
