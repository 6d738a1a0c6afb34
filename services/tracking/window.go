package tracking

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
)

// LoadWindow reads ACTIVITY_WINDOW_DAYS, the installation's accepted
// window; storage maintenance reads the same setting, so every month of
// the window exists.
func LoadWindow(e *config.Env) time.Duration {
	return storage.Window(e.Int("ACTIVITY_WINDOW_DAYS", storage.DefaultWindowDays, 1, storage.MaxWindowDays))
}

// Windows tells each organization's accepted window: how far back an
// activity's timestamp or a session's start_time may lie. An organization
// may set its own (tracking.tenants.activity_window_days); the others have
// the installation's. Readings are kept for a minute on the clock, so a
// changed setting applies within one and the hot path reads no row.
type Windows struct {
	db    *pgxpool.Pool
	clock clock.Clock
	def   time.Duration

	mu   sync.Mutex
	seen map[string]windowReading
}

type windowReading struct {
	window time.Duration
	at     time.Time
}

// windowTTL is how long a reading is kept; maxWindowReadings bounds the
// organizations kept at once.
const (
	windowTTL         = time.Minute
	maxWindowReadings = 100_000
)

// NewWindows reads windows from db (as a service role), def being the
// installation's.
func NewWindows(db *pgxpool.Pool, clk clock.Clock, def time.Duration) *Windows {
	return &Windows{db: db, clock: clk, def: def, seen: map[string]windowReading{}}
}

// Of is orgID's accepted window.
func (w *Windows) Of(ctx context.Context, orgID string) (time.Duration, error) {
	now := w.clock.Now()
	w.mu.Lock()
	r, ok := w.seen[orgID]
	w.mu.Unlock()
	if ok && now.Sub(r.at) < windowTTL && !now.Before(r.at) {
		return r.window, nil
	}
	days, err := windowDays(ctx, w.db, orgID)
	if err != nil {
		return 0, err
	}
	window := w.def
	if days != nil {
		window = storage.Window(*days)
	}
	w.mu.Lock()
	if len(w.seen) >= maxWindowReadings {
		clear(w.seen)
	}
	w.seen[orgID] = windowReading{window: window, at: now}
	w.mu.Unlock()
	return window, nil
}

// WindowDays says a window in days, for messages.
func WindowDays(window time.Duration) string {
	days := int(window / (24 * time.Hour))
	if days == 1 {
		return "1 day"
	}
	return strconv.Itoa(days) + " days"
}
