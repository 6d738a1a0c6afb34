package plugin

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
)

var tuesdayEvening = time.Date(2026, 12, 1, 21, 30, 0, 0, time.UTC)

func tenant(ns, name string, generation int64, conditions ...metav1.Condition) v1alpha1.WorkPulseTenant {
	return v1alpha1.WorkPulseTenant{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: generation},
		Status:     v1alpha1.WorkPulseTenantStatus{Conditions: conditions},
	}
}

func ready(status metav1.ConditionStatus, reason string, observed int64) metav1.Condition {
	return metav1.Condition{Type: v1alpha1.ConditionReady, Status: status, Reason: reason, ObservedGeneration: observed}
}

func cronJob(tenantNS, tenantName, component, schedule string, zone *string, suspend bool) batchv1.CronJob {
	return batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: component, Labels: map[string]string{
			specs.LabelTenantNamespace: tenantNS, specs.LabelTenantName: tenantName, specs.LabelComponent: component}},
		Spec: batchv1.CronJobSpec{Schedule: schedule, TimeZone: zone, Suspend: ptr.To(suspend)},
	}
}

func TestReadiness(t *testing.T) {
	cases := []struct {
		name   string
		tenant v1alpha1.WorkPulseTenant
		want   string
	}{
		{"a tenant the operator has not reconciled yet is unknown", tenant("a", "t", 1), "Unknown (not reconciled yet)"},
		{"a Ready condition older than the spec is not an answer yet", tenant("a", "t", 3, ready(metav1.ConditionTrue, "Ready", 2)),
			"Unknown (generation 3 not reconciled yet)"},
		{"a ready tenant says True", tenant("a", "t", 2, ready(metav1.ConditionTrue, "Ready", 2)), "True"},
		{"a tenant that is not ready says why", tenant("a", "t", 2, ready(metav1.ConditionFalse, "OrganizationConflict", 2)),
			"False (OrganizationConflict)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := readiness(&c.tenant); got != c.want {
				t.Fatalf("readiness = %q, want %q", got, c.want)
			}
		})
	}
}

func TestStorage(t *testing.T) {
	cases := []struct {
		name       string
		spec, have v1alpha1.StorageIsolation
		want       string
	}{
		{"a tenant without a storage choice is shared", "", v1alpha1.StorageShared, "Shared"},
		{"storage not reported yet is pending", v1alpha1.StorageDedicated, "", "Dedicated (pending)"},
		{"a tenant whose rows are still shared while dedicated is asked for is moving", v1alpha1.StorageDedicated, v1alpha1.StorageShared,
			"Shared (moving to Dedicated)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tn := v1alpha1.WorkPulseTenant{Spec: v1alpha1.WorkPulseTenantSpec{Storage: c.spec}, Status: v1alpha1.WorkPulseTenantStatus{Storage: c.have}}
			if got := storage(&tn); got != c.want {
				t.Fatalf("storage = %q, want %q", got, c.want)
			}
		})
	}
}

func TestNextRun(t *testing.T) {
	paris, tokyo, mars := "Europe/Paris", "Asia/Tokyo", "Mars/Olympus_Mons"
	cases := []struct {
		name string
		job  batchv1.CronJob
		want string
	}{
		{"a job every two minutes runs at the next even minute, in UTC when the job names no zone",
			cronJob("", "", "idle-detection", "*/2 * * * *", nil, false), "21:32 UTC (in 2m)"},
		{"local midnight in Paris is 23:00 UTC in winter",
			cronJob("", "", "daily-summary", "0 0 * * *", &paris, false), "00:00 CET (in 1h30m)"},
		{"a job more than a day away shows its date",
			cronJob("", "", "daily-summary", "0 9 * * 1", &tokyo, false), "2026-12-07 09:00 JST (in 5d2h30m)"},
		{"a suspended job does not run", cronJob("", "", "daily-summary", "0 0 * * *", &paris, true), "suspended"},
		{"a zone the database does not know is said, not guessed", cronJob("", "", "daily-summary", "0 0 * * *", &mars, false),
			`unknown time zone "Mars/Olympus_Mons"`},
		{"a schedule that is not cron is said", cronJob("", "", "daily-summary", "every day", nil, false), `bad schedule "every day"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := nextRun(&c.job, tuesdayEvening); got != c.want {
				t.Fatalf("nextRun = %q, want %q", got, c.want)
			}
		})
	}
}

func TestRoughly(t *testing.T) {
	cases := []struct {
		name string
		d    time.Duration
		want string
	}{
		{"less than half a minute is under a minute", 20 * time.Second, "<1m"},
		{"minutes alone", 59 * time.Minute, "59m"},
		{"hours and minutes", 2*time.Hour + 5*time.Minute, "2h5m"},
		{"days, hours and minutes", 26*time.Hour + 5*time.Minute, "1d2h5m"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := roughly(c.d); got != c.want {
				t.Fatalf("roughly(%v) = %q, want %q", c.d, got, c.want)
			}
		})
	}
}

func TestTenantRowsListEachTenantWithItsOwnJobsOnly(t *testing.T) {
	paris := "Europe/Paris"
	a := tenant("customers", "acme", 1, ready(metav1.ConditionTrue, "Ready", 1))
	a.Status.OrganizationID = "7d8c0f9e-0000-4000-8000-000000000001"
	a.Labels = map[string]string{v1alpha1.LabelInstallation: "workpulse.workpulse"}
	a.Status.Storage = v1alpha1.StorageShared
	a.Status.Partitions = &v1alpha1.PartitionStatus{MonthsAhead: 4}
	b := tenant("customers", "beta", 1)
	c := tenant("customers", "gamma", 1)
	c.Labels = map[string]string{v1alpha1.LabelInstallation: "us.wp"}
	c.Annotations = map[string]string{v1alpha1.AnnotationDataInstallation: "workpulse.workpulse"}
	rows := tenantRows([]v1alpha1.WorkPulseTenant{b, c, a},
		[]batchv1.CronJob{
			cronJob("customers", "acme", "daily-summary", "0 0 * * *", &paris, false),
			cronJob("other", "acme", "daily-summary", "0 3 * * *", nil, false), // same name, another namespace
			cronJob("", "", "idle-detection", "*/2 * * * *", nil, false),       // install-wide
		}, tuesdayEvening)
	var out strings.Builder
	if err := printTenants(&out, rows); err != nil {
		t.Fatal(err)
	}
	want := `NAMESPACE  NAME   INSTALLATION                               ORGANIZATION                          READY                         STORAGE           MONTHS AHEAD  NEXT JOBS
customers  acme   workpulse.workpulse                        7d8c0f9e-0000-4000-8000-000000000001  True                          Shared            4             daily-summary 00:00 CET (in 1h30m)
customers  beta   -                                          -                                     Unknown (not reconciled yet)  Shared (pending)  -             -
customers  gamma  us.wp (held: data in workpulse.workpulse)  -                                     Unknown (not reconciled yet)  Shared (pending)  -             -
`
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
}
