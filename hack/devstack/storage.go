package main

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// storageMaintenance runs a pass at once, so that services start on a
// complete tree, and then on its schedule (hourly by default, as the
// operator does in a cluster) until ctx ends: a stack left running for
// months keeps its months ahead and never refuses an accepted activity.
// Its metrics are served on the front door's /metrics.
func (s *Stack) storageMaintenance(ctx context.Context, dbURL string, clk clock.Clock, reg prometheus.Registerer) (wait func(), err error) {
	db, err := pg.Connect(ctx, dbURL, pg.Login{}, 2)
	if err != nil {
		return nil, err
	}
	m := &storage.Maintainer{DB: db, Clock: clk, Policy: s.cfg.Storage, Metrics: storage.NewMetrics(reg)}
	if err := s.maintainOnce(ctx, m); err != nil {
		db.Close()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer db.Close()
		every := s.cfg.Schedules.StorageMaintenance
		clock.Every(ctx, every, func(ctx context.Context) {
			if err := s.maintainOnce(ctx, m); err != nil && ctx.Err() == nil {
				s.logf("storage", "maintenance failed, retrying in %s: %v", every, err)
			}
		})
	}()
	return func() { <-done }, nil
}

func (s *Stack) maintainOnce(ctx context.Context, m *storage.Maintainer) error {
	rep, err := m.Run(ctx)
	if err != nil {
		return err
	}
	s.logf("storage", "%s", rep)
	// Each organization's own retention, as the operator's pass applies it.
	retained, err := m.ApplyRetention(ctx)
	for _, r := range retained {
		s.logf("storage", "retention: %s", r)
	}
	return err
}

// withMetrics serves the stack's own metrics at /metrics beside h.
func withMetrics(h http.Handler, g prometheus.Gatherer) http.Handler {
	metrics := promhttp.HandlerFor(g, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			metrics.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
