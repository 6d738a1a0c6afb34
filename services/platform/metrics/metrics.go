// Package metrics builds each service's Prometheus registry and the RED
// (rate, errors, duration) metrics per route.
package metrics

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/workpulse/workpulse/services/platform/buildinfo"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// NewRegistry returns service's registry with the Go runtime and process
// collectors and its build information. Each service has its own, so tests
// can run many services in one process.
func NewRegistry(service string) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	RegisterBuildInfo(r, service)
	return r
}

// RegisterBuildInfo registers workpulse_build_info{version, revision,
// service} 1 on reg, which the operator calls on controller-runtime's
// registry. Joined on service, it shows which pods run which release during
// a rollout, and a query can group any metric by release.
func RegisterBuildInfo(reg prometheus.Registerer, service string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "workpulse_build_info", Help: "The release and commit this binary was built from (always 1).",
		ConstLabels: prometheus.Labels{"version": buildinfo.Version(), "revision": buildinfo.Revision(), "service": service},
	})
	g.Set(1)
	reg.MustRegister(g)
}

// Handler serves the registry at /metrics.
func Handler(r *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(r, promhttp.HandlerOpts{Registry: r})
}

// HTTP records requests per route template, method and status.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
}

// NewHTTP registers the HTTP metrics of service on reg.
func NewHTTP(reg prometheus.Registerer, service string) *HTTP {
	labels := prometheus.Labels{"service": service}
	m := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "workpulse_http_requests_total", Help: "HTTP requests by route, method and status code.", ConstLabels: labels,
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "workpulse_http_request_duration_seconds", Help: "HTTP request latency by route and method.", ConstLabels: labels,
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "workpulse_http_requests_in_flight", Help: "HTTP requests being served.", ConstLabels: labels,
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.inflight)
	return m
}

// Middleware is a gorilla/mux middleware: it runs after routing, so the
// route template (not the raw path) labels the series.
func (m *HTTP) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := "unmatched"
		if cr := mux.CurrentRoute(r); cr != nil {
			if t, err := cr.GetPathTemplate(); err == nil {
				route = t
			}
		}
		watch := clock.Start()
		m.inflight.Inc()
		rec := &httpx.StatusRecorder{ResponseWriter: w}
		defer func() {
			m.inflight.Dec()
			status := rec.Status
			if status == 0 {
				status = http.StatusOK
			}
			m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(route, r.Method).Observe(watch.Elapsed().Seconds())
		}()
		next.ServeHTTP(rec, r)
	})
}
