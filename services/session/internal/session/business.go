package session

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// trackingWindow is how recent a person's last activity must be for them to
// count as tracking now: agents post every few seconds to a minute, so a
// session silent for longer is open but nobody is at it.
const trackingWindow = 5 * time.Minute

var (
	peopleTrackingDesc = prometheus.NewDesc("workpulse_people_tracking",
		"People with an active session who posted activity in the last 5 minutes, across every tenant.", nil, prometheus.Labels{"service": "session"})
	trackedTodayDesc = prometheus.NewDesc("workpulse_tracked_seconds_today",
		"Seconds of activity that happened since 00:00 UTC today, across every tenant, by type (active, idle).", []string{"type"}, prometheus.Labels{"service": "session"})
)

// BusinessMetrics are the figures of the dashboard's business row: install
// wide, with no tenant or person label, so their cardinality is fixed. They
// are read in one query at most once per ttl (the scrape interval), which
// sums today's activity across every tenant.
func BusinessMetrics(db *pgxpool.Pool, clk clock.Clock, ttl time.Duration) prometheus.Collector {
	return metrics.Cached(clk, ttl, []*prometheus.Desc{peopleTrackingDesc, trackedTodayDesc},
		func(ctx context.Context, now time.Time) ([]prometheus.Metric, error) {
			now = now.UTC()
			day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
			f, err := readBusinessFigures(ctx, db, now.Add(-trackingWindow), day)
			if err != nil {
				return nil, err
			}
			return []prometheus.Metric{
				prometheus.MustNewConstMetric(peopleTrackingDesc, prometheus.GaugeValue, float64(f.PeopleTracking)),
				prometheus.MustNewConstMetric(trackedTodayDesc, prometheus.GaugeValue, float64(f.ActiveSeconds), "active"),
				prometheus.MustNewConstMetric(trackedTodayDesc, prometheus.GaugeValue, float64(f.IdleSeconds), "idle"),
			}, nil
		})
}
