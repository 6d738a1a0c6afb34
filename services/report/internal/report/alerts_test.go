package report

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/api/events"
)

func TestIdleRule(t *testing.T) {
	t.Parallel()
	now := ts("2026-05-04T12:00:00Z")
	st := Settings{InactiveThreshold: 10 * time.Minute, IdleThreshold: 5 * time.Minute}
	at := func(ago time.Duration) *time.Time { return ptr(now.Add(-ago)) }
	tests := []struct {
		name      string
		s         activeSession
		idle      bool
		sinceAgo  time.Duration
		messageRe string
	}{
		{name: "A session with no activity at all for the inactive threshold is idle since its last activity.",
			s: activeSession{StartTime: now.Add(-time.Hour), LastActivityAt: at(11 * time.Minute), LastActiveAt: at(11 * time.Minute)}, idle: true, sinceAgo: 11 * time.Minute},
		{name: "A session that never reported activity is idle once its start is older than the inactive threshold.",
			s: activeSession{StartTime: now.Add(-10 * time.Minute)}, idle: true, sinceAgo: 10 * time.Minute},
		{name: "A fresh session without activity is not idle yet.",
			s: activeSession{StartTime: now.Add(-9 * time.Minute)}},
		{name: "Only idle activity since the last active work for the idle threshold is idle.",
			s: activeSession{StartTime: now.Add(-time.Hour), LastActivityAt: at(30 * time.Second), LastActiveAt: at(6 * time.Minute)}, idle: true, sinceAgo: 6 * time.Minute},
		{name: "Only idle activity for less than the idle threshold is not idle.",
			s: activeSession{StartTime: now.Add(-time.Hour), LastActivityAt: at(30 * time.Second), LastActiveAt: at(4 * time.Minute)}},
		{name: "Only idle activity since the session started counts from its start.",
			s: activeSession{StartTime: now.Add(-5 * time.Minute), LastActivityAt: at(time.Minute)}, idle: true, sinceAgo: 5 * time.Minute},
		{name: "Recent active work is not idle.",
			s: activeSession{StartTime: now.Add(-time.Hour), LastActivityAt: at(time.Minute), LastActiveAt: at(time.Minute)}},
		{name: "A gap between thresholds whose last activity was active is not idle yet.",
			s: activeSession{StartTime: now.Add(-time.Hour), LastActivityAt: at(7 * time.Minute), LastActiveAt: at(7 * time.Minute)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			since, msg, idle := idleRule(now, st, tt.s)
			if idle != tt.idle {
				t.Fatalf("idle = %v (%q), want %v", idle, msg, tt.idle)
			}
			if idle && !since.Equal(now.Add(-tt.sinceAgo)) {
				t.Errorf("since %s, want %s ago", since, tt.sinceAgo)
			}
			if idle && msg == "" {
				t.Error("idle without a message")
			}
		})
	}
}

func TestIdleDetectionRaisesOneAlertPerSessionAndResolvesOnActiveWork(t *testing.T) {
	e := newEnv(t)
	org, user := uuid.NewString(), uuid.NewString()
	e.partitions(e.clock.Now())
	start := e.clock.Now().Add(-time.Hour)
	lastActive := e.clock.Now().Add(-20 * time.Minute)
	sess := e.session(org, user, start, nil, &lastActive)
	e.activities(org, user, sess, act{at: lastActive, typ: "active", dur: 30})
	// A session of another tenant never shows up in this tenant's run.
	other := uuid.NewString()
	e.session(other, uuid.NewString(), start, nil, &lastActive)

	ctx := context.Background()
	errs := make(chan error, 2)
	for range 2 {
		go func() { _, err := e.jobs.DetectIdle(ctx, org); errs <- err }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.jobs.DetectIdle(ctx, org); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM reporting.alerts WHERE alert_type = 'idle'"); n != 1 {
		t.Fatalf("%d idle alerts after three runs, two concurrent; want 1", n)
	}
	if n := e.outboxEvents(events.TypeAlertRaised); n != 1 {
		t.Errorf("%d alert.raised events, want 1", n)
	}

	c := NewConsumers(e.pool, e.log, e.clock)
	deliver := func(activeAt *time.Time) events.Envelope {
		t.Helper()
		ev, err := events.New(e.clock.Now(), "ingest", events.TypeActivityRecorded, org, sess, events.ActivityRecorded{
			Session: events.Session{SessionID: sess, OrganizationID: org, UserID: user, Status: "active"}, Stored: 1, LastActiveAt: activeAt})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.HandleActivity(ctx, ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	open := func() int { return e.count("SELECT count(*) FROM reporting.alerts WHERE resolved_at IS NULL") }

	deliver(nil)
	if open() != 1 {
		t.Fatal("idle activity resolved the alert")
	}
	deliver(ptr(lastActive.Add(-time.Minute)))
	if open() != 1 {
		t.Fatal("active work from before the idleness (a late event) resolved the alert")
	}
	ev := deliver(ptr(e.clock.Now()))
	if open() != 0 {
		t.Fatal("active work did not resolve the alert")
	}
	if err := c.HandleActivity(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if n := e.outboxEvents(events.TypeAlertResolved); n != 1 {
		t.Errorf("%d alert.resolved events after a redelivery, want 1", n)
	}
	var payload events.Alert
	var raw []byte
	if err := e.db.Owner.QueryRow(ctx, "SELECT payload->'data' FROM reporting.outbox WHERE payload->>'type' = $1", events.TypeAlertResolved).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &payload); err != nil {
		t.Fatal(err)
	}
	if payload.AlertType != "idle" || payload.SessionID == nil || *payload.SessionID != sess || payload.ResolvedAt == nil || payload.UserID != user {
		t.Errorf("alert.resolved payload %+v", payload)
	}

	// Still idle later: a new alert may be raised, as the old one is resolved.
	e.clock.Advance(30 * time.Minute)
	if _, err := e.jobs.DetectIdle(ctx, org); err != nil {
		t.Fatal(err)
	}
	if open() != 1 {
		t.Errorf("a session idle again after resolution has %d open alerts, want 1", open())
	}
	// Stopping the session resolves its open alert at the next run.
	e.exec("UPDATE tracking.work_sessions SET status = 'stopped', end_time = $2 WHERE id = $1", sess, e.clock.Now())
	res, err := e.jobs.DetectIdle(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resolved != 1 || open() != 0 {
		t.Errorf("stopped session: resolved %d, open %d; want 1 and 0", res.Resolved, open())
	}
}

func TestIdleDetectionUsesTheTenantThresholds(t *testing.T) {
	e := newEnv(t)
	org, user := uuid.NewString(), uuid.NewString()
	e.tenant(org, "UTC", 3600, 1800, 0)
	e.partitions(e.clock.Now())
	last := e.clock.Now().Add(-20 * time.Minute)
	sess := e.session(org, user, e.clock.Now().Add(-2*time.Hour), nil, &last)
	e.activities(org, user, sess, act{at: last, typ: "active", dur: 30})
	res, err := e.jobs.DetectIdle(context.Background(), org)
	if err != nil {
		t.Fatal(err)
	}
	if res.Raised != 0 {
		t.Errorf("20 minutes without activity raised an alert under a 1-hour threshold")
	}
}

func TestOvertimeCheckRaisesAtMostOneAlertPerUserAndLocalDay(t *testing.T) {
	e := newEnv(t)
	org := uuid.NewString()
	e.tenant(org, "America/Los_Angeles", 0, 0, 0)
	// 23:30 in Los Angeles on 2026-07-01 (UTC-7).
	e.clock.Set(ts("2026-07-02T06:30:00Z"))
	e.partitions(ts("2026-07-01T00:00:00Z"), ts("2026-06-01T00:00:00Z"))
	over, under, yesterday := uuid.NewString(), uuid.NewString(), uuid.NewString()
	dayStart := ts("2026-07-01T07:00:00Z") // local midnight
	for user, hours := range map[string]float64{over: 9.5, under: 8.5} {
		s := e.session(org, user, dayStart, nil, nil)
		e.activities(org, user, s, heartbeats(dayStart.Add(time.Hour), int(hours*60), time.Minute, "active", 60, "")...)
	}
	// Ten hours that ended before local midnight belong to the day before.
	s := e.session(org, yesterday, dayStart.Add(-11*time.Hour), nil, nil)
	e.activities(org, yesterday, s, heartbeats(dayStart.Add(-11*time.Hour), 600, time.Minute, "active", 60, "")...)

	for range 2 {
		if _, err := e.jobs.CheckOvertime(context.Background(), org); err != nil {
			t.Fatal(err)
		}
	}
	var users []string
	rows, err := e.db.Owner.Query(e.ctx, "SELECT user_id::text, to_char(local_date, 'YYYY-MM-DD') FROM reporting.alerts WHERE alert_type = 'overtime'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u, d string
		if err := rows.Scan(&u, &d); err != nil {
			t.Fatal(err)
		}
		if d != "2026-07-01" {
			t.Errorf("alert for %s, want the tenant-local 2026-07-01", d)
		}
		users = append(users, u)
	}
	if len(users) != 1 || users[0] != over {
		t.Errorf("overtime alerts for %v, want only the user with 9.5 hours", users)
	}
	if n := e.outboxEvents(events.TypeAlertRaised); n != 1 {
		t.Errorf("%d alert.raised events, want 1", n)
	}
	// Resolving the alert does not let the same day raise another.
	e.exec("UPDATE reporting.alerts SET resolved_at = $1", e.clock.Now())
	if res, _ := e.jobs.CheckOvertime(context.Background(), org); res.Raised != 0 {
		t.Error("a resolved overtime alert was raised again the same day")
	}
	// A lower tenant threshold catches the 8.5-hour user.
	e.exec("UPDATE reporting.tenant_settings SET overtime_threshold_hours = 8 WHERE organization_id = $1", org)
	if res, _ := e.jobs.CheckOvertime(context.Background(), org); res.Raised != 1 {
		t.Errorf("raised %d with an 8-hour threshold, want 1", res.Raised)
	}
}

func TestDirectoryEvents(t *testing.T) {
	e := newEnv(t)
	c := NewConsumers(e.pool, e.log, e.clock)
	org, user := uuid.NewString(), uuid.NewString()
	apply := func(typ string, data any) events.Envelope {
		t.Helper()
		ev, err := events.New(e.clock.Now(), "auth", typ, org, org, data)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.HandleDirectory(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	tenant := func(gen int64, tz string, inactive int) events.TenantUpdated {
		return events.TenantUpdated{OrganizationID: org, TenantSettings: events.TenantSettings{TimeZone: tz, InactiveThresholdSeconds: inactive, Generation: gen}}
	}
	settings := func() (string, *int32, int64) {
		var tz string
		var inactive *int32
		var gen int64
		if err := e.db.Owner.QueryRow(e.ctx, "SELECT time_zone, inactive_threshold_seconds, generation FROM reporting.tenant_settings WHERE organization_id = $1", org).
			Scan(&tz, &inactive, &gen); err != nil {
			t.Fatal(err)
		}
		return tz, inactive, gen
	}

	apply(events.TypeUserCreated, events.UserCreated{UserID: user, OrganizationID: org, Email: "a@example.com", Name: "Ada", Role: "admin"})
	if n := e.count("SELECT count(*) FROM reporting.users WHERE user_id = $1 AND name = 'Ada'", user); n != 1 {
		t.Error("user.created did not reach the directory")
	}

	tests := []struct {
		name     string
		update   events.TenantUpdated
		tz       string
		inactive *int32
		gen      int64
	}{
		{"A first update stores the zone and thresholds.", tenant(2, "Europe/Paris", 900), "Europe/Paris", ptr(int32(900)), 2},
		{"An older generation is ignored.", tenant(1, "Asia/Tokyo", 60), "Europe/Paris", ptr(int32(900)), 2},
		{"A newer generation with a zero threshold falls back to the default.", tenant(3, "Asia/Tokyo", 0), "Asia/Tokyo", nil, 3},
		{"An unknown zone is stored as UTC.", tenant(4, "Mars/Olympus_Mons", 0), "UTC", nil, 4},
	}
	for _, tt := range tests {
		apply(events.TypeTenantUpdated, tt.update)
		tz, inactive, gen := settings()
		if tz != tt.tz || gen != tt.gen || (inactive == nil) != (tt.inactive == nil) || (inactive != nil && *inactive != *tt.inactive) {
			t.Errorf("%s got zone %s inactive %v generation %d", tt.name, tz, inactive, gen)
		}
	}

	// A redelivered event is applied once: a rename after it survives.
	ev := apply(events.TypeUserCreated, events.UserCreated{UserID: user, OrganizationID: org, Email: "a@example.com", Name: "Ada L.", Role: "admin"})
	e.exec("UPDATE reporting.users SET name = 'Renamed' WHERE user_id = $1", user)
	if err := c.HandleDirectory(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM reporting.users WHERE name = 'Renamed'"); n != 1 {
		t.Error("a redelivered user.created was applied twice")
	}
}

// TestSettingsAnAdminChangesReachTheReportsUntilAWorkPulseTenantTakesOver
// applies tenant.updated as auth emits it for PATCH /api/organization
// (generation 0, every setting of the organization): each change lands in
// order, and once a WorkPulseTenant sends generation 1 a late change of
// generation 0 changes nothing.
func TestSettingsAnAdminChangesReachTheReportsUntilAWorkPulseTenantTakesOver(t *testing.T) {
	e := newEnv(t)
	c := NewConsumers(e.pool, e.log, e.clock)
	org := uuid.NewString()
	admin := func(gen int64, tz string, idle, overtime int) events.TenantUpdated {
		return events.TenantUpdated{OrganizationID: org, TenantSettings: events.TenantSettings{Name: "Self Registered", PlanType: "free",
			Active: true, TimeZone: tz, IdleThresholdSeconds: idle, OvertimeThresholdHours: overtime, ActivityWindowDays: 14, RetentionMonths: 6, Generation: gen}}
	}
	tests := []struct {
		name     string
		update   events.TenantUpdated
		tz       string
		idle     *int32
		overtime *int32
	}{
		{"An admin's first change stores the zone and thresholds.", admin(0, "America/New_York", 120, 8), "America/New_York", ptr(int32(120)), ptr(int32(8))},
		{"The admin's next change of the same generation replaces it.", admin(0, "Asia/Kolkata", 0, 10), "Asia/Kolkata", nil, ptr(int32(10))},
		{"A WorkPulseTenant taking the organization over wins.", admin(1, "Europe/Berlin", 300, 9), "Europe/Berlin", ptr(int32(300)), ptr(int32(9))},
		{"A late change from before the takeover is ignored.", admin(0, "Asia/Tokyo", 60, 7), "Europe/Berlin", ptr(int32(300)), ptr(int32(9))},
	}
	same := func(a, b *int32) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	for _, tt := range tests {
		ev, err := events.New(e.clock.Now(), "auth", events.TypeTenantUpdated, org, org, tt.update)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.HandleDirectory(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		var tz string
		var idle, overtime *int32
		if err := e.db.Owner.QueryRow(e.ctx, "SELECT time_zone, idle_threshold_seconds, overtime_threshold_hours FROM reporting.tenant_settings WHERE organization_id = $1", org).
			Scan(&tz, &idle, &overtime); err != nil {
			t.Fatal(err)
		}
		if tz != tt.tz || !same(idle, tt.idle) || !same(overtime, tt.overtime) {
			t.Errorf("%s got zone %s idle %v overtime %v", tt.name, tz, idle, overtime)
		}
	}
}

func TestIdleDetectionPrunesOldJobsAndConsumedEventIDs(t *testing.T) {
	e := newEnv(t)
	org := uuid.NewString()
	e.exec(`INSERT INTO reporting.jobs (id, organization_id, job_type, state, created_at) VALUES
		($1, $3, 'idle-detection', 'succeeded', $4::timestamptz - interval '31 days'), ($2, $3, 'idle-detection', 'succeeded', $4)`,
		uuid.NewString(), uuid.NewString(), org, e.clock.Now())
	e.exec(`INSERT INTO reporting.processed_events (consumer, event_id, processed_at) VALUES
		('c', $1, $3::timestamptz - interval '15 days'), ('c', $2, $3)`, uuid.NewString(), uuid.NewString(), e.clock.Now())
	if _, err := e.jobs.DetectIdle(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	if n, err := e.jobs.PruneProcessedEvents(context.Background()); err != nil || n != 1 {
		t.Errorf("pruned %d processed events (%v), want 1", n, err)
	}
	if n := e.count("SELECT count(*) FROM reporting.jobs"); n != 1 {
		t.Errorf("%d jobs left, want the recent one", n)
	}
	if n := e.count("SELECT count(*) FROM reporting.processed_events"); n != 1 {
		t.Errorf("%d processed events left, want the recent one", n)
	}
}

func TestStoppingASessionResolvesItsIdleAlert(t *testing.T) {
	e := newEnv(t)
	org, user := uuid.NewString(), uuid.NewString()
	e.partitions(e.clock.Now())
	sess := e.idleSession(org, user)
	if res, err := e.jobs.DetectIdle(context.Background(), org); err != nil || res.Raised != 1 {
		t.Fatalf("idle detection: %+v %v", res, err)
	}
	ev, err := events.New(e.clock.Now(), "session", events.TypeSessionStopped, org, sess, events.SessionStopped{Session: events.Session{
		SessionID: sess, OrganizationID: org, UserID: user, Status: "stopped", EndTime: ptr(e.clock.Now())}})
	if err != nil {
		t.Fatal(err)
	}
	if err := NewConsumers(e.pool, e.log, e.clock).HandleActivity(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM reporting.alerts WHERE resolved_at IS NULL"); n != 0 {
		t.Errorf("%d open alerts after session.stopped, want 0", n)
	}
	if n := e.outboxEvents(events.TypeAlertResolved); n != 1 {
		t.Errorf("%d alert.resolved events, want 1", n)
	}
}

func TestThePrefilterPassesOnOnlyEventsThatCanResolveAnOpenIdleAlert(t *testing.T) {
	e := newEnv(t)
	org, other := uuid.NewString(), uuid.NewString()
	e.partitions(e.clock.Now())
	idle := e.idleSession(org, uuid.NewString())
	worker := uuid.NewString()
	busy := e.session(org, worker, e.clock.Now().Add(-time.Hour), nil, ptr(e.clock.Now()))
	e.activities(org, worker, busy, act{at: e.clock.Now().Add(-time.Minute), typ: "active", dur: 60})
	otherIdle := e.idleSession(other, uuid.NewString())
	for _, o := range []string{org, other} {
		if res, err := e.jobs.DetectIdle(context.Background(), o); err != nil || res.Raised != 1 {
			t.Fatalf("idle detection: %+v %v", res, err)
		}
	}
	event := func(org, sess, typ string, data any) events.Envelope {
		t.Helper()
		ev, err := events.New(e.clock.Now(), "ingest", typ, org, sess, data)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	recorded := func(org, sess string, activeAt *time.Time) events.Envelope {
		return event(org, sess, events.TypeActivityRecorded, events.ActivityRecorded{
			Session: events.Session{SessionID: sess, OrganizationID: org, Status: "active"}, Stored: 1, LastActiveAt: activeAt})
	}
	cases := []struct {
		name string
		ev   events.Envelope
		need bool
	}{
		{"Active work on a session with an open idle alert goes on.", recorded(org, idle, ptr(e.clock.Now())), true},
		{"Active work on a session without one is spared.", recorded(org, busy, ptr(e.clock.Now())), false},
		{"Idle activity resolves nothing and is spared.", recorded(org, idle, nil), false},
		{"A stop of a session with an open idle alert goes on.", event(org, idle, events.TypeSessionStopped,
			events.SessionStopped{Session: events.Session{SessionID: idle, OrganizationID: org, Status: "stopped"}}), true},
		{"Another tenant's alert is found under that tenant.", recorded(other, otherIdle, ptr(e.clock.Now())), true},
		{"A session named under the wrong tenant finds no alert.", recorded(org, otherIdle, ptr(e.clock.Now())), false},
		{"An event that cannot be read goes on, for the handler to report.", recorded(org, "not-a-uuid", ptr(e.clock.Now())), true},
		{"A correction that cannot be read goes on too.", event(org, idle, events.TypeActivityCorrected, "not an object"), true},
		{"Other events of the topics are spared.", event(org, idle, events.TypeSessionStarted, events.SessionStarted{}), false},
	}
	var es []events.Envelope
	for _, c := range cases {
		es = append(es, c.ev)
	}
	need, err := NewConsumers(e.pool, e.log, e.clock).PrefilterActivity(context.Background(), es)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if need[i] != c.need {
				t.Errorf("need %v, want %v", need[i], c.need)
			}
		})
	}
}

func TestIdleDetectionForgetsAnErasedMemberOnceNothingOfTheirsIsLeft(t *testing.T) {
	e := newEnv(t)
	org, other := uuid.NewString(), uuid.NewString()
	now := e.clock.Now()
	old, recent := now.Add(-erasedRetention-time.Hour), now.Add(-erasedRetention+time.Hour)
	e.partitions(now)
	tests := []struct {
		name      string
		org       string
		erasedAt  time.Time
		leftOver  func(org, user string)
		forgotten bool
	}{
		{"A member erased past the retention with nothing left is forgotten.", org, old, nil, true},
		{"A member erased within the retention is kept.", org, recent, nil, false},
		{"A member whose activity tracking still holds is kept.", org, old, func(org, user string) {
			e.activities(org, user, uuid.NewString(), act{at: now.Add(-time.Hour), typ: "active", dur: 60})
		}, false},
		{"A member whose session tracking still holds is kept.", org, old, func(org, user string) {
			end := now.Add(-time.Hour)
			e.session(org, user, now.Add(-2*time.Hour), &end, nil)
		}, false},
		{"Another organization's erased member waits for that organization's run.", other, old, nil, false},
	}
	users := make([]string, len(tests))
	for i, tt := range tests {
		users[i] = uuid.NewString()
		e.exec("INSERT INTO reporting.erased_members (organization_id, user_id, erased_at) VALUES ($1, $2, $3)", tt.org, users[i], tt.erasedAt)
		if tt.leftOver != nil {
			tt.leftOver(tt.org, users[i])
		}
	}
	if _, err := e.jobs.DetectIdle(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := e.count("SELECT count(*) FROM reporting.erased_members WHERE user_id = $1", users[i])
			if forgotten := n == 0; forgotten != tt.forgotten {
				t.Errorf("forgotten %v, want %v", forgotten, tt.forgotten)
			}
		})
	}
}
