package plugin

import (
	"errors"
	"math"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
)

func page(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func deployment(component string, replicas, ready int32) appsv1.Deployment {
	return appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "wp-" + component, Labels: map[string]string{
			specs.LabelComponent: component, labelVersion: "0.9.0"}},
		Spec:   appsv1.DeploymentSpec{Replicas: ptr.To(replicas)},
		Status: appsv1.DeploymentStatus{ReadyReplicas: ready},
	}
}

func TestStatusTakesTheWorstOfEveryPod(t *testing.T) {
	ingestA := page(t, `# TYPE workpulse_outbox_oldest_age_seconds gauge
workpulse_outbox_oldest_age_seconds{service="ingest",table="tracking.outbox"} 0.25
# TYPE workpulse_kafka_dead_lettered_total counter
workpulse_kafka_dead_lettered_total{service="ingest",topic="activity.recorded"} 1
`)
	ingestB := page(t, `# TYPE workpulse_outbox_oldest_age_seconds gauge
workpulse_outbox_oldest_age_seconds{service="ingest",table="tracking.outbox"} 2.5
`)
	report := page(t, `# TYPE workpulse_kafka_consumer_lag gauge
workpulse_kafka_consumer_lag{group="report",service="report"} 7
workpulse_kafka_consumer_lag{group="report-alerts",service="report"} 3
# TYPE workpulse_kafka_dead_lettered_total counter
workpulse_kafka_dead_lettered_total{service="report",topic="session.events"} 2
`)
	operator := page(t, `# TYPE workpulse_activity_storage_months_ahead gauge
workpulse_activity_storage_months_ahead{tree="shared"} 4
workpulse_activity_storage_months_ahead{tree="tenant_acme"} 3
`)
	done := tenant("customers", "acme", 1, ready(metav1.ConditionTrue, "Ready", 1))
	s := summarize(
		[]appsv1.Deployment{deployment("session", 2, 2), deployment("ingest", 2, 1)},
		[]scrape{{pod: "ingest-a", families: ingestA}, {pod: "ingest-b", families: ingestB}, {pod: "report-a", families: report},
			{pod: "operator-a", families: operator}, {pod: "realtime-a", err: errors.New("connection refused")}},
		[]batchv1.CronJob{
			cronJob("", "", "idle-detection", "*/2 * * * *", nil, false),
			cronJob("customers", "acme", "daily-summary", "0 0 * * *", nil, false), // a tenant's: not install-wide
		},
		[]v1alpha1.WorkPulseTenant{done, tenant("customers", "beta", 1)}, tuesdayEvening)

	var out strings.Builder
	if err := printStatus(&out, s); err != nil {
		t.Fatal(err)
	}
	want := `COMPONENT  READY  VERSION
ingest     1/2    0.9.0
session    2/2    0.9.0

Kafka consumer lag (worst group):  7 events
Outbox, oldest waiting event:      2.5 s
Events dead-lettered:              3
Activity storage, months ahead:    shared 4, tenant_acme 3
Tenants:                           2, 1 Ready
Next install-wide job:             idle-detection 21:32 UTC (in 2m)
Metrics not read from realtime-a: connection refused
`
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestStatusSaysWhatNoPodExported(t *testing.T) {
	s := summarize([]appsv1.Deployment{deployment("auth", 1, 0)}, nil, nil, nil, tuesdayEvening)
	if !math.IsNaN(s.ConsumerLag) || !math.IsNaN(s.OutboxOldestSeconds) {
		t.Fatalf("readings without a pod = %v, %v, want unknown", s.ConsumerLag, s.OutboxOldestSeconds)
	}
	var out strings.Builder
	if err := printStatus(&out, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"auth       0/1    0.9.0", "Kafka consumer lag (worst group):  unknown (no pod exports it)",
		"Activity storage, months ahead:    unknown (no operator metrics)"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("status lacks %q:\n%s", want, out.String())
		}
	}
}

func TestStatusCountsTheTenantsOfItsOwnInstallationOnly(t *testing.T) {
	op := deployment("operator", 1, 1)
	op.Spec.Template.Spec.Containers = []corev1.Container{{Name: "operator", Env: []corev1.EnvVar{{Name: "INSTALLATION", Value: "eu.wp"}}}}
	of := func(name, installation, data string) v1alpha1.WorkPulseTenant {
		tn := tenant("customers", name, 1, ready(metav1.ConditionTrue, "Ready", 1))
		tn.Labels = map[string]string{v1alpha1.LabelInstallation: installation}
		if data != "" {
			tn.Annotations = map[string]string{v1alpha1.AnnotationDataInstallation: data}
		}
		return tn
	}
	tenants := []v1alpha1.WorkPulseTenant{
		of("acme", "eu.wp", "eu.wp"),
		of("beta", "us.wp", "us.wp"),
		// Relabelled for us.wp, its data still in eu.wp: eu.wp's operator keeps reconciling it.
		of("gamma", "us.wp", "eu.wp"),
	}
	cases := []struct {
		name        string
		deployments []appsv1.Deployment
		want        int
	}{
		{"An installation counts the tenants labelled for it and those whose data it holds.", []appsv1.Deployment{op, deployment("ingest", 1, 1)}, 2},
		{"A release without its operator's installation name counts every tenant.", []appsv1.Deployment{deployment("ingest", 1, 1)}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if s := summarize(c.deployments, nil, nil, tenants, tuesdayEvening); s.Tenants != c.want || s.TenantsReady != c.want {
				t.Fatalf("tenants %d, %d Ready; want %d", s.Tenants, s.TenantsReady, c.want)
			}
		})
	}
}
