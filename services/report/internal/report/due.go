package report

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DueDay is one day a daily-summary --due run summarized, in the order
// the run did it.
type DueDay struct {
	OrganizationID string `json:"organization_id"`
	SummaryDay
}

// DueResult reports a daily-summary --due run over every organization.
type DueResult struct {
	Organizations int      `json:"organizations"`
	Days          []DueDay `json:"days"`
	// Deferred lists the organizations that still had days due when the
	// run's budget ran out; the next run continues with them.
	Deferred []string `json:"deferred,omitempty"`
}

// DueOrganizations lists every organization for SummarizeDue: those most
// behind first, so that what one run's budget left over comes first in
// the next.
func (j *Jobs) DueOrganizations(ctx context.Context) ([]string, error) {
	return TenantIDsMostBehindFirst(ctx, j.db)
}

// SummarizeDue summarizes, for each of orgs, every local day that has
// ended in the organization's zone and is not summarized yet, and then
// recomputes the RecomputeDays before yesterday for late uploads.
//
// The organizations take turns of at most DueBatchDays days each, round
// robin on Config.JobWorkers workers, so an organization with a month to
// make up delays the others by one batch, not by its month, and one
// whose batch is slow (a huge organization's day) holds one worker while
// the others go on. No turn starts after DueBudget has passed on the
// clock: the run ends before the next scheduled one would start, and what
// is left stays due for it. One organization failing is logged and
// skipped; every failure is returned.
func (j *Jobs) SummarizeDue(ctx context.Context, orgs []string) (DueResult, error) {
	res := DueResult{Organizations: len(orgs), Days: []DueDay{}}
	deadline := j.clock.Now().Add(j.cfg.DueBudget)
	type turn struct {
		org      string
		computed map[string]bool
	}
	turns := make([]*turn, len(orgs))
	for i, org := range orgs {
		turns[i] = &turn{org: org, computed: map[string]bool{}}
	}
	var mu sync.Mutex
	var errs []error
	onWorkers(j.cfg.JobWorkers, turns, func(t *turn) bool {
		if ctx.Err() != nil {
			return false
		}
		if !j.clock.Now().Before(deadline) {
			mu.Lock()
			res.Deferred = append(res.Deferred, t.org)
			mu.Unlock()
			return false
		}
		days, more, err := j.dueBatch(ctx, t.org, t.computed)
		mu.Lock()
		defer mu.Unlock()
		res.Days = append(res.Days, days...)
		if err != nil {
			j.log.Error("daily summary failed for tenant", "organization_id", t.org, "err", err)
			errs = append(errs, fmt.Errorf("organization %s: %w", t.org, err))
			return false
		}
		return more
	})
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// dueBatch summarizes at most DueBatchDays due days of org and returns
// them; more tells whether days may remain. Once none remain, an
// organization that had days due has its days before yesterday
// recomputed; one with nothing due costs a couple of queries, which
// keeps a frequent schedule cheap.
func (j *Jobs) dueBatch(ctx context.Context, org string, computed map[string]bool) (days []DueDay, more bool, err error) {
	for range j.cfg.DueBatchDays {
		d, err := j.summarizeNextDue(ctx, org)
		if err != nil {
			return days, false, err
		}
		if d == nil {
			again, err := j.recomputeDue(ctx, org, computed)
			return append(days, again...), false, err
		}
		computed[d.Date] = true
		days = append(days, DueDay{OrganizationID: org, SummaryDay: *d})
	}
	return days, true, nil
}

// recomputeDue recomputes the days before yesterday of an organization
// whose due days the run has just summarized.
func (j *Jobs) recomputeDue(ctx context.Context, org string, computed map[string]bool) ([]DueDay, error) {
	if len(computed) == 0 {
		return nil, nil
	}
	again, err := j.recompute(ctx, org, computed)
	days := make([]DueDay, len(again))
	for i, d := range again {
		days[i] = DueDay{OrganizationID: org, SummaryDay: d}
	}
	return days, err
}

// dueBudgetDefault keeps a run inside the 15 minutes between scheduled runs.
const dueBudgetDefault = 10 * time.Minute
