package realtime

import "github.com/prometheus/client_golang/prometheus"

// Metrics are realtime's own series, beside the shared HTTP and consumer
// metrics.
type Metrics struct {
	Connections prometheus.Gauge
	Sent        prometheus.Counter
	// Dropped counts messages a connection could not take because its
	// queue was full; the connection is then closed.
	Dropped prometheus.Counter
	// SlowClients counts connections closed for falling behind.
	SlowClients prometheus.Counter
	// Latency is the time from an event's creation to its write to a
	// client.
	Latency prometheus.Histogram
}

// NewMetrics registers realtime's metrics on reg.
func NewMetrics(reg prometheus.Registerer, service string) *Metrics {
	l := prometheus.Labels{"service": service}
	m := &Metrics{
		Connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "workpulse_realtime_connections",
			Help: "Open WebSocket connections.", ConstLabels: l}),
		Sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "workpulse_realtime_messages_sent_total",
			Help: "Messages written to WebSocket clients.", ConstLabels: l}),
		Dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "workpulse_realtime_messages_dropped_total",
			Help: "Messages not delivered because the client's send queue was full.", ConstLabels: l}),
		SlowClients: prometheus.NewCounter(prometheus.CounterOpts{Name: "workpulse_realtime_slow_clients_disconnected_total",
			Help: "Connections closed because the client fell behind.", ConstLabels: l}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "workpulse_realtime_delivery_latency_seconds",
			Help: "Time from an event's creation to its write to a client.", ConstLabels: l,
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
	}
	reg.MustRegister(m.Connections, m.Sent, m.Dropped, m.SlowClients, m.Latency)
	return m
}
