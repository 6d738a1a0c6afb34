package ingest

import (
	"time"

	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/export"
	"github.com/workpulse/workpulse/services/tracking"
)

// Config is ingest's own configuration.
type Config struct {
	// MaxBulk caps the activities of one bulk upload.
	MaxBulk int
	// FutureLeeway is how far ahead of the server's clock an activity's
	// timestamp may be (agents' clocks drift).
	FutureLeeway time.Duration
	// Window is how far back an activity's timestamp may lie, unless the
	// organization set its own (see tracking.Windows).
	Window time.Duration
	// Writers is how many combined single-activity writes may run at once,
	// and WriteBatch how many posts one of them takes (see combiner). One
	// writer by default: the posts that arrive during a write make the
	// next one, and a second writer halved the batches and, for posts to
	// one session, waited on the first one's lock (docs/benchmarks.md).
	Writers, WriteBatch int
	// Export bounds ingest's part of a member's export (the platform's
	// EXPORT_MAX_ROWS and EXPORT_TIMEOUT).
	Export export.Limits
}

// LoadConfig reads ingest's settings.
func LoadConfig(e *config.Env, common config.Common) Config {
	return Config{
		MaxBulk:      e.Int("MAX_BULK_ACTIVITIES", 1000, 1, 100000),
		FutureLeeway: 5 * time.Minute,
		Window:       tracking.LoadWindow(e),
		Writers:      e.Int("ACTIVITY_WRITERS", 1, 1, 256),
		WriteBatch:   e.Int("ACTIVITY_WRITE_BATCH", 256, 1, 10000),
		Export:       export.LimitsOf(common),
	}
}
