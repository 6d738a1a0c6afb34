package storage

import "github.com/prometheus/client_golang/prometheus"

// Metrics are maintenance's gauges, install-wide: an alert on months ahead
// below the premake setting catches a tree about to refuse inserts long
// before it does.
type Metrics struct {
	monthsAhead *prometheus.GaugeVec
	created     *prometheus.CounterVec
}

// NewMetrics registers maintenance's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		monthsAhead: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "workpulse_activity_storage_months_ahead",
			Help: "Months after the current one that an activity partition tree has without a gap."}, []string{"tree"}),
		created: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "workpulse_activity_storage_months_created_total",
			Help: "Month partitions created by storage maintenance."}, []string{"tree"}),
	}
	reg.MustRegister(m.monthsAhead, m.created)
	return m
}

// Observe records a pass; a nil Metrics records nothing.
func (m *Metrics) Observe(r Report) {
	if m == nil {
		return
	}
	m.monthsAhead.WithLabelValues(r.Tree).Set(float64(r.MonthsAhead))
	m.created.WithLabelValues(r.Tree).Add(float64(len(r.Created)))
}
