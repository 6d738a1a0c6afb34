package session

import (
	"context"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// ActiveSessionsGauge reports how many sessions are active across every
// tenant, read at scrape time; NaN when the database does not answer.
func ActiveSessionsGauge(db *pgxpool.Pool) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "workpulse_sessions_active",
		Help:        "Work sessions currently active, across every tenant.",
		ConstLabels: prometheus.Labels{"service": "session"},
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := activeSessionCount(ctx, db)
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	})
}
