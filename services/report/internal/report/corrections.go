package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// A late upload (an offline agent's batch, a post just after midnight)
// changes days whose summaries are stored already. The activity consumer
// marks those days in reporting.summary_corrections; the serving process
// summarizes them again every CorrectionInterval, so a past day inside the
// accepted window is right within seconds, not at the next night's run.

// CorrectionInterval is how often the serving process corrects the days
// late uploads changed.
const CorrectionInterval = time.Second

// correctionBatchDays bounds the days one organization's correction
// takes in one transaction, so that a month of late uploads of one
// organization does not hold its turn while the others wait.
const correctionBatchDays = 7

// RunCorrections corrects the marked days every CorrectionInterval until
// ctx ends, for app.Service.Workers.
func (j *Jobs) RunCorrections(ctx context.Context) error {
	clock.Every(ctx, CorrectionInterval, func(ctx context.Context) {
		if _, err := j.CorrectLateDays(ctx); err != nil && ctx.Err() == nil {
			j.log.Error("summary corrections failed", "err", err)
		}
	})
	return nil
}

// CorrectLateDays summarizes again the days late uploads changed, for
// every organization that has some, and returns how many it did. An
// organization whose daily summary runs at the moment is left for the
// next pass, so the loop never waits on a long run.
func (j *Jobs) CorrectLateDays(ctx context.Context) (int, error) {
	orgs, err := TenantIDsWithCorrections(ctx, j.db)
	if err != nil {
		return 0, fmt.Errorf("list tenants with corrections: %w", err)
	}
	done := 0
	var errs []error
	for _, org := range orgs {
		n, err := j.correct(ctx, org)
		done += n
		if err != nil {
			errs = append(errs, fmt.Errorf("organization %s: %w", org, err))
		}
	}
	return done, errors.Join(errs...)
}

// correct summarizes again at most correctionBatchDays marked days of org.
func (j *Jobs) correct(ctx context.Context, org string) (int, error) {
	done := 0
	err := pg.InOrg(ctx, j.db, org, func(tx pgx.Tx) error {
		done = 0
		ok, err := tryLockTenant(ctx, tx, JobDailySummary, org)
		if err != nil || !ok {
			return err
		}
		st, err := j.cfg.settings(ctx, tx, org)
		if err != nil {
			return err
		}
		days, err := takeCorrections(ctx, tx, org, correctionBatchDays)
		if err != nil {
			return err
		}
		now := j.clock.Now()
		for _, d := range days {
			if _, _, err := summarizeDay(ctx, tx, org, st.TimeZone, d, now); err != nil {
				return err
			}
		}
		done = len(days)
		return nil
	})
	return done, err
}

// activityPayload is the payload of an event of the activity stream that
// lateSpan or idleTarget read (nil for other types), decoded once for both:
// decoding is most of what the consumer's prefilter costs its process.
func activityPayload(e events.Envelope) (any, error) {
	var p any
	switch e.Type {
	case events.TypeActivityRecorded:
		p = &events.ActivityRecorded{}
	case events.TypeActivityCorrected:
		p = &events.ActivityCorrected{}
	case events.TypeSessionStopped:
		p = &events.SessionStopped{}
	default:
		return nil, nil
	}
	if err := e.Payload(p); err != nil {
		return nil, err
	}
	return p, nil
}

// lateSpan is the span of timestamps an activity.recorded event of
// payload p (activityPayload) stored, or an activity.corrected event
// reclassified, when it tells.
func lateSpan(e events.Envelope, p any) (first, last time.Time, ok bool, err error) {
	switch a := p.(type) {
	case *events.ActivityRecorded:
		if a.FirstAt == nil || a.LastAt == nil {
			return first, last, false, nil
		}
		first, last = *a.FirstAt, *a.LastAt
	case *events.ActivityCorrected:
		first, last = a.FirstAt, a.LastAt
	default:
		return first, last, false, nil
	}
	if !isUUID(e.OrganizationID) {
		return first, last, false, fmt.Errorf("%w: organization_id is not a UUID", events.ErrMalformed)
	}
	return first, last, true, nil
}

// ReconciliationMetric is workpulse_summary_reconciliation_differences_total:
// the stored summaries the nightly reconciliation found different from
// the activity, in the whole installation, whichever process ran it. It
// is read from the database when scraped; 0 while corrections keep up.
func ReconciliationMetric(db *pgxpool.Pool, log *slog.Logger) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "workpulse_summary_reconciliation_differences_total",
		Help: "Stored daily summaries the nightly reconciliation found different from the activity (late uploads the corrections missed).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := ReconciliationDifferences(ctx, db)
		if err != nil {
			log.Warn("reading the reconciliation differences failed", "err", err)
		}
		return float64(n)
	})
}
