package plugin

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
)

// installationIn puts the chart's objects of one release into a namespace of the test's API
// server, with each pod's metrics served through the test's kubelet.
type installationIn struct {
	t             *testing.T
	ns, node, rel string
}

// component is the release's Deployment of name with ready of its replicas Ready; the operator's
// names its installation, as the chart's does.
func (in installationIn) component(name string, replicas, ready int32) {
	in.t.Helper()
	labels := map[string]string{labelPartOf: "workpulse", labelInstance: in.rel, specs.LabelComponent: name, labelVersion: "0.9.0"}
	var env []corev1.EnvVar
	if name == "operator" {
		env = []corev1.EnvVar{{Name: "INSTALLATION", Value: in.ns + "." + in.rel}, {Name: "WATCH_NAMESPACES", Value: in.ns}}
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: in.rel + "-" + name, Namespace: in.ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "workpulse/" + name, Env: env}}}}},
	}
	ctx := context.Background()
	if err := apiServer.client.Create(ctx, d); err != nil {
		in.t.Fatal(err)
	}
	d.Status = appsv1.DeploymentStatus{Replicas: replicas, UpdatedReplicas: replicas, ReadyReplicas: ready, AvailableReplicas: ready}
	if err := apiServer.client.Status().Update(ctx, d); err != nil {
		in.t.Fatal(err)
	}
}

// pod is a pod of the release's component on the test's node whose metrics port answers page
// (or status, when it is not 200); a pod not Ready is not scraped.
func (in installationIn) pod(name, component string, ready bool, status int, page string) {
	in.t.Helper()
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(page))
	}))
	in.t.Cleanup(metrics.Close)
	port := "internal"
	if component == "operator" {
		port = "metrics"
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: in.ns,
			Labels: map[string]string{labelPartOf: "workpulse", labelInstance: in.rel, specs.LabelComponent: component}},
		Spec: corev1.PodSpec{NodeName: in.node, Containers: []corev1.Container{{Name: component, Image: "workpulse/" + component,
			Ports: []corev1.ContainerPort{{Name: port, ContainerPort: int32(metrics.Listener.Addr().(*net.TCPAddr).Port)}}}}},
	}
	ctx := context.Background()
	if err := apiServer.client.Create(ctx, p); err != nil {
		in.t.Fatal(err)
	}
	condition := corev1.ConditionFalse
	if ready {
		condition = corev1.ConditionTrue
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: condition}}}
	if err := apiServer.client.Status().Update(ctx, p); err != nil {
		in.t.Fatal(err)
	}
}

// job is the install-wide CronJob of component the operator keeps.
func (in installationIn) job(component, schedule string) {
	in.t.Helper()
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: in.rel + "-" + component, Namespace: in.ns,
			Labels: map[string]string{specs.LabelManagedBy: specs.ManagedBy, specs.LabelComponent: component}},
		Spec: batchv1.CronJobSpec{Schedule: schedule, JobTemplate: batchv1.JobTemplateSpec{
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "report", Image: "workpulse/report"}}}}}}},
	}
	if err := apiServer.client.Create(context.Background(), cj); err != nil {
		in.t.Fatal(err)
	}
}

// tenant is a tenant in the namespace for installation ("": the release's own) with its Ready
// condition.
func (in installationIn) tenant(name, installation string, ready metav1.ConditionStatus, reason string) {
	in.t.Helper()
	if installation == "" {
		installation = in.ns + "." + in.rel
	}
	tn := &v1alpha1.WorkPulseTenant{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: in.ns, Labels: map[string]string{v1alpha1.LabelInstallation: installation}},
		Spec:       v1alpha1.WorkPulseTenantSpec{DisplayName: name, Admin: &v1alpha1.BootstrapAdmin{Email: "it@" + name + ".example", Name: "IT"}},
	}
	ctx := context.Background()
	if err := apiServer.client.Create(ctx, tn); err != nil {
		in.t.Fatal(err)
	}
	tn.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: ready, Reason: reason,
		ObservedGeneration: tn.Generation, LastTransitionTime: metav1.NewTime(tuesdayEvening)}}
	if err := apiServer.client.Status().Update(ctx, tn); err != nil {
		in.t.Fatal(err)
	}
}

const (
	outboxPage = `# TYPE workpulse_outbox_oldest_age_seconds gauge
workpulse_outbox_oldest_age_seconds{service="ingest",table="tracking.outbox"} %s
`
	lagPage = `# TYPE workpulse_kafka_consumer_lag gauge
workpulse_kafka_consumer_lag{group="report",service="report"} %s
# TYPE workpulse_kafka_dead_lettered_total counter
workpulse_kafka_dead_lettered_total{service="report",topic="session.events"} %s
`
	monthsPage = `# TYPE workpulse_activity_storage_months_ahead gauge
workpulse_activity_storage_months_ahead{tree="shared"} %s
`
)

// What `kubectl workpulse status` prints of a whole installation, gathered from the API server
// and read from each Ready pod's metrics through port-forwards, as in a cluster.
func TestStatusPrintsWhatTheInstallationIs(t *testing.T) {
	node := kubelet(t)
	cases := []struct {
		name    string
		build   func(in installationIn)
		want    string
		wantErr string
	}{
		{
			name: "A healthy installation: every replica Ready, every pod's metrics read, nothing waiting.",
			build: func(in installationIn) {
				in.component("ingest", 2, 2)
				in.component("report", 1, 1)
				in.component("operator", 1, 1)
				in.pod("wp-ingest-a", "ingest", true, 200, fmt.Sprintf(outboxPage, "0.2"))
				in.pod("wp-ingest-b", "ingest", true, 200, fmt.Sprintf(outboxPage, "0.1"))
				in.pod("wp-report-a", "report", true, 200, fmt.Sprintf(lagPage, "0", "0"))
				in.pod("wp-operator-a", "operator", true, 200, fmt.Sprintf(monthsPage, "4"))
				in.job("idle-detection", "*/2 * * * *")
				in.tenant("acme", "", metav1.ConditionTrue, "Ready")
				// Another installation's, in the same namespace: not this one's to count.
				in.tenant("elsewhere", "eu.wp", metav1.ConditionFalse, "Provisioning")
			},
			want: `COMPONENT  READY  VERSION
ingest     2/2    0.9.0
operator   1/1    0.9.0
report     1/1    0.9.0

Kafka consumer lag (worst group):  0 events
Outbox, oldest waiting event:      0.2 s
Events dead-lettered:              0
Activity storage, months ahead:    shared 4
Tenants:                           1, 1 Ready
Next install-wide job:             idle-detection 21:32 UTC (in 2m)
`,
		},
		{
			name: "A degraded installation: a replica short, a pod whose metrics fail, events waiting and dead-lettered, storage running out, a tenant not Ready.",
			build: func(in installationIn) {
				in.component("ingest", 2, 1)
				in.component("report", 2, 2)
				in.component("operator", 1, 1)
				in.pod("wp-ingest-a", "ingest", true, 200, fmt.Sprintf(outboxPage, "42.5"))
				// Not Ready: not asked, so its stale figures count for nothing.
				in.pod("wp-ingest-b", "ingest", false, 200, fmt.Sprintf(outboxPage, "9999"))
				in.pod("wp-report-a", "report", true, 200, fmt.Sprintf(lagPage, "1200", "3"))
				in.pod("wp-report-b", "report", true, http.StatusServiceUnavailable, "draining\n")
				in.pod("wp-operator-a", "operator", true, 200, fmt.Sprintf(monthsPage, "1"))
				in.job("idle-detection", "*/2 * * * *")
				in.tenant("acme", "", metav1.ConditionTrue, "Ready")
				in.tenant("beta", "", metav1.ConditionFalse, "DatabaseUnreachable")
			},
			want: `COMPONENT  READY  VERSION
ingest     1/2    0.9.0
operator   1/1    0.9.0
report     2/2    0.9.0

Kafka consumer lag (worst group):  1200 events
Outbox, oldest waiting event:      42.5 s
Events dead-lettered:              3
Activity storage, months ahead:    shared 1
Tenants:                           2, 1 Ready
Next install-wide job:             idle-detection 21:32 UTC (in 2m)
Metrics not read from wp-report-b: GET /metrics: 503 Service Unavailable
`,
		},
		{
			name:    "A missing installation: a namespace without any of its Deployments.",
			build:   func(installationIn) {},
			wantErr: "no WorkPulse installation in namespace ",
		},
		{
			name: "A missing installation: only another release's Deployments in the namespace.",
			build: func(in installationIn) {
				in.rel = "other"
				in.component("ingest", 1, 1)
				in.pod("other-ingest-a", "ingest", true, 200, fmt.Sprintf(outboxPage, "0.2"))
			},
			wantErr: "no WorkPulse installation in namespace ",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := namespace(t)
			c.build(installationIn{t: t, ns: ns, node: node, rel: "wp"})
			out, errOut, err := kubectlWorkpulse(t, ns, "status", "--release", "wp")
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr+ns) {
					t.Fatalf("err = %v, want one saying %q; printed\n%s", err, c.wantErr+ns, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut)
			}
			if out != c.want {
				t.Fatalf("printed\n%s\nwant\n%s\nstderr: %s", out, c.want, errOut)
			}
		})
	}
}
