package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"

	activity "github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/operator/internal/storage"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// SharedStorage keeps the shared activity tree for the whole installation,
// whether or not any WorkPulseTenant exists: the months the migrations'
// maintenance wants (premake ahead, every month of the widest accepted
// window back; the same code migrate up and make dev run) and retention.
// It runs on the leader, at start and every Interval on Clock.
type SharedStorage struct {
	// DB logs in as the operator's role.
	DB    *pgxpool.Pool
	Clock clock.Clock
	// Policy is the installation's premake, accepted window and retention
	// (months an accepted timestamp may fall in are kept whatever it says).
	Policy activity.Policy
	// Interval is how far apart passes are on Clock.
	Interval time.Duration
	// Poll is how often Clock is read to see whether a pass is due: a
	// clock that jumps (a test's, a resumed VM's) is noticed within Poll.
	Poll time.Duration

	maintainer *activity.Maintainer
	store      *storage.Store
}

// NewSharedStorage keeps the shared tree as cfg says, a pass an hour.
func NewSharedStorage(cfg Config, db *pgxpool.Pool, clk clock.Clock) *SharedStorage {
	m := newMetrics()
	return &SharedStorage{
		DB: db, Clock: clk, Policy: cfg.Storage,
		Interval: time.Hour, Poll: time.Minute,
		maintainer: &activity.Maintainer{DB: db, Clock: clk, Policy: cfg.Storage, Metrics: m.storage},
		store:      storage.New(db, func(kind string) { m.ddl.WithLabelValues(kind).Inc() }),
	}
}

// SetupWithManager runs the passes with the manager, on the leader only.
func (s *SharedStorage) SetupWithManager(mgr ctrl.Manager) error { return mgr.Add(s) }

// SharedPass is what one pass found and did.
type SharedPass struct {
	activity.Report
	// Dropped are months past retention removed; Kept are months past it
	// left in place because they hold rows dated within it.
	Dropped, Kept []policy.Month
	// Retained are the organizations with their own retention and what of
	// theirs was deleted.
	Retained []activity.Retained
}

// Pass creates the shared tree's missing months and applies retention:
// the installation's to the shared tree's months, each organization's own
// to its rows.
func (s *SharedStorage) Pass(ctx context.Context) (SharedPass, error) {
	rep, err := s.maintainer.Run(ctx)
	if err != nil {
		return SharedPass{}, err
	}
	p := SharedPass{Report: rep}
	keepFrom, err := s.KeepFrom(ctx, rep.Window)
	if err != nil {
		return p, err
	}
	if p.Dropped, p.Kept, err = s.store.DropMonthsBefore(ctx, storage.SharedTable, policy.MonthOf(keepFrom)); err != nil {
		return p, err
	}
	// Every organization loses its rows older than its retention here,
	// every pass, whether or not a WorkPulseTenant names it.
	p.Retained, err = s.maintainer.ApplyRetention(ctx)
	return p, err
}

// KeepFrom is the first instant the shared tree keeps now
// (policy.SharedKeepFrom) over the zones of the organizations living in
// it, with window the widest accepted one. An organization of the tree
// whose zone is unknown here leaves the tree's months alone: its days
// cannot be told.
func (s *SharedStorage) KeepFrom(ctx context.Context, window time.Duration) (time.Time, error) {
	orgs, err := activity.Organizations(ctx, s.DB)
	if err != nil {
		return time.Time{}, err
	}
	var zones []*time.Location
	for _, o := range orgs {
		if !o.Shared {
			continue
		}
		if o.Zone == nil {
			return time.Time{}, fmt.Errorf("organization %s of the shared tree has time zone %q, unknown to the operator: no month is dropped", o.ID, o.ZoneName)
		}
		zones = append(zones, o.Zone)
	}
	return policy.SharedKeepFrom(s.Clock.Now(), s.Policy.Retention, window, zones), nil
}

// Start runs a pass at once and then whenever Interval has passed on
// Clock since the last good one; a failed pass is tried again at the next
// Poll.
func (s *SharedStorage) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("shared-storage")
	var last time.Time
	tick := time.NewTicker(s.Poll)
	defer tick.Stop()
	for {
		if last.IsZero() || clock.Since(s.Clock, last) >= s.Interval || s.Clock.Now().Before(last) {
			now := s.Clock.Now()
			if p, err := s.Pass(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				logger.Error(err, "shared storage maintenance failed", "retryIn", s.Poll.String())
			} else {
				last = now
				logger.Info("shared storage maintained", "report", p.String(), "dropped", monthList(p.Dropped), "kept", monthList(p.Kept),
					"retention", p.Retained)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
