package report

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// alertKinds are the kinds an alert has (reporting.alerts' CHECK): each is
// reported, 0 when none is open, so that the panel and its thresholds see
// every kind.
var alertKinds = []string{"idle", "overtime"}

var openAlertsDesc = prometheus.NewDesc("workpulse_alerts_open",
	"Unresolved alerts across every tenant, by kind (idle, overtime).", []string{"kind"}, prometheus.Labels{"service": "report"})

// OpenAlertsMetric is the dashboard's business row's alert figure: install
// wide, by kind only, read at most once per ttl (the scrape interval).
func OpenAlertsMetric(db *pgxpool.Pool, clk clock.Clock, ttl time.Duration) prometheus.Collector {
	return metrics.Cached(clk, ttl, []*prometheus.Desc{openAlertsDesc}, func(ctx context.Context, _ time.Time) ([]prometheus.Metric, error) {
		open, err := openAlertCounts(ctx, db)
		if err != nil {
			return nil, err
		}
		ms := make([]prometheus.Metric, 0, len(alertKinds))
		for _, kind := range alertKinds {
			ms = append(ms, prometheus.MustNewConstMetric(openAlertsDesc, prometheus.GaugeValue, float64(open[kind]), kind))
		}
		return ms, nil
	})
}
