// Package feed reads seq-ordered feeds: tables whose rows each carry a
// sequence number, rewritten with a new one on every change, that
// services keep in memory and poll for rows past the last one read (the
// revocation list, the team scopes, the URL redaction rules).
package feed

import (
	"context"
	"log/slog"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// page is how many rows a poll reads at a time.
const page = 1000

// ReadAfter reads every row of a feed past seq, a page at a time, handing
// each page to apply; changed tells whether any row came, also when a
// later page failed.
func ReadAfter[T any](ctx context.Context, seq int64, read func(context.Context, int64, int) ([]T, error),
	apply func([]T), seqOf func(T) int64) (changed bool, err error) {
	for {
		rows, err := read(ctx, seq, page)
		if err != nil {
			return changed, err
		}
		apply(rows)
		if len(rows) > 0 {
			seq, changed = seqOf(rows[len(rows)-1]), true
		}
		if len(rows) < page {
			return changed, nil
		}
	}
}

// PollEvery polls a feed every interval until ctx is done, logging a
// failed poll with failure: the next one retries.
func PollEvery(ctx context.Context, interval time.Duration, poll func(context.Context) error, failure string) {
	clock.Every(ctx, interval, func(ctx context.Context) {
		if err := poll(ctx); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, failure, "err", err)
		}
	})
}
