package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/services/platform/outbox"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

// readTopic returns every message of topic, waiting up to wait for want of
// them (and a little longer, to catch extras).
func readTopic(t *testing.T, brokers []string, topic string, want int, wait time.Duration) [][]byte {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out [][]byte
	waited := clock.Start()
	for waited.Elapsed() < wait {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r.Value) })
		if settle := waited.Elapsed() + 500*time.Millisecond; len(out) >= want && settle < wait {
			wait = settle
		}
	}
	return out
}

func TestEachRequestThatStoresActivityEmitsOneActivityRecordedEventWithTheCommittedTotals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	brokers := testkit.Kafka(t)
	m := h.member("")
	start := h.clock.Now().Add(-time.Hour)
	sid := h.startSession(m, start)

	h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 10, ClientActivityID: ptr("e-1")}, nil)
	h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 10, ClientActivityID: ptr("e-1")}, nil) // duplicate: no event
	h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "idle", DurationSeconds: 4}, nil)
	items, active, idle := batch("e", 2, 50, start)
	h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", items, nil)
	h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", items, nil) // all duplicates: no event

	w := kafkax.NewWriter(brokers)
	defer w.Close()
	if _, err := outbox.NewRelay(h.pool, tracking.OutboxTable, w, nil, quietLogger()).Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := readTopic(t, brokers, events.TopicActivity, 3, 10*time.Second)
	if len(msgs) != 3 {
		t.Fatalf("%d activity.recorded events, want 3", len(msgs))
	}
	// activityEventSQL writes the envelope events.New would: the keys of
	// both levels must be exactly those of events.New's output with every
	// field set, so that a field added to either Go type and not to the
	// statement fails here.
	at, typ := h.clock.Now(), "active"
	shape, err := events.New(at, "ingest", events.TypeActivityRecorded, m.OrganizationID, m.UserID,
		events.ActivityRecorded{Session: events.Session{LastActivityType: &typ}, LastActiveAt: &at, FirstAt: &at, LastAt: &at})
	if err != nil {
		t.Fatal(err)
	}
	shapeRaw, err := json.Marshal(shape)
	if err != nil {
		t.Fatal(err)
	}
	wantKeys, wantDataKeys := keysOf(t, shapeRaw), keysOf(t, shape.Data)
	var lastVersion int64
	var got []events.ActivityRecorded
	ids := map[string]bool{}
	for _, raw := range msgs {
		env, err := events.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if env.Type != events.TypeActivityRecorded || env.Source != "ingest" || env.OrganizationID != m.OrganizationID || env.Key != m.UserID ||
			!env.Time.Equal(h.clock.Now()) || ids[env.ID] {
			t.Errorf("envelope %s", raw)
		}
		ids[env.ID] = true
		if k := keysOf(t, raw); !slices.Equal(k, wantKeys) {
			t.Errorf("envelope keys %v, want events.New's %v", k, wantKeys)
		}
		if k := keysOf(t, env.Data); !slices.Equal(k, wantDataKeys) {
			t.Errorf("payload keys %v, want events.ActivityRecorded's %v", k, wantDataKeys)
		}
		var p events.ActivityRecorded
		if err := env.Payload(&p); err != nil {
			t.Fatal(err)
		}
		if p.Version <= lastVersion {
			t.Errorf("versions out of order: %d after %d", p.Version, lastVersion)
		}
		lastVersion = p.Version
		got = append(got, p)
	}
	want := []struct {
		stored         int
		active, idle   int64
		totA, totI     int64
		lastActiveNull bool
	}{
		{1, 10, 0, 10, 0, false},
		{1, 0, 4, 10, 4, true},
		{50, active, idle, 10 + active, 4 + idle, false},
	}
	for i, w := range want {
		p := got[i]
		if p.SessionID != sid || p.UserID != m.UserID || p.Status != "active" || p.Stored != w.stored || p.ActiveSeconds != w.active ||
			p.IdleSeconds != w.idle || p.TotalActiveSeconds != w.totA || p.TotalIdleSeconds != w.totI || (p.LastActiveAt == nil) != w.lastActiveNull ||
			p.LastActivityAt == nil || p.StartTime.IsZero() {
			t.Errorf("event %d: %+v", i, p)
		}
	}
	// The bulk upload's event spans its items' timestamps (items 2..51,
	// a second apart from the session's start); a single post's is its one.
	if b := got[2]; b.FirstAt == nil || b.LastAt == nil || !b.FirstAt.Equal(start.Add(2*time.Second)) || !b.LastAt.Equal(start.Add(51*time.Second)) {
		t.Errorf("bulk event spans %v..%v, want %v..%v", b.FirstAt, b.LastAt, start.Add(2*time.Second), start.Add(51*time.Second))
	}
	if s := got[0]; s.FirstAt == nil || s.LastAt == nil || !s.FirstAt.Equal(*s.LastAt) {
		t.Errorf("single post's event spans %v..%v, want one instant", s.FirstAt, s.LastAt)
	}
	var left int
	if err := h.db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM tracking.outbox").Scan(&left); err != nil || left != 0 {
		t.Errorf("outbox still holds %d events (%v)", left, err)
	}
}

// keysOf returns the sorted keys of the JSON object raw.
func keysOf(t *testing.T, raw []byte) []string {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return slices.Sorted(maps.Keys(obj))
}

func TestAStopRacingWithActivityNeitherLosesNorAddsASecond(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for round := range 5 {
		m := h.member("")
		start := h.clock.Now().Add(-time.Hour)
		sid := h.startSession(m, start)
		var mu sync.Mutex
		var acceptedActive, acceptedIdle int64
		var wg sync.WaitGroup
		post := func(i int) {
			defer wg.Done()
			if i%10 == 0 {
				items, a, idle := batch(fmt.Sprintf("r%d-%d", round, i), 0, 100, start)
				status, raw, err := h.tryPost(m.Token, "/api/sessions/"+sid+"/activity/bulk", items)
				if err != nil || (status != http.StatusCreated && status != http.StatusConflict) {
					t.Errorf("bulk: %d %s %v", status, raw, err)
					return
				}
				if status == http.StatusCreated {
					mu.Lock()
					acceptedActive, acceptedIdle = acceptedActive+a, acceptedIdle+idle
					mu.Unlock()
				}
				return
			}
			typ := "active"
			if i%3 == 0 {
				typ = "idle"
			}
			status, raw, err := h.tryPost(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: typ, DurationSeconds: 1 + i%50})
			if err != nil || (status != http.StatusCreated && status != http.StatusConflict) {
				t.Errorf("single: %d %s %v", status, raw, err)
				return
			}
			if status == http.StatusCreated {
				mu.Lock()
				if typ == "active" {
					acceptedActive += int64(1 + i%50)
				} else {
					acceptedIdle += int64(1 + i%50)
				}
				mu.Unlock()
			}
		}
		for i := range 200 {
			wg.Add(1)
			go post(i)
			if i == 100 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := h.stop(m, sid); err != nil {
						t.Errorf("stop: %v", err)
					}
				}()
			}
		}
		wg.Wait()
		s := h.assertExact(sid, -1, -1, -1, -1)
		if s.Status != "stopped" || s.TotalActiveSeconds != acceptedActive || s.TotalIdleSeconds != acceptedIdle {
			t.Errorf("round %d: session %s with %d/%d, accepted %d/%d", round, s.Status, s.TotalActiveSeconds, s.TotalIdleSeconds, acceptedActive, acceptedIdle)
		}
		if s.EndTime == nil || s.LastActivityAt != nil && s.EndTime.Before(*s.LastActivityAt) {
			t.Errorf("round %d: ended %v before its last activity %v", round, s.EndTime, s.LastActivityAt)
		}
	}
}

func TestASuspendedTenantsActivityIsRefusedUntilItIsResumed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	brokers := testkit.Kafka(t)
	m := h.member("")
	sid := h.startSession(m, h.clock.Now().Add(-time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- tracking.TenantConsumer(h.pool, kafkax.ConsumerConfig{Brokers: brokers}, "ingest-tenants-test", nil, quietLogger()).Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	w := kafkax.NewWriter(brokers)
	defer w.Close()
	publish := func(gen int64, suspended bool) string {
		ev, err := events.New(h.clock.Now(), "auth", events.TypeTenantUpdated, m.OrganizationID, m.OrganizationID,
			events.TenantUpdated{OrganizationID: m.OrganizationID, TenantSettings: events.TenantSettings{Name: "Acme", PlanType: "pro", Suspended: suspended, Active: true, Generation: gen}})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(ev)
		if err := w.WriteMessages(context.Background(), kafka.Message{Topic: events.TopicTenants, Key: []byte(ev.Key), Value: raw}); err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	waitFor := func(gen int64) {
		t.Helper()
		for waited := clock.Start(); waited.Elapsed() < 30*time.Second; time.Sleep(50 * time.Millisecond) {
			var got int64
			err := h.db.Owner.QueryRow(context.Background(), "SELECT generation FROM tracking.tenants WHERE organization_id = $1", m.OrganizationID).Scan(&got)
			if err == nil && got >= gen {
				return
			}
		}
		t.Fatalf("tenant generation %d never applied", gen)
	}
	body := singleBody{ActivityType: "active", DurationSeconds: 3}

	publish(1, true)
	waitFor(1)
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity", body, nil); status != http.StatusForbidden || errorCode(t, raw).Error.Code != "TENANT_SUSPENDED" {
		t.Errorf("suspended single: %d %s", status, raw)
	}
	items, _, _ := batch("s", 0, 3, h.clock.Now().Add(-time.Minute))
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", items, nil); status != http.StatusForbidden {
		t.Errorf("suspended bulk: %d %s", status, raw)
	}
	publish(3, false)
	waitFor(3)
	// A late, older update does not suspend the tenant again.
	late := publish(2, true)
	for waited := clock.Start(); ; time.Sleep(50 * time.Millisecond) {
		var seen bool
		if err := h.db.Owner.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM tracking.processed_events WHERE event_id = $1)", late).Scan(&seen); err != nil {
			t.Fatal(err)
		}
		if seen {
			break
		}
		if waited.Elapsed() > 30*time.Second {
			t.Fatal("the late update was never consumed")
		}
	}
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity", body, nil); status != http.StatusCreated {
		t.Errorf("resumed: %d %s", status, raw)
	}
	h.assertExact(sid, 1, 3, 0, 1)
}
