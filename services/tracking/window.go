package tracking

import (
	"context"
	"strconv"
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
// the installation's. Readings are kept for a minute on the clock (see
// orgReadings), so a changed setting applies within one and the hot path
// reads no row.
type Windows struct {
	readings *orgReadings[time.Duration]
}

// NewWindows reads windows from db (as a service role), def being the
// installation's.
func NewWindows(db *pgxpool.Pool, clk clock.Clock, def time.Duration) *Windows {
	return &Windows{readings: newOrgReadings(clk, func(ctx context.Context, orgID string) (time.Duration, error) {
		days, err := windowDays(ctx, db, orgID)
		if err != nil || days == nil {
			return def, err
		}
		return storage.Window(*days), nil
	})}
}

// Of is orgID's accepted window.
func (w *Windows) Of(ctx context.Context, orgID string) (time.Duration, error) {
	return w.readings.of(ctx, orgID)
}

// WindowDays says a window in days, for messages.
func WindowDays(window time.Duration) string {
	days := int(window / (24 * time.Hour))
	if days == 1 {
		return "1 day"
	}
	return strconv.Itoa(days) + " days"
}
