package report

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/pg"
)

// SummaryDay is one tenant-local day a summary run computed.
type SummaryDay struct {
	Date  string `json:"date"`
	Users int64  `json:"users"`
	// Recomputed marks a day summarized before, done again for late uploads.
	Recomputed bool `json:"recomputed,omitempty"`
	// Differences counts the stored summaries a recomputation found
	// different: late activity the corrections missed.
	Differences int64 `json:"differences,omitempty"`
}

// SummaryResult reports a daily-summary run for one tenant.
type SummaryResult struct {
	OrganizationID string       `json:"organization_id"`
	Days           []SummaryDay `json:"days"`
}

// summarizeDay upserts the summaries of the tenant of tx for one
// tenant-local day. Each activity counts on the day of its timestamp, so
// a session across midnight counts on both days. now is recorded as the
// time of the computation. It returns how many users the day has and how
// many stored summaries it found different.
func summarizeDay(ctx context.Context, tx pgx.Tx, org, tz string, day, now time.Time) (users, differences int64, err error) {
	lo, hi, err := dayBounds(ctx, tx, tz, day)
	if err != nil {
		return 0, 0, err
	}
	c, err := dayCategories(ctx, tx, org, nil, lo, hi)
	if err != nil {
		return 0, 0, err
	}
	users, differences, err = upsertSummaries(ctx, tx, org, day, lo, hi, now, c)
	if err != nil || differences == 0 {
		return users, differences, err
	}
	return users, differences, bumpReportVersion(ctx, tx, org)
}

// SummarizeDate computes the summaries of org for one tenant-local date
// and announces them (summary.ready). Re-running it gives the same rows
// (with the same ids).
func (j *Jobs) SummarizeDate(ctx context.Context, org string, day time.Time) (SummaryResult, error) {
	res := SummaryResult{OrganizationID: org, Days: []SummaryDay{}}
	err := j.inDailySummary(ctx, org, func(tx pgx.Tx, st Settings, now, _ time.Time) error {
		n, _, err := summarizeDay(ctx, tx, org, st.TimeZone, day, now)
		if err != nil {
			return err
		}
		res.Days = append(res.Days, SummaryDay{Date: day.Format(time.DateOnly), Users: n})
		return emitSummaryReady(ctx, tx, org, day, n, now)
	})
	return res, err
}

// inDailySummary runs f in a transaction of org holding the daily
// summary's lock, with the organization's settings, the clock's now and
// the day before the organization's local date at now.
func (j *Jobs) inDailySummary(ctx context.Context, org string, f func(tx pgx.Tx, st Settings, now, yesterday time.Time) error) error {
	return pg.InOrg(ctx, j.db, org, func(tx pgx.Tx) error {
		if err := lockTenant(ctx, tx, JobDailySummary, org); err != nil {
			return err
		}
		st, err := j.cfg.settings(ctx, tx, org)
		if err != nil {
			return err
		}
		now := j.clock.Now()
		yesterday, err := yesterdayIn(ctx, tx, st.TimeZone, now)
		if err != nil {
			return err
		}
		return f(tx, st, now, yesterday)
	})
}

// CatchUp computes every tenant-local day of org from the one after the
// last completed day through yesterday, one transaction per day that also
// advances the progress, so a missed night is made up and a crash loses
// at most the day in progress. A tenant without progress starts at its
// first activity, at most MaxCatchUpDays back.
//
// Offline clients upload late, so each run also recomputes the
// RecomputeDays days before yesterday that it did not just compute: with
// one run a night, every day is summarized twice, the second time with
// what arrived during the following day.
func (j *Jobs) CatchUp(ctx context.Context, org string) (SummaryResult, error) {
	res := SummaryResult{OrganizationID: org, Days: []SummaryDay{}}
	computed := map[string]bool{}
	for {
		d, err := j.summarizeNextDue(ctx, org)
		if err != nil {
			return res, err
		}
		if d == nil {
			break
		}
		computed[d.Date] = true
		res.Days = append(res.Days, *d)
	}
	again, err := j.recompute(ctx, org, computed)
	res.Days = append(res.Days, again...)
	return res, err
}

// summarizeNextDue summarizes the first day of org that has ended in its
// zone and is not summarized yet, announces it (summary.ready) and records
// it as completed; it returns
// nil when no day is due.
func (j *Jobs) summarizeNextDue(ctx context.Context, org string) (*SummaryDay, error) {
	var day *SummaryDay
	err := j.inDailySummary(ctx, org, func(tx pgx.Tx, st Settings, now, yesterday time.Time) error {
		next, err := j.nextDay(ctx, tx, org, st.TimeZone, yesterday)
		if err != nil || next.After(yesterday) {
			return err
		}
		n, _, err := summarizeDay(ctx, tx, org, st.TimeZone, next, now)
		if err != nil {
			return err
		}
		day = &SummaryDay{Date: next.Format(time.DateOnly), Users: n}
		if err := emitSummaryReady(ctx, tx, org, next, n, now); err != nil {
			return err
		}
		return saveProgress(ctx, tx, org, next, now)
	})
	return day, err
}

// recompute summarizes again the RecomputeDays days of org before
// yesterday, except those in skip (just computed). It is the
// reconciliation of the corrections late uploads make within seconds:
// every stored summary it finds different is counted in the
// organization's reconciliation differences (the metric
// workpulse_summary_reconciliation_differences_total), which stays 0
// while the corrections keep up.
func (j *Jobs) recompute(ctx context.Context, org string, skip map[string]bool) ([]SummaryDay, error) {
	var days []SummaryDay
	err := j.inDailySummary(ctx, org, func(tx pgx.Tx, st Settings, now, yesterday time.Time) error {
		days = nil
		var differences int64
		for k := j.cfg.RecomputeDays; k >= 1; k-- {
			d := yesterday.AddDate(0, 0, -k)
			if skip[d.Format(time.DateOnly)] {
				continue
			}
			n, diff, err := summarizeDay(ctx, tx, org, st.TimeZone, d, now)
			if err != nil {
				return err
			}
			differences += diff
			days = append(days, SummaryDay{Date: d.Format(time.DateOnly), Users: n, Recomputed: true, Differences: diff})
		}
		if differences == 0 {
			return nil
		}
		j.log.Warn("reconciliation found summaries that differ from the activity", "organization_id", org, "differences", differences)
		return addReconciliationDifferences(ctx, tx, org, differences, now)
	})
	return days, err
}

// yesterdayIn is the day before the local date at now in zone tz.
func yesterdayIn(ctx context.Context, tx pgx.Tx, tz string, now time.Time) (time.Time, error) {
	today, _, _, err := localDay(ctx, tx, tz, now)
	return today.AddDate(0, 0, -1), err
}

// nextDay is the first day the catch-up has not completed.
func (j *Jobs) nextDay(ctx context.Context, tx pgx.Tx, org, tz string, yesterday time.Time) (time.Time, error) {
	last, ok, err := lastCompletedDay(ctx, tx, org)
	if err != nil || ok {
		return last.AddDate(0, 0, 1), err
	}
	earliest := yesterday.AddDate(0, 0, 1-j.cfg.MaxCatchUpDays)
	lo, _, err := dayBounds(ctx, tx, tz, earliest)
	if err != nil {
		return time.Time{}, err
	}
	first, err := firstActivityDay(ctx, tx, org, tz, lo)
	if err != nil {
		return time.Time{}, err
	}
	if first == nil {
		// Nothing tracked yet: nothing to make up.
		return yesterday.AddDate(0, 0, 1), nil
	}
	return *first, nil
}
