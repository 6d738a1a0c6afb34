package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/workpulse/workpulse/api/events"
	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/migrations"
	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/operator/internal/specs"
	"github.com/workpulse/workpulse/operator/internal/storage"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/kafkax"
)

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }

func (e *testEnv) cronJob(name string) (*batchv1.CronJob, error) {
	var cj batchv1.CronJob
	err := e.c.Get(e.ctx, client.ObjectKey{Namespace: e.jobsNS, Name: name}, &cj)
	return &cj, err
}

func (e *testEnv) mustCronJob(name string) *batchv1.CronJob {
	e.t.Helper()
	cj, err := e.cronJob(name)
	if err != nil {
		e.t.Fatalf("CronJob %s: %v", name, err)
	}
	return cj
}

// login signs in to the auth service, proving the credentials work.
func (e *testEnv) login(email, password string) int {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := http.Post(e.authURL+"/api/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// ddlLog makes PostgreSQL itself record every DDL command run in the test
// database from now on, so "no DDL" is checked at the source.
func (e *testEnv) ddlLog() func() []string {
	e.t.Helper()
	for _, q := range []string{
		`CREATE TABLE public.ddl_log (tag text, at timestamptz DEFAULT clock_timestamp())`,
		`CREATE FUNCTION public.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
		 BEGIN INSERT INTO public.ddl_log (tag) VALUES (tg_tag); END $$`,
		`CREATE EVENT TRIGGER log_ddl ON ddl_command_start EXECUTE FUNCTION public.log_ddl()`,
	} {
		if _, err := e.db.Owner.Exec(e.ctx, q); err != nil {
			e.t.Fatal(err)
		}
	}
	return func() []string {
		rows, err := e.db.Owner.Query(e.ctx, "SELECT tag FROM public.ddl_log ORDER BY at")
		if err != nil {
			e.t.Fatal(err)
		}
		defer rows.Close()
		var tags []string
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			tags = append(tags, s)
		}
		return tags
	}
}

func TestTenantBecomesReadyWithItsOrganizationPartitionsAndCronJobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name    string
		storage v1alpha1.StorageIsolation
		tz      string
	}{
		{"A Shared tenant lives in the shared tree.", v1alpha1.StorageShared, "UTC"},
		{"A Dedicated tenant gets its own list partition, sub-partitioned by month.", v1alpha1.StorageDedicated, "Europe/Paris"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("ready-%d", i)
			e.create(e.tenant(name, func(s *v1alpha1.WorkPulseTenantSpec) {
				s.Storage, s.TimeZone, s.Plan = tc.storage, tc.tz, v1alpha1.PlanPro
			}))
			got := e.waitReady(name)
			org := got.Status.OrganizationID
			if org != string(got.UID) {
				t.Errorf("organization ID %s, want the resource's UID %s", org, got.UID)
			}
			for _, typ := range concerns {
				if c := meta.FindStatusCondition(got.Status.Conditions, typ); c == nil || c.Status != metav1.ConditionTrue {
					t.Errorf("condition %s: %+v", typ, c)
				}
			}
			// The organization and its admin, through the real auth service.
			var plan string
			var active bool
			if err := e.db.Owner.QueryRow(e.ctx, "SELECT plan_type, active FROM auth.organizations WHERE id = $1", org).Scan(&plan, &active); err != nil {
				t.Fatalf("organization: %v", err)
			}
			if plan != "pro" || !active {
				t.Errorf("organization plan %q active %t", plan, active)
			}
			if got.Status.AdminCredentialsSecret == nil {
				t.Fatal("no admin credentials Secret in status")
			}
			var secret corev1.Secret
			if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: got.Status.AdminCredentialsSecret.Name}, &secret); err != nil {
				t.Fatal(err)
			}
			if code := e.login(string(secret.Data["email"]), string(secret.Data["password"])); code != http.StatusOK {
				t.Errorf("login with the Secret's credentials: %d", code)
			}
			// Partitions, from the catalog.
			now := e.clock.Now()
			parent := storage.SharedTable
			if tc.storage == v1alpha1.StorageDedicated {
				parent = storage.DedicatedTable(org)
				if !e.attached(parent) {
					t.Errorf("tracking.%s is not a partition of tracking.activity_logs", parent)
				}
			}
			want := partitionNames(parent, now, -1, 3)
			if got := e.months(parent); !isSubset(want, got) {
				t.Errorf("months of %s: %v, want at least %v", parent, got, want)
			}
			p := got.Status.Partitions
			if p == nil || p.Table != "tracking."+parent || p.MonthsAhead < 3 || p.NewestMonth != policy.MonthOf(now).Add(3).String() {
				t.Errorf("status.partitions: %+v", p)
			}
			// The metrics say the same.
			m := newMetrics()
			if v := testutil.ToFloat64(m.partitions.WithLabelValues(e.ns, name, p.Table)); v != float64(p.Months) {
				t.Errorf("partitions metric %v, status %d", v, p.Months)
			}
			if v := testutil.ToFloat64(m.monthsAhead.WithLabelValues(e.ns, name, p.Table)); v != float64(p.MonthsAhead) {
				t.Errorf("months-ahead metric %v, status %d", v, p.MonthsAhead)
			}
			if v := testutil.ToFloat64(m.ready.WithLabelValues(e.ns, name)); v != 1 {
				t.Errorf("ready metric %v for a Ready tenant", v)
			}
			// CronJobs.
			cj := e.mustCronJob(specs.DailySummaryName(org))
			if cj.Spec.Schedule != "0 0 * * *" || ptr.Deref(cj.Spec.TimeZone, "") != tc.tz || *cj.Spec.Suspend {
				t.Errorf("daily-summary schedule %q tz %v suspend %v", cj.Spec.Schedule, cj.Spec.TimeZone, *cj.Spec.Suspend)
			}
			c := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
			if len(c.Command) != 0 || !slices.Equal(c.Args, []string{"daily-summary", "--org", org}) {
				t.Errorf("command %q args %q, want the entrypoint with daily-summary --org %s", c.Command, c.Args, org)
			}
			if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent || !*c.SecurityContext.ReadOnlyRootFilesystem ||
				!*cj.Spec.JobTemplate.Spec.Template.Spec.SecurityContext.RunAsNonRoot || c.Resources.Limits.Cpu().IsZero() {
				t.Errorf("daily-summary job is not hardened: %+v", cj.Spec)
			}
			var owner appsv1.Deployment
			if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: e.jobsNS, Name: "workpulse-operator"}, &owner); err != nil {
				t.Fatal(err)
			}
			for name, schedule := range map[string]string{specs.IdleDetectionJob: "*/2 * * * *", specs.OvertimeCheckJob: "*/30 * * * *"} {
				cj := e.mustCronJob(name)
				if cj.Spec.Schedule != schedule {
					t.Errorf("%s schedule %q", name, cj.Spec.Schedule)
				}
				// Owned by the installation, so that removing it removes them.
				if refs := cj.OwnerReferences; len(refs) != 1 || refs[0].UID != owner.UID || refs[0].Kind != "Deployment" {
					t.Errorf("%s owner references %+v; want the operator Deployment", name, refs)
				}
			}
		})
	}
	t.Run("Events tell what was done, and no step failed.", func(t *testing.T) {
		e.eventually(10*time.Second, "events", func() (bool, string) {
			var list eventsv1.EventList
			if err := e.c.List(e.ctx, &list, client.InNamespace(e.ns)); err != nil {
				return false, err.Error()
			}
			var reasons []string
			for _, ev := range list.Items {
				reasons = append(reasons, ev.Reason)
				if ev.Type == corev1.EventTypeWarning {
					t.Errorf("a step failed on the way to Ready: %s %s", ev.Reason, ev.Note)
				}
			}
			return slices.Contains(reasons, "OrganizationCreated") && slices.Contains(reasons, "StorageMoved"), fmt.Sprint(reasons)
		})
	})
	t.Run("A new time zone and schedule reach the CronJob and the services.", func(t *testing.T) {
		e.update("ready-0", func(s *v1alpha1.WorkPulseTenantSpec) {
			s.TimeZone, s.DailySummary.Schedule, s.Thresholds.OvertimeHours = "America/New_York", "30 1 * * *", 10
		})
		got := e.waitReady("ready-0")
		cj := e.mustCronJob(specs.DailySummaryName(got.Status.OrganizationID))
		if cj.Spec.Schedule != "30 1 * * *" || ptr.Deref(cj.Spec.TimeZone, "") != "America/New_York" {
			t.Errorf("CronJob schedule %q time zone %v", cj.Spec.Schedule, ptr.Deref(cj.Spec.TimeZone, ""))
		}
		var tz string
		var overtime, gen int64
		if err := e.db.Owner.QueryRow(e.ctx, `SELECT tenant_settings->>'time_zone', (tenant_settings->>'overtime_threshold_hours')::int, tenant_generation
			FROM auth.organizations WHERE id = $1`, got.Status.OrganizationID).Scan(&tz, &overtime, &gen); err != nil {
			t.Fatal(err)
		}
		if tz != "America/New_York" || overtime != 10 || gen != got.Generation {
			t.Errorf("auth has time zone %q, overtime %d, generation %d (want generation %d)", tz, overtime, gen, got.Generation)
		}
	})
	t.Run("A steady-state reconcile changes nothing and issues no DDL.", func(t *testing.T) {
		ddl := e.ddlLog()
		r := e.reconciler()
		for i := range cases {
			name := fmt.Sprintf("ready-%d", i)
			before := e.get(name)
			for range 2 {
				if _, err := r.Reconcile(e.ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(before)}); err != nil {
					t.Fatal(err)
				}
			}
			if after := e.get(name); after.ResourceVersion != before.ResourceVersion {
				t.Errorf("%s was written: resourceVersion %s -> %s", name, before.ResourceVersion, after.ResourceVersion)
			}
		}
		if tags := ddl(); len(tags) > 0 {
			t.Errorf("steady-state reconciles ran DDL: %v", tags)
		}
	})
}

// reconciler is a reconciler of the test's own, for calling Reconcile
// directly; it shares the cluster, database and auth with the running one.
func (e *testEnv) reconciler() *TenantReconciler {
	e.t.Helper()
	mgr, err := ctrl.NewManager(suite.rest, ctrl.Options{Scheme: Scheme(), Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
	if err != nil {
		e.t.Fatal(err)
	}
	r := NewTenantReconciler(mgr, e.cfg, e.db.Owner, e.clock)
	r.Client = e.c
	r.APIReader = e.c
	return r
}

func isSubset(want, got []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

func TestRetentionAndPremakeChangesCreateAndDropMonths(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(e.tenant("retention", func(s *v1alpha1.WorkPulseTenantSpec) {
		s.Storage, s.RetentionMonths, s.PremakeMonths = v1alpha1.StorageDedicated, 24, 3
	}))
	org := e.waitReady("retention").Status.OrganizationID
	parent := storage.DedicatedTable(org)
	now := policy.MonthOf(e.clock.Now())
	// History: months -10..-2 exist, with rows at -10 and -2, and a month
	// made by hand whose name says 2020-01 but whose bounds hold month +7.
	for i := -10; i <= -2; i++ {
		if _, err := e.db.Owner.Exec(e.ctx, "SELECT tracking.ensure_month_partition($1, $2::date)", parent, now.Add(i).Time); err != nil {
			t.Fatal(err)
		}
	}
	odd := parent + "_2020_01"
	if _, err := e.db.Owner.Exec(e.ctx, fmt.Sprintf("CREATE TABLE tracking.%s PARTITION OF tracking.%s FOR VALUES FROM ('%s') TO ('%s')",
		odd, parent, now.Add(7).Format(time.RFC3339), now.Add(8).Format(time.RFC3339))); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{now.Add(-10).Time.Add(time.Hour), now.Add(-2).Time.Add(time.Hour), now.Add(7).Time.Add(time.Hour)} {
		insertActivity(t, e, org, at)
	}

	e.update("retention", func(s *v1alpha1.WorkPulseTenantSpec) { s.RetentionMonths, s.PremakeMonths = 5, 4 })
	got := e.waitReady("retention")
	months := e.months(parent)
	for _, m := range partitionNames(parent, now.Time, -4, 4) {
		if !slices.Contains(months, m) {
			t.Errorf("month %s is missing: %v", m, months)
		}
	}
	for _, m := range partitionNames(parent, now.Time, -10, -5) {
		if slices.Contains(months, m) {
			t.Errorf("month %s past retention was kept", m)
		}
	}
	if !slices.Contains(months, odd) {
		t.Errorf("%s holds a row within retention and was dropped", odd)
	}
	if n := e.queryInt("SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1", org); n != 2 {
		t.Errorf("%d rows left, want the 2 within retention", n)
	}
	if p := got.Status.Partitions; p.MonthsAhead != 4 || p.NewestMonth != now.Add(4).String() {
		t.Errorf("status.partitions %+v", p)
	}

	t.Run("The shared tree follows the operator's settings.", func(t *testing.T) {
		for i := -20; i <= -14; i++ {
			if _, err := e.db.Owner.Exec(e.ctx, "SELECT tracking.ensure_month_partition($1, $2::date)", storage.SharedTable, now.Add(i).Time); err != nil {
				t.Fatal(err)
			}
		}
		e.create(e.tenant("shared", func(s *v1alpha1.WorkPulseTenantSpec) { s.Storage = v1alpha1.StorageShared }))
		e.waitReady("shared")
		months := e.months(storage.SharedTable)
		// Retention 13: the current month and the 12 before it.
		for _, m := range partitionNames(storage.SharedTable, now.Time, -20, -13) {
			if slices.Contains(months, m) {
				t.Errorf("shared month %s past retention was kept", m)
			}
		}
		if !isSubset(partitionNames(storage.SharedTable, now.Time, -1, 3), months) {
			t.Errorf("shared months %v", months)
		}
	})
}

// insertActivity stores one activity row for org at at, as ingest would.
func insertActivity(t testing.TB, e *testEnv, org string, at time.Time) {
	t.Helper()
	if _, err := e.db.Owner.Exec(e.ctx, `INSERT INTO tracking.activity_logs
		(id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)
		VALUES (gen_random_uuid(), $1, gen_random_uuid(), gen_random_uuid(), $2, 'active', 30)`, org, at); err != nil {
		t.Fatalf("insert activity at %s: %v", at, err)
	}
}

func TestSwitchingStorageKeepsEveryRowWhileActivityArrives(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The rows go up to 40 days back: late in a month, that is still the
	// previous month, which the operator keeps.
	e.clock.Set(time.Date(2027, 5, 28, 12, 0, 0, 0, time.UTC))
	e.create(e.tenant("mover"))
	org := e.waitReady("mover").Status.OrganizationID
	// A neighbour in the shared tree must not be touched.
	e.create(e.tenant("neighbour"))
	neighbour := e.waitReady("neighbour").Status.OrganizationID
	now := e.clock.Now()
	if _, err := e.db.Owner.Exec(e.ctx, `INSERT INTO tracking.activity_logs
		(id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)
		SELECT gen_random_uuid(), o, gen_random_uuid(), gen_random_uuid(), $3::timestamptz - (g % 40) * interval '1 day', 'active', 30
		FROM unnest(ARRAY[$1::uuid, $2::uuid]) AS o, generate_series(1, 3000) AS g`, org, neighbour, now); err != nil {
		t.Fatal(err)
	}

	// Ingest goes on throughout: one insert after the other, each timed.
	stop := make(chan struct{})
	type result struct {
		inserted, failed int64
		slowest          time.Duration
		lastErr          error
	}
	done := make(chan result)
	go func() {
		var r result
		for {
			select {
			case <-stop:
				done <- r
				return
			default:
			}
			start := clock.Start()
			_, err := e.db.Owner.Exec(e.ctx, `INSERT INTO tracking.activity_logs
				(id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)
				VALUES (gen_random_uuid(), $1, gen_random_uuid(), gen_random_uuid(), $2, 'idle', 5)`, org, now)
			if err != nil {
				r.failed++
				r.lastErr = err
			} else {
				r.inserted++
			}
			r.slowest = max(r.slowest, start.Elapsed())
			time.Sleep(2 * time.Millisecond)
		}
	}()

	e.update("mover", func(s *v1alpha1.WorkPulseTenantSpec) { s.Storage = v1alpha1.StorageDedicated })
	got := e.waitReady("mover")
	table := storage.DedicatedTable(org)
	if got.Status.Storage != v1alpha1.StorageDedicated || !e.attached(table) {
		t.Fatalf("storage %s, attached %t", got.Status.Storage, e.attached(table))
	}
	if n := e.queryInt("SELECT count(*) FROM tracking.activity_logs_shared WHERE organization_id = $1", org); n != 0 {
		t.Errorf("%d rows of the tenant left in the shared tree", n)
	}
	time.Sleep(300 * time.Millisecond) // some activity lands in the dedicated tree
	e.update("mover", func(s *v1alpha1.WorkPulseTenantSpec) { s.Storage = v1alpha1.StorageShared })
	got = e.waitReady("mover")
	if got.Status.Storage != v1alpha1.StorageShared || e.attached(table) || e.queryInt("SELECT count(*) FROM pg_class WHERE relname = $1", table) != 0 {
		t.Fatalf("after moving back: storage %s, table still there", got.Status.Storage)
	}
	close(stop)
	r := <-done

	if r.failed > 0 {
		t.Errorf("%d inserts failed during the moves, last: %v", r.failed, r.lastErr)
	}
	if r.inserted == 0 {
		t.Fatal("no activity was inserted during the moves")
	}
	want := 3000 + r.inserted
	total := e.queryInt("SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1", org)
	distinct := e.queryInt("SELECT count(DISTINCT id) FROM tracking.activity_logs WHERE organization_id = $1", org)
	if total != want || distinct != want {
		t.Errorf("rows %d (distinct %d), want %d: rows were lost or duplicated", total, distinct, want)
	}
	if n := e.queryInt("SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1", neighbour); n != 3000 {
		t.Errorf("neighbour has %d rows, want 3000", n)
	}
	t.Logf("inserted %d rows during two moves; slowest insert %s", r.inserted, r.slowest)
	if r.slowest > 5*time.Second {
		t.Errorf("an insert waited %s", r.slowest)
	}
}

func TestSuspendingATenantSuspendsItsJobsAndTellsTheServices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(e.tenant("sleepy"))
	org := e.waitReady("sleepy").Status.OrganizationID
	authSettings := func() (suspended bool, generation int64) {
		var raw []byte
		if err := e.db.Owner.QueryRow(e.ctx, "SELECT tenant_settings, tenant_generation FROM auth.organizations WHERE id = $1", org).Scan(&raw, &generation); err != nil {
			t.Fatal(err)
		}
		var s struct{ Suspended bool }
		_ = json.Unmarshal(raw, &s)
		return s.Suspended, generation
	}
	updates := e.tenantUpdates()
	for _, suspend := range []bool{true, false} {
		e.update("sleepy", func(s *v1alpha1.WorkPulseTenantSpec) { s.Suspend = suspend })
		got := e.waitReady("sleepy")
		if s := *e.mustCronJob(specs.DailySummaryName(org)).Spec.Suspend; s != suspend {
			t.Errorf("suspend=%t: CronJob suspend %t", suspend, s)
		}
		if s, gen := authSettings(); s != suspend || gen != got.Generation {
			t.Errorf("suspend=%t: auth has suspended=%t generation %d, want generation %d", suspend, s, gen, got.Generation)
		}
		// Every service learns it from auth's tenant.updated event.
		e.eventually(15*time.Second, "tenant.updated on Kafka", func() (bool, string) {
			for _, ev := range updates.all() {
				if ev.OrganizationID == org && ev.Generation == got.Generation && ev.Suspended == suspend && ev.Active {
					return true, ""
				}
			}
			return false, fmt.Sprintf("events so far: %+v", updates.all())
		})
		ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
		if suspend != (ready.Reason == "Suspended") {
			t.Errorf("suspend=%t: Ready reason %s", suspend, ready.Reason)
		}
	}
}

// eventLog collects the tenant.updated events on the test's broker.
type eventLog struct {
	mu     sync.Mutex
	events []events.TenantUpdated
}

func (l *eventLog) all() []events.TenantUpdated {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

func (e *testEnv) tenantUpdates() *eventLog {
	l := &eventLog{}
	c := kafkax.NewConsumer(kafkax.ConsumerConfig{Brokers: e.brokers, GroupID: "operator-test", Topics: []string{events.TopicTenants}},
		func(_ context.Context, env events.Envelope) error {
			if env.Type != events.TypeTenantUpdated {
				return nil
			}
			var p events.TenantUpdated
			if err := json.Unmarshal(env.Data, &p); err != nil {
				return err
			}
			l.mu.Lock()
			l.events = append(l.events, p)
			l.mu.Unlock()
			return nil
		}, nil, slog.New(slog.DiscardHandler))
	go func() { _ = c.Run(e.ctx) }()
	return l
}

func TestDeletingATenantFollowsItsDeletionPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name    string
		storage v1alpha1.StorageIsolation
		policy  v1alpha1.DeletionPolicy
	}{
		{"Delete drops a Dedicated tenant's partition.", v1alpha1.StorageDedicated, v1alpha1.DeletionDelete},
		{"Delete removes a Shared tenant's rows in batches.", v1alpha1.StorageShared, v1alpha1.DeletionDelete},
		{"Retain keeps a Dedicated tenant's data.", v1alpha1.StorageDedicated, v1alpha1.DeletionRetain},
		{"Retain keeps a Shared tenant's data.", v1alpha1.StorageShared, v1alpha1.DeletionRetain},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("gone-%d", i)
			e.create(e.tenant(name, func(s *v1alpha1.WorkPulseTenantSpec) { s.Storage, s.DeletionPolicy = tc.storage, tc.policy }))
			got := e.waitReady(name)
			org := got.Status.OrganizationID
			for range 250 { // more than two delete batches
				insertActivity(t, e, org, e.clock.Now())
			}
			if err := e.c.Delete(e.ctx, got); err != nil {
				t.Fatal(err)
			}
			e.eventually(30*time.Second, "tenant gone", func() (bool, string) {
				err := e.c.Get(e.ctx, client.ObjectKeyFromObject(got), &v1alpha1.WorkPulseTenant{})
				return apierrors.IsNotFound(err), fmt.Sprint(err)
			})
			if _, err := e.cronJob(specs.DailySummaryName(org)); !apierrors.IsNotFound(err) {
				t.Errorf("daily-summary CronJob: %v", err)
			}
			var active bool
			if err := e.db.Owner.QueryRow(e.ctx, "SELECT active FROM auth.organizations WHERE id = $1", org).Scan(&active); err != nil || active {
				t.Errorf("organization active=%t (%v), want deactivated", active, err)
			}
			rows := e.queryInt("SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1", org)
			tableLeft := e.queryInt("SELECT count(*) FROM pg_class WHERE relname = $1", storage.DedicatedTable(org)) == 1
			switch tc.policy {
			case v1alpha1.DeletionDelete:
				if rows != 0 || tableLeft {
					t.Errorf("%d rows left, table left %t", rows, tableLeft)
				}
			case v1alpha1.DeletionRetain:
				if rows != 250 || (tc.storage == v1alpha1.StorageDedicated) != tableLeft {
					t.Errorf("%d rows kept (want 250), table left %t", rows, tableLeft)
				}
			}
			if tc.policy == v1alpha1.DeletionRetain && tc.storage == v1alpha1.StorageShared {
				// A retained organization can be taken over again.
				e.create(e.tenant(name+"-again", func(s *v1alpha1.WorkPulseTenantSpec) { s.AdoptOrganizationID, s.Admin = org, nil }))
				again := e.waitReady(name + "-again")
				if again.Status.OrganizationID != org {
					t.Errorf("adopted %s, want %s", again.Status.OrganizationID, org)
				}
				if err := e.db.Owner.QueryRow(e.ctx, "SELECT active FROM auth.organizations WHERE id = $1", org).Scan(&active); err != nil || !active {
					t.Errorf("adopted organization active=%t (%v)", active, err)
				}
			}
		})
	}
}

func TestInvalidSpecsAreRefusedByTheAPIServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name   string
		mutate func(*v1alpha1.WorkPulseTenantSpec)
		want   string
	}{
		{"An unknown plan is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.Plan = "platinum" }, "spec.plan"},
		{"An unknown storage isolation is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.Storage = "Private" }, "spec.storage"},
		{"A time zone that is not an IANA name is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.TimeZone = "UTC+2 hours" }, "spec.timeZone"},
		{"The Local time zone is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.TimeZone = "Local" }, "IANA zone"},
		{"Retention shorter than premake is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.RetentionMonths, s.PremakeMonths = 2, 6 }, "retentionMonths must be at least premakeMonths"},
		{"Zero retention is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.RetentionMonths = -1 }, "spec.retentionMonths"},
		{"A schedule that is not five cron fields is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.DailySummary.Schedule = "CRON_TZ=UTC 0 0 * * *" }, "spec.dailySummary.schedule"},
		{"An admin email that is not an email is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.Admin.Email = "not-an-email" }, "spec.admin.email"},
		{"A tenant without admin or organization to adopt is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.Admin = nil }, "admin is required"},
		{"An organization to adopt must be a UUID.", func(s *v1alpha1.WorkPulseTenantSpec) { s.AdoptOrganizationID = "acme" }, "spec.adoptOrganizationID"},
		{"A display name is required.", func(s *v1alpha1.WorkPulseTenantSpec) { s.DisplayName = "" }, "spec.displayName"},
		{"An unknown deletion policy is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.DeletionPolicy = "Archive" }, "spec.deletionPolicy"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := e.c.Create(e.ctx, e.tenant(fmt.Sprintf("bad-%d", i), tc.mutate))
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want Invalid mentioning %q", err, tc.want)
			}
		})
	}

	e.create(e.tenant("fixed"))
	e.waitReady("fixed")
	updates := []struct {
		name   string
		mutate func(*v1alpha1.WorkPulseTenantSpec)
		want   string
	}{
		{"An organization to adopt cannot be added later.", func(s *v1alpha1.WorkPulseTenantSpec) { s.AdoptOrganizationID = "8b2f0c56-4b8e-4d7c-9a57-2f8b3c1d0e11" }, "adoptOrganizationID can only be set when the tenant is created"},
		{"The bootstrap admin cannot be changed.", func(s *v1alpha1.WorkPulseTenantSpec) { s.Admin.Email = "other@example.com" }, "admin is only used to create the first administrator"},
	}
	for _, tc := range updates {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.tryUpdate("fixed", tc.mutate); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want Invalid mentioning %q", err, tc.want)
			}
		})
	}
	t.Run("An adopted organization cannot be changed.", func(t *testing.T) {
		org := e.get("fixed").Status.OrganizationID
		e.create(e.tenant("adopter", func(s *v1alpha1.WorkPulseTenantSpec) { s.AdoptOrganizationID, s.Admin = org, nil }))
		err := e.tryUpdate("adopter", func(s *v1alpha1.WorkPulseTenantSpec) { s.AdoptOrganizationID = "8b2f0c56-4b8e-4d7c-9a57-2f8b3c1d0e11" })
		if !apierrors.IsInvalid(err) {
			t.Errorf("got %v, want Invalid", err)
		}
	})
	t.Run("A second resource adopting a managed organization is reported, and deleting it leaves the organization alone.", func(t *testing.T) {
		org := e.get("fixed").Status.OrganizationID
		e.eventually(30*time.Second, "OrganizationInUse", func() (bool, string) {
			c := meta.FindStatusCondition(e.get("adopter").Status.Conditions, v1alpha1.ConditionJobsScheduled)
			return c != nil && c.Reason == "OrganizationInUse" && strings.Contains(c.Message, e.ns+"/fixed"), fmt.Sprintf("%+v", c)
		})
		e.update("adopter", func(s *v1alpha1.WorkPulseTenantSpec) { s.DeletionPolicy = v1alpha1.DeletionDelete })
		adopter := e.get("adopter")
		if err := e.c.Delete(e.ctx, adopter); err != nil {
			t.Fatal(err)
		}
		e.eventually(30*time.Second, "adopter gone", func() (bool, string) {
			err := e.c.Get(e.ctx, client.ObjectKeyFromObject(adopter), &v1alpha1.WorkPulseTenant{})
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		})
		if _, err := e.cronJob(specs.DailySummaryName(org)); err != nil {
			t.Errorf("the managing tenant's CronJob: %v", err)
		}
		var active bool
		if err := e.db.Owner.QueryRow(e.ctx, "SELECT active FROM auth.organizations WHERE id = $1", org).Scan(&active); err != nil || !active {
			t.Errorf("organization active=%t (%v)", active, err)
		}
	})
	t.Run("A well-formed but unknown time zone is reported on the resource.", func(t *testing.T) {
		e.create(e.tenant("mars", func(s *v1alpha1.WorkPulseTenantSpec) { s.TimeZone = "Mars/Olympus_Mons" }))
		e.eventually(30*time.Second, "InvalidTimeZone", func() (bool, string) {
			c := meta.FindStatusCondition(e.get("mars").Status.Conditions, v1alpha1.ConditionJobsScheduled)
			return c != nil && c.Reason == "InvalidTimeZone" && strings.Contains(c.Message, "Mars/Olympus_Mons"), fmt.Sprintf("%+v", c)
		})
		if n := testutil.ToFloat64(newMetrics().reconcileErrors.WithLabelValues("jobs")); n < 1 {
			t.Errorf("reconcile errors metric of the jobs step: %v", n)
		}
	})
	t.Run("Adopting an organization that does not exist is reported on the resource.", func(t *testing.T) {
		e.create(e.tenant("ghost", func(s *v1alpha1.WorkPulseTenantSpec) {
			s.AdoptOrganizationID, s.Admin = "0d5b6a8e-1111-4c3b-8a7e-5f0e9d2c3b4a", nil
		}))
		e.eventually(30*time.Second, "OrganizationNotFound", func() (bool, string) {
			c := meta.FindStatusCondition(e.get("ghost").Status.Conditions, v1alpha1.ConditionReady)
			return c != nil && c.Status == metav1.ConditionFalse && c.Reason == "OrganizationNotFound", fmt.Sprintf("%+v", c)
		})
	})
}

func TestTwoOperatorReplicasRacingAgree(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.startOperator() // a second replica, without leader election, on purpose
	const n = 12
	for i := range n {
		e.create(e.tenant(fmt.Sprintf("race-%d", i), func(s *v1alpha1.WorkPulseTenantSpec) {
			if i%2 == 0 {
				s.Storage = v1alpha1.StorageDedicated
			}
		}))
	}
	for i := range n {
		got := e.waitReady(fmt.Sprintf("race-%d", i))
		org := got.Status.OrganizationID
		if admins := e.queryInt("SELECT count(*) FROM auth.users WHERE organization_id = $1", org); admins != 1 {
			t.Errorf("race-%d: %d users, want the one admin", i, admins)
		}
		if i%2 == 0 && len(e.months(storage.DedicatedTable(org))) != 5 {
			t.Errorf("race-%d: months %v", i, e.months(storage.DedicatedTable(org)))
		}
		var secret corev1.Secret
		if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: got.Status.AdminCredentialsSecret.Name}, &secret); err != nil {
			t.Fatal(err)
		}
		if code := e.login(string(secret.Data["email"]), string(secret.Data["password"])); code != http.StatusOK {
			t.Errorf("race-%d: the Secret's password does not log in (%d): replicas disagreed on it", i, code)
		}
	}
	var list batchv1.CronJobList
	if err := e.c.List(e.ctx, &list, client.InNamespace(e.jobsNS)); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != n+2 {
		t.Errorf("%d CronJobs, want %d", len(list.Items), n+2)
	}

	t.Run("DDL waits for a migration holding the advisory lock.", func(t *testing.T) {
		conn, err := e.db.Owner.Acquire(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		if _, err := conn.Exec(e.ctx, "SELECT pg_advisory_lock($1)", migrations.AdvisoryLockKey()); err != nil {
			t.Fatal(err)
		}
		e.create(e.tenant("blocked", func(s *v1alpha1.WorkPulseTenantSpec) { s.Storage = v1alpha1.StorageDedicated }))
		time.Sleep(3 * time.Second)
		c := meta.FindStatusCondition(e.get("blocked").Status.Conditions, v1alpha1.ConditionPartitionsReady)
		if c != nil && c.Status == metav1.ConditionTrue {
			t.Error("partitions were created while a migration held the lock")
		}
		if _, err := conn.Exec(e.ctx, "SELECT pg_advisory_unlock($1)", migrations.AdvisoryLockKey()); err != nil {
			t.Fatal(err)
		}
		e.waitReady("blocked")
	})
}
