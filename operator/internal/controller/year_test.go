package controller

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/robfig/cron/v3"
	"github.com/segmentio/kafka-go"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/workpulse/workpulse/api/events"
	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/operator/internal/specs"
	"github.com/workpulse/workpulse/operator/internal/storage"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/services/report/job"
	"github.com/workpulse/workpulse/services/report/service"
	"github.com/workpulse/workpulse/test/testkit"
)

// yearOrg is one organization of the year: how it came to be, its zone
// and retention, its member and what it posted.
type yearOrg struct {
	name, zone string
	retention  int // months; 0: the installation's
	id, user   string
	loc        *time.Location
	posted     []time.Time
}

// TestAYearInTheLifeOfThreeSelfRegisteredOrganizationsAndAWorkPulseTenant
// walks the operator's clock through 13 months over three organizations
// that registered through POST /api/auth/register and set their zone and
// retention through PATCH /api/organization (Los Angeles keeping 3 months,
// Berlin 6, Tokyo the installation's 13) and a Dedicated WorkPulseTenant
// in Auckland keeping 4. What a cluster runs, runs on that clock: the
// operator (the tenant's tree, the shared storage pass with every
// organization's retention), the report service (its consumers of
// tenant.updated, user.created and activity.recorded, and the corrections
// of late uploads), and the CronJobs, which the test fires as the CronJob
// controller would: the tenant's daily summary at its local midnight and
// the install-wide daily-summary --due, idle detection and overtime check
// beside it, each through the report's job entry point with the env its
// pod would get. Every simulated day each organization posts live activity
// (one just after its local midnight: in Auckland the UTC day, on the
// first the UTC month, before) as ingest stores it and emits
// activity.recorded, and every fifth day an offline batch ten days late.
// Asserted: no insert inside the accepted window ever fails, every
// organization-day's summary equals the activity, the nightly
// reconciliation finds no difference, and retention leaves exactly each
// organization's months it keeps and nothing of another's touched.
func TestAYearInTheLifeOfThreeSelfRegisteredOrganizationsAndAWorkPulseTenant(t *testing.T) {
	e := newParallelEnv(t, func(c *Config) {
		// The reconciler looks at the clock again every resync.
		c.ResyncPeriod = 50 * time.Millisecond
	})
	const retention, premake = 4, 2
	first := time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 13, 0)
	e.clock.Set(first)
	updates := e.tenantUpdates()
	report := e.startReport()

	orgs := []*yearOrg{
		{name: "los-angeles", zone: "America/Los_Angeles", retention: 3},
		{name: "berlin", zone: "Europe/Berlin", retention: 6},
		{name: "tokyo", zone: "Asia/Tokyo"},
	}
	for _, o := range orgs {
		o.id, o.user = e.registerOrganization(o.name, map[string]any{"time_zone": o.zone, "retention_months": o.retention})
	}
	tenant := &yearOrg{name: "auckland", zone: "Pacific/Auckland", retention: retention}
	e.create(e.tenant(tenant.name, func(s *v1alpha1.WorkPulseTenantSpec) {
		s.Storage, s.TimeZone, s.RetentionMonths, s.PremakeMonths = v1alpha1.StorageDedicated, tenant.zone, retention, premake
	}))
	tenant.id = e.waitReady(tenant.name).Status.OrganizationID
	tenant.user = e.bootstrapAdmin(tenant.name)
	orgs = append(orgs, tenant)
	parent := storage.DedicatedTable(tenant.id)
	for _, o := range orgs {
		loc, err := time.LoadLocation(o.zone)
		if err != nil {
			t.Fatal(err)
		}
		o.loc = loc
		e.storeTrackingSettings(updates, o.id, o.zone, o.retention)
	}
	// The report service learns each organization's zone and member from
	// auth's events.
	e.eventually(30*time.Second, "the report service's copy of the organizations", func() (bool, string) {
		n := e.queryInt("SELECT count(*) FROM reporting.users WHERE user_id = ANY($1::uuid[])", []string{orgs[0].user, orgs[1].user, orgs[2].user, orgs[3].user})
		z := e.queryInt("SELECT count(*) FROM reporting.tenant_settings WHERE organization_id = ANY($1::uuid[]) AND time_zone <> 'UTC'",
			[]string{orgs[0].id, orgs[1].id, orgs[2].id, orgs[3].id})
		return n == 4 && z == 4, fmt.Sprintf("%d of 4 members, %d of 4 zones", n, z)
	})

	// post stores one upload's activities as ingest does and queues the
	// event ingest emits for it; send publishes the queued events.
	type activity struct {
		at  time.Time
		typ string
	}
	writer := kafkax.NewWriter(e.brokers)
	t.Cleanup(func() { writer.Close() })
	var queued []kafka.Message
	post := func(o *yearOrg, acts ...activity) {
		t.Helper()
		rows := make([][]any, len(acts))
		ats := make([]time.Time, len(acts))
		for i, a := range acts {
			rows[i] = []any{uuid.New(), uuid.MustParse(o.id), uuid.MustParse(o.user), uuid.MustParse(o.user), a.at, a.typ, 60}
			ats[i] = a.at
		}
		if _, err := e.db.Owner.CopyFrom(e.ctx, pgx.Identifier{"tracking", "activity_logs"},
			[]string{"id", "organization_id", "session_id", "user_id", "occurred_at", "activity_type", "duration_seconds"}, pgx.CopyFromRows(rows)); err != nil {
			t.Fatalf("%s: on %s an insert inside the accepted window failed: %v", o.zone, e.clock.Now(), err)
		}
		o.posted = append(o.posted, ats...)
		lo, hi := slices.MinFunc(ats, time.Time.Compare), slices.MaxFunc(ats, time.Time.Compare)
		ev, err := events.New(e.clock.Now(), "ingest", events.TypeActivityRecorded, o.id, o.user, events.ActivityRecorded{
			Session: events.Session{SessionID: o.user, OrganizationID: o.id, UserID: o.user, Status: "active"}, Stored: len(acts),
			FirstAt: &lo, LastAt: &hi})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(ev)
		queued = append(queued, kafka.Message{Topic: events.TopicActivity, Key: []byte(ev.Key), Value: raw})
	}
	send := func() {
		t.Helper()
		if err := writer.WriteMessages(e.ctx, queued...); err != nil {
			t.Fatal(err)
		}
		queued = queued[:0]
	}

	summary := e.mustCronJob(specs.DailySummaryName(tenant.id))
	installWide := []*batchv1.CronJob{e.mustCronJob(specs.DueSummaryJob), e.mustCronJob(specs.IdleDetectionJob), e.mustCronJob(specs.OvertimeCheckJob)}
	sched, err := cron.ParseStandard("CRON_TZ=" + *summary.Spec.TimeZone + " " + summary.Spec.Schedule)
	if err != nil {
		t.Fatalf("the tenant's schedule %q: %v", summary.Spec.Schedule, err)
	}
	month := policy.MonthOf(first)
	e.waitMonths(parent, month, tenant.loc, premake, retention)
	for n, fire := 0, sched.Next(first); fire.Before(last); n, fire = n+1, sched.Next(fire) {
		// Two hours before the tenant's local midnight: each
		// organization's activity just after its own local midnight and
		// through the last hours, and every fifth day a batch an offline
		// client uploads ten days late.
		now := fire.Add(-2 * time.Hour)
		e.clock.Set(now)
		for _, o := range orgs {
			l := now.In(o.loc)
			post(o, activity{time.Date(l.Year(), l.Month(), l.Day(), 0, 30, 0, 0, o.loc), "active"},
				activity{now.Add(-4*time.Hour - 30*time.Minute), "active"}, activity{now.Add(-3 * time.Hour), "active"},
				activity{now.Add(-150 * time.Minute), "active"}, activity{now.Add(-time.Hour), "idle"})
			if n%5 == 4 {
				late := now.AddDate(0, 0, -10).Add(-2 * time.Hour)
				post(o, activity{late, "idle"}, activity{late.Add(10 * time.Minute), "idle"}, activity{late.Add(20 * time.Minute), "idle"})
			}
		}
		send()

		e.clock.Set(fire)
		if m := policy.MonthOf(fire); m != month {
			month = m
			e.waitMonths(parent, m, tenant.loc, premake, retention)
		}
		for _, cj := range append([]*batchv1.CronJob{summary}, installWide...) {
			if out, err := e.runJob(cj); err != nil {
				t.Fatalf("%s at %s: %v\n%s", cj.Name, fire, err, out)
			}
		}
	}
	end := e.clock.Now()
	if policy.MonthOf(end).String() != "2028-02" {
		t.Fatalf("the walk ended at %s, not in February 2028", end)
	}

	// Retention keeps whole local months: the current one (February 2028)
	// and retention-1 before it; Tokyo, keeping the installation's 13,
	// loses January 2027.
	keeps := map[string]string{"los-angeles": "2027-12-01", "berlin": "2027-09-01", "tokyo": "2027-02-01", "auckland": "2027-11-01"}
	for _, o := range orgs {
		d, _ := time.Parse(time.DateOnly, keeps[o.name])
		since := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, o.loc)
		want := 0
		for _, at := range o.posted {
			if !at.Before(since) {
				want++
			}
		}
		// The shared storage pass runs on its own beside the walk.
		e.eventually(30*time.Second, o.zone+"'s retention", func() (bool, string) {
			left := e.queryInt("SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1", o.id)
			return left == int64(want), fmt.Sprintf("%d of %d activities left, want %d (those since %s)", left, len(o.posted), want, since)
		})
		if older := e.queryInt("SELECT count(*) FROM reporting.daily_summaries WHERE organization_id = $1 AND date < $2::date", o.id, keeps[o.name]); older != 0 {
			t.Errorf("%s: %d daily summaries older than retention keeps (%s)", o.zone, older, keeps[o.name])
		}
		// Every ended local day kept has a summary equal to its activity,
		// the late uploads' days corrected within seconds of their events.
		e.eventually(30*time.Second, o.zone+"'s summaries", func() (bool, string) {
			days := e.queryInt("SELECT count(*) FROM reporting.daily_summaries WHERE organization_id = $1", o.id)
			mismatched := e.queryInt(`WITH raw AS (
				SELECT (occurred_at AT TIME ZONE $2)::date AS date,
				       coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'active'), 0) AS act,
				       coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'idle'), 0) AS idl
				FROM tracking.activity_logs WHERE organization_id = $1 GROUP BY 1)
				SELECT count(*) FROM raw FULL JOIN (SELECT * FROM reporting.daily_summaries WHERE organization_id = $1) s USING (date)
				WHERE coalesce(raw.date, s.date) < ($3::timestamptz AT TIME ZONE $2)::date
				  AND (raw.act IS DISTINCT FROM s.active_seconds OR raw.idl IS DISTINCT FROM s.idle_seconds)`, o.id, o.zone, end)
			return mismatched == 0 && days > 60, fmt.Sprintf("%d of %d days' summaries differ from the activity", mismatched, days)
		})
	}

	// The tenant's own tree: October and the months to February, and
	// premake the two after it (retention keeps from local 1 November,
	// which is 31 October 11:00 UTC).
	var want []string
	for m := policy.MonthOf(time.Date(2027, 11, 1, 0, 0, 0, 0, tenant.loc)); !m.After(policy.MonthOf(end).Add(premake).Time); m = m.Add(1) {
		want = append(want, m.Partition(parent))
	}
	if got := e.months(parent); !slices.Equal(got, want) {
		t.Errorf("the tenant's months at the end: %v, want %v", got, want)
	}
	if n := report.metric("workpulse_summary_reconciliation_differences_total"); n != "0" {
		t.Errorf("the nightly reconciliation found %s differences, want 0", n)
	}
}

// registerOrganization registers an organization as a new user does and
// changes its settings as its admin; it returns the organization's and
// the admin's ids.
func (e *testEnv) registerOrganization(name string, settings map[string]any) (string, string) {
	e.t.Helper()
	status, reg := e.callAuth("/api/auth/register", "", map[string]string{"email": name + "-" + randomSuffix() + "@example.com",
		"password": "correct horse battery", "name": "Admin of " + name, "organization_name": name})
	if status != http.StatusCreated {
		e.t.Fatalf("register %s: %d %v", name, status, reg)
	}
	user := reg["user"].(map[string]any)
	if status, out := e.authRequest(http.MethodPatch, "/api/organization", reg["access_token"].(string), settings); status != http.StatusOK {
		e.t.Fatalf("PATCH /api/organization of %s: %d %v", name, status, out)
	}
	return user["organization_id"].(string), user["id"].(string)
}

// bootstrapAdmin signs in as tenant name's bootstrap admin and returns
// their id.
func (e *testEnv) bootstrapAdmin(name string) string {
	e.t.Helper()
	var s corev1.Secret
	if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: name + "-admin-credentials"}, &s); err != nil {
		e.t.Fatal(err)
	}
	status, login := e.callAuth("/api/auth/login", "", map[string]string{"email": string(s.Data["email"]), "password": string(s.Data["password"])})
	if status != http.StatusOK {
		e.t.Fatalf("the bootstrap admin's login: %d %v", status, login)
	}
	return login["user"].(map[string]any)["id"].(string)
}

// storeTrackingSettings waits for auth's latest tenant.updated of org,
// checks it carries zone and retention, and stores what the tracking
// services' consumer stores of it (no tracking service runs in this
// suite): the zone, window and retention retention reads.
func (e *testEnv) storeTrackingSettings(updates *eventLog, org, zone string, retention int) {
	e.t.Helper()
	var ev events.TenantUpdated
	e.eventually(15*time.Second, "tenant.updated of "+org, func() (bool, string) {
		for _, u := range updates.all() {
			if u.OrganizationID == org && u.TimeZone == zone && u.RetentionMonths == retention {
				ev = u
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events, none of %s with %s and %d months", len(updates.all()), org, zone, retention)
	})
	if _, err := e.db.Owner.Exec(e.ctx, `INSERT INTO tracking.tenants (organization_id, time_zone, generation, retention_months)
		VALUES ($1, $2, $3, nullif($4, 0))`, org, ev.TimeZone, ev.Generation, ev.RetentionMonths); err != nil {
		e.t.Fatal(err)
	}
}

// reportService is the report service running in this process.
type reportService struct {
	t   testing.TB
	url string
}

// startReport runs the report service (`report serve`) on the operator's
// clock, the test's database and broker and auth's keys, until the test
// ends.
func (e *testEnv) startReport() *reportService {
	e.t.Helper()
	addr := testkit.FreeAddr(e.t)
	env := map[string]string{
		"DATABASE_URL": e.db.URL, "KAFKA_BROKERS": strings.Join(e.brokers, ","), "KAFKA_TOPIC_PARTITIONS": "3",
		"JWKS_URL": e.authURL + "/api/auth/.well-known/jwks.json", "HTTP_ADDR": addr, "LOG_LEVEL": "warn",
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	var logs testkit.SyncBuffer
	go func() {
		done <- service.Run(ctx, e.clock, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &logs, nil)
	}()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("report service: %v\n%s", err, logs.String())
		}
	})
	r := &reportService{t: e.t, url: "http://" + addr}
	e.eventually(60*time.Second, "the report service ready", func() (bool, string) {
		resp, err := http.Get(r.url + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Sprintf("%d; %s", resp.StatusCode, logs.String())
	})
	return r
}

// metric is the value of the report service's unlabelled metric name.
func (r *reportService) metric(name string) string {
	r.t.Helper()
	resp, err := http.Get(r.url + "/metrics")
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v
		}
	}
	r.t.Fatalf("the report service has no metric %s", name)
	return ""
}

// waitMonths waits until the operator, on its clock now in month m, has
// made parent's months premake ahead of m and dropped those retention
// no longer keeps (before the UTC month holding the start of the local
// month retention-1 before m), and the shared tree has the month after m.
func (e *testEnv) waitMonths(parent string, m policy.Month, zone *time.Location, premake, retention int) {
	e.t.Helper()
	newest, shared := m.Add(premake).Partition(parent), m.Add(1).Partition(storage.SharedTable)
	oldest := policy.MonthOf(time.Date(m.Year(), m.Month()-time.Month(retention-1), 1, 0, 0, 0, 0, zone)).Partition(parent)
	e.eventually(30*time.Second, fmt.Sprintf("the months of %s", m), func() (bool, string) {
		got := e.months(parent)
		expired := slices.ContainsFunc(got, func(p string) bool { return p < oldest })
		return slices.Contains(got, newest) && !expired && slices.Contains(e.months(storage.SharedTable), shared),
			fmt.Sprintf("tenant months %v, shared has %s: %t", got, shared, slices.Contains(e.months(storage.SharedTable), shared))
	})
}

// runJob runs the CronJob's container as its pod would, in this process
// through the report's job entry point on the operator's clock.
func (e *testEnv) runJob(cj *batchv1.CronJob) ([]byte, error) {
	e.t.Helper()
	args, env := e.container(cj)
	deadline := time.Duration(*cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds) * time.Second
	ctx, cancel := context.WithTimeout(e.ctx, deadline)
	defer cancel()
	var out bytes.Buffer
	err := job.Run(ctx, e.clock, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out)
	return out.Bytes(), err
}
