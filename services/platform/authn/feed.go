package authn

import (
	"context"
	"log/slog"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// feedPage is how many rows a poll of a seq-ordered feed (the revocation
// list, the team scopes) reads at a time.
const feedPage = 1000

// readAfter reads every row of a feed past seq, a page at a time, handing
// each page to apply; changed tells whether any row came, also when a
// later page failed.
func readAfter[T any](ctx context.Context, seq int64, read func(context.Context, int64, int) ([]T, error),
	apply func([]T), seqOf func(T) int64) (changed bool, err error) {
	for {
		rows, err := read(ctx, seq, feedPage)
		if err != nil {
			return changed, err
		}
		apply(rows)
		if len(rows) > 0 {
			seq, changed = seqOf(rows[len(rows)-1]), true
		}
		if len(rows) < feedPage {
			return changed, nil
		}
	}
}

// pollEvery polls a feed every interval until ctx is done, logging a
// failed poll with failure: the next one retries.
func pollEvery(ctx context.Context, interval time.Duration, poll func(context.Context) error, failure string) {
	clock.Every(ctx, interval, func(ctx context.Context) {
		if err := poll(ctx); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, failure, "err", err)
		}
	})
}
