package plugin

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// The chart's labels: every workload of an installation is part of workpulse, one release per
// installation.
const (
	labelPartOf   = "app.kubernetes.io/part-of"
	labelInstance = "app.kubernetes.io/instance"
	labelVersion  = "app.kubernetes.io/version"
)

// metricsPorts are the container ports serving /metrics: the services' internal port and the
// operator's metrics port.
var metricsPorts = []string{"internal", "metrics"}

func runStatus(ctx context.Context, args []string, out IO, clk clock.Clock) error {
	fs := flag.NewFlagSet("kubectl workpulse status", flag.ContinueOnError)
	var conn connection
	conn.register(fs)
	release := fs.String("release", "", "the Helm release, when the namespace holds more than one installation")
	timeout := fs.Duration("scrape-timeout", 5*time.Second, "how long to wait for each pod's metrics")
	if ok, err := parse(fs, args, out.Err); !ok {
		return err
	}
	c, err := conn.connect()
	if err != nil {
		return err
	}
	selector := client.MatchingLabels{labelPartOf: "workpulse"}
	if *release != "" {
		selector[labelInstance] = *release
	}
	var deployments appsv1.DeploymentList
	if err := c.client.List(ctx, &deployments, client.InNamespace(c.namespace), selector); err != nil {
		return fmt.Errorf("listing Deployments: %w", err)
	}
	if len(deployments.Items) == 0 {
		return fmt.Errorf("no WorkPulse installation in namespace %s (no Deployment labelled %s=workpulse)", c.namespace, labelPartOf)
	}
	var pods corev1.PodList
	if err := c.client.List(ctx, &pods, client.InNamespace(c.namespace), selector); err != nil {
		return fmt.Errorf("listing pods: %w", err)
	}
	var jobs batchv1.CronJobList
	if err := c.client.List(ctx, &jobs, client.InNamespace(c.namespace), client.MatchingLabels{specs.LabelManagedBy: specs.ManagedBy}); err != nil {
		return fmt.Errorf("listing CronJobs: %w", err)
	}
	var tenants v1alpha1.WorkPulseTenantList
	if err := c.client.List(ctx, &tenants); err != nil {
		fmt.Fprintf(out.Err, "Tenants not listed: %v\n", err)
	}
	scrapes := make([]scrape, 0, len(pods.Items))
	for i := range pods.Items {
		p := &pods.Items[i]
		port, ok := metricsPort(p)
		if !ok || !podReady(p) {
			continue
		}
		page, err := scrapePod(ctx, c, p, port, *timeout)
		scrapes = append(scrapes, scrape{pod: p.Name, families: page, err: err})
	}
	return printStatus(out.Out, summarize(deployments.Items, scrapes, jobs.Items, tenants.Items, clk.Now()))
}

// scrape is one pod's metrics page, or why it could not be read.
type scrape struct {
	pod      string
	families map[string]*dto.MetricFamily
	err      error
}

// installationStatus is what `kubectl workpulse status` prints.
type installationStatus struct {
	Components []componentStatus
	// Worst values over every scraped pod; NaN when no pod exported the metric.
	ConsumerLag, OutboxOldestSeconds, DeadLettered float64
	// MonthsAhead of each activity partition tree, from the operator's storage maintenance.
	MonthsAhead           map[string]float64
	Unscraped             []string // "pod: error"
	Jobs                  []string // "name next-run"
	Tenants, TenantsReady int
}

type componentStatus struct {
	Name, Version  string
	Ready, Desired int32
}

// summarize turns what the cluster and the pods answered into the installation's status.
func summarize(deployments []appsv1.Deployment, scrapes []scrape, jobs []batchv1.CronJob, tenants []v1alpha1.WorkPulseTenant, now time.Time) installationStatus {
	s := installationStatus{ConsumerLag: math.NaN(), OutboxOldestSeconds: math.NaN(), DeadLettered: math.NaN(),
		MonthsAhead: map[string]float64{}}
	// The tenants are listed cluster-wide; those of another installation in the cluster are not
	// this one's to count. Without an operator naming its installation (a chart before the label,
	// or a release without the operator) every tenant counts, as before.
	installation := ""
	for i := range deployments {
		if deployments[i].Labels[specs.LabelComponent] == "operator" {
			installation = operatorOf(&deployments[i]).Installation
		}
	}
	for _, d := range deployments {
		desired := int32(1)
		if d.Spec.Replicas != nil {
			desired = *d.Spec.Replicas
		}
		name := d.Labels[specs.LabelComponent]
		if name == "" {
			name = d.Name
		}
		s.Components = append(s.Components, componentStatus{Name: name, Version: d.Labels[labelVersion],
			Ready: d.Status.ReadyReplicas, Desired: desired})
	}
	sort.Slice(s.Components, func(i, j int) bool { return s.Components[i].Name < s.Components[j].Name })
	for _, sc := range scrapes {
		if sc.err != nil {
			s.Unscraped = append(s.Unscraped, fmt.Sprintf("%s: %v", sc.pod, sc.err))
			continue
		}
		s.ConsumerLag = worst(s.ConsumerLag, maxValue(sc.families["workpulse_kafka_consumer_lag"]))
		s.OutboxOldestSeconds = worst(s.OutboxOldestSeconds, maxValue(sc.families["workpulse_outbox_oldest_age_seconds"]))
		s.DeadLettered = sum(s.DeadLettered, sumValue(sc.families["workpulse_kafka_dead_lettered_total"]))
		if f := sc.families["workpulse_activity_storage_months_ahead"]; f != nil {
			for _, m := range f.GetMetric() {
				s.MonthsAhead[label(m, "tree")] = value(m)
			}
		}
	}
	for i := range jobs {
		if jobs[i].Labels[specs.LabelTenantName] == "" {
			s.Jobs = append(s.Jobs, jobs[i].Labels[specs.LabelComponent]+" "+nextRun(&jobs[i], now))
		}
	}
	sort.Strings(s.Jobs)
	for i := range tenants {
		if !reconciledBy(&tenants[i], installation) {
			continue
		}
		s.Tenants++
		if readiness(&tenants[i]) == "True" {
			s.TenantsReady++
		}
	}
	return s
}

// reconciledBy says whether the named installation's operator reconciles t: t is labelled for it,
// or its data is there while a move to another installation is held (see claimOf in the
// controller). An installation without a name counts every tenant.
func reconciledBy(t *v1alpha1.WorkPulseTenant, installation string) bool {
	return installation == "" || t.Labels[v1alpha1.LabelInstallation] == installation ||
		t.Annotations[v1alpha1.AnnotationDataInstallation] == installation
}

// worst is the larger of two readings, a missing one (NaN) counting as nothing.
func worst(a, b float64) float64 {
	if math.IsNaN(a) {
		return b
	}
	if math.IsNaN(b) {
		return a
	}
	return math.Max(a, b)
}

func sum(a, b float64) float64 {
	if math.IsNaN(a) {
		return b
	}
	if math.IsNaN(b) {
		return a
	}
	return a + b
}

func maxValue(f *dto.MetricFamily) float64 {
	v := math.NaN()
	for _, m := range f.GetMetric() {
		v = worst(v, value(m))
	}
	return v
}

func sumValue(f *dto.MetricFamily) float64 {
	v := math.NaN()
	for _, m := range f.GetMetric() {
		v = sum(v, value(m))
	}
	return v
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return math.NaN()
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func printStatus(w io.Writer, s installationStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tREADY\tVERSION")
	for _, c := range s.Components {
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\n", c.Name, c.Ready, c.Desired, orNone(c.Version))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Kafka consumer lag (worst group):  %s\n", reading(s.ConsumerLag, "%.0f events"))
	fmt.Fprintf(w, "Outbox, oldest waiting event:      %s\n", reading(s.OutboxOldestSeconds, "%.1f s"))
	fmt.Fprintf(w, "Events dead-lettered:              %s\n", reading(s.DeadLettered, "%.0f"))
	trees := make([]string, 0, len(s.MonthsAhead))
	for tree, months := range s.MonthsAhead {
		trees = append(trees, fmt.Sprintf("%s %.0f", tree, months))
	}
	sort.Strings(trees)
	if len(trees) == 0 {
		trees = []string{"unknown (no operator metrics)"}
	}
	fmt.Fprintf(w, "Activity storage, months ahead:    %s\n", strings.Join(trees, ", "))
	fmt.Fprintf(w, "Tenants:                           %d, %d Ready\n", s.Tenants, s.TenantsReady)
	for _, j := range s.Jobs {
		fmt.Fprintf(w, "Next install-wide job:             %s\n", j)
	}
	for _, u := range s.Unscraped {
		fmt.Fprintf(w, "Metrics not read from %s\n", u)
	}
	return nil
}

func reading(v float64, format string) string {
	if math.IsNaN(v) {
		return "unknown (no pod exports it)"
	}
	return fmt.Sprintf(format, v)
}

func metricsPort(p *corev1.Pod) (int32, bool) {
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			for _, name := range metricsPorts {
				if port.Name == name {
					return port.ContainerPort, true
				}
			}
		}
	}
	return 0, false
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// scrapePod reads the pod's /metrics through a port-forward, as `kubectl port-forward` does: the
// kubelet connects inside the pod, so it works whatever NetworkPolicies allow.
func scrapePod(ctx context.Context, c *cluster, p *corev1.Pod, port int32, timeout time.Duration) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := c.clientset.CoreV1().RESTClient().Post().Resource("pods").Namespace(p.Namespace).Name(p.Name).SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(c.rest)
	if err != nil {
		return nil, err
	}
	spdyDialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	wsDialer, err := portforward.NewSPDYOverWebsocketDialer(url, c.rest)
	if err != nil {
		return nil, err
	}
	dialer := portforward.NewFallbackDialer(wsDialer, spdyDialer, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	ready := make(chan struct{})
	fw, err := portforward.NewOnAddressesWithContext(ctx, dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)}, ready, io.Discard, io.Discard)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	defer func() { cancel(); <-done }()
	select {
	case <-ready:
	case err := <-done:
		done <- err
		return nil, fmt.Errorf("port-forward: %w", err)
	case <-ctx.Done():
		return nil, fmt.Errorf("port-forward: %w", ctx.Err())
	}
	ports, err := fw.GetPorts()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[0].Local), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return parseMetrics(resp.Body)
}

func parseMetrics(r io.Reader) (map[string]*dto.MetricFamily, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(r)
}
