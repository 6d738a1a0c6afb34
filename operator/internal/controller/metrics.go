package controller

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	activity "github.com/workpulse/workpulse/migrations/storage"
	platformmetrics "github.com/workpulse/workpulse/services/platform/metrics"
)

// operatorMetrics are the operator's own metrics, served beside
// controller-runtime's on the manager's /metrics.
type operatorMetrics struct {
	partitions      *prometheus.GaugeVec
	ready           *prometheus.GaugeVec
	monthsAhead     *prometheus.GaugeVec
	reconcileErrors *prometheus.CounterVec
	ddl             *prometheus.CounterVec
	movePause       prometheus.Histogram
	// storage are the shared tree's install-wide gauges, the same the
	// migrations' maintenance exports wherever it runs.
	storage *activity.Metrics
}

var (
	sharedMetrics     *operatorMetrics
	sharedMetricsOnce sync.Once
)

// newMetrics returns the metrics, registered once with controller-runtime's
// registry (a process may run several managers, as the tests do).
func newMetrics() *operatorMetrics {
	sharedMetricsOnce.Do(func() {
		m := &operatorMetrics{
			partitions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
				Name: "workpulse_operator_tenant_partitions",
				Help: "Month partitions holding a tenant's activity.",
			}, []string{"namespace", "name", "table"}),
			ready: prometheus.NewGaugeVec(prometheus.GaugeOpts{
				Name: "workpulse_operator_tenant_ready",
				Help: "1 when a tenant's Ready condition is True, 0 otherwise.",
			}, []string{"namespace", "name"}),
			monthsAhead: prometheus.NewGaugeVec(prometheus.GaugeOpts{
				Name: "workpulse_operator_tenant_partition_months_ahead",
				Help: "Months after the current one whose partitions exist for a tenant; inserts fail when it reaches 0 at a month's end.",
			}, []string{"namespace", "name", "table"}),
			reconcileErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "workpulse_operator_reconcile_errors_total",
				Help: "Failed reconcile steps, by step.",
			}, []string{"step"}),
			ddl: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "workpulse_operator_ddl_total",
				Help: "Schema changes made by the operator, by kind.",
			}, []string{"kind"}),
			movePause: prometheus.NewHistogram(prometheus.HistogramOpts{
				Name:    "workpulse_operator_storage_move_lock_seconds",
				Help:    "How long a storage move held tracking.activity_logs locked.",
				Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
			}),
		}
		m.storage = activity.NewMetrics(ctrlmetrics.Registry)
		platformmetrics.RegisterBuildInfo(ctrlmetrics.Registry, "operator")
		ctrlmetrics.Registry.MustRegister(m.partitions, m.ready, m.monthsAhead, m.reconcileErrors, m.ddl, m.movePause)
		sharedMetrics = m
	})
	return sharedMetrics
}

func (m *operatorMetrics) observePartitions(t *v1alpha1.WorkPulseTenant, st *v1alpha1.PartitionStatus) {
	// A tenant moved between trees keeps one series.
	m.forget(t)
	m.partitions.WithLabelValues(t.Namespace, t.Name, st.Table).Set(float64(st.Months))
	m.monthsAhead.WithLabelValues(t.Namespace, t.Name, st.Table).Set(float64(st.MonthsAhead))
}

func (m *operatorMetrics) observeReady(t *v1alpha1.WorkPulseTenant) {
	ready := 0.0
	if meta.IsStatusConditionTrue(t.Status.Conditions, v1alpha1.ConditionReady) {
		ready = 1
	}
	m.ready.WithLabelValues(t.Namespace, t.Name).Set(ready)
}

func (m *operatorMetrics) forget(t *v1alpha1.WorkPulseTenant) {
	l := prometheus.Labels{"namespace": t.Namespace, "name": t.Name}
	m.partitions.DeletePartialMatch(l)
	m.monthsAhead.DeletePartialMatch(l)
}
