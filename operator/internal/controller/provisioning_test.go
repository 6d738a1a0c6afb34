package controller

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/operator/internal/specs"
	"github.com/workpulse/workpulse/operator/internal/storage"
)

func TestTenantBecomesReadyWithItsOrganizationPartitionsAndCronJobs(t *testing.T) {
	e := newParallelEnv(t)
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
			for name, schedule := range map[string]string{specs.IdleDetectionJob: "*/2 * * * *", specs.OvertimeCheckJob: "*/30 * * * *",
				specs.DueSummaryJob: "*/15 * * * *"} {
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
