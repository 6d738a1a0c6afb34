package tracking

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// Timesheet locks: an admin locks every day of the organization up to and
// including a date, so that the payroll numbers of those days cannot
// change. A lock ends at an instant (the local midnight after its last
// day, in the organization's zone when it was locked), so that whether a
// time is locked is one comparison: the activity hot path pays no more.
//
// Whatever changes time checks the lock in its own transaction
// (CheckUnlocked), which holds the lock's key shared until commit, and a
// lock is set holding it exclusively: setting a lock waits for the changes
// in flight, and every change after it sees it. Single activity posts read
// it through Locks instead (see there).

// ErrDayLocked matches every LockedError.
var ErrDayLocked = errors.New("the day is locked")

// LockedError refuses a change of time in a locked day and says which days
// are locked; it matches ErrDayLocked.
type LockedError struct{ Through, Zone string }

func (e *LockedError) Error() string {
	return "the organization's timesheets are locked up to and including " + e.Through + " (" + e.Zone + "): time in those days can no longer change"
}

func (e *LockedError) Is(target error) bool { return target == ErrDayLocked }

// TimesheetLock is the contract's timesheet lock object; every field is
// null while nothing is locked.
type TimesheetLock struct {
	// LockedThrough is the last locked local day (YYYY-MM-DD).
	LockedThrough *string `json:"locked_through"`
	// LockedUntil is the first instant that is not locked.
	LockedUntil *time.Time `json:"locked_until"`
	// TimeZone is the zone LockedThrough is a day of.
	TimeZone *string    `json:"time_zone"`
	LockedBy *string    `json:"locked_by"`
	LockedAt *time.Time `json:"locked_at"`
}

// Locks reports whether t falls in a locked day.
func (l TimesheetLock) Locks(t time.Time) bool {
	return l.LockedUntil != nil && t.Before(*l.LockedUntil)
}

// Refuse is the LockedError of a change of time from t on when t falls in
// a locked day, and nil otherwise.
func (l TimesheetLock) Refuse(t time.Time) error {
	if !l.Locks(t) {
		return nil
	}
	return &LockedError{Through: *l.LockedThrough, Zone: *l.TimeZone}
}

// Locks keeps each organization's lock for the single activity posts,
// read at most once a minute (see orgReadings): the replica that changes a
// lock forgets its reading at once, the others apply it within a minute.
// Bulk uploads, which carry the offline activity that can reach back into
// locked days, check the lock in their transaction as well.
type Locks struct {
	readings *orgReadings[TimesheetLock]
}

// NewLocks reads locks from db (as a service role).
func NewLocks(db *pgxpool.Pool, clk clock.Clock) *Locks {
	return &Locks{readings: newOrgReadings(clk, func(ctx context.Context, orgID string) (TimesheetLock, error) {
		return readLockOf(ctx, db, orgID)
	})}
}

// Of is orgID's lock.
func (l *Locks) Of(ctx context.Context, orgID string) (TimesheetLock, error) {
	return l.readings.of(ctx, orgID)
}

// Forget drops orgID's reading after this replica changed its lock.
func (l *Locks) Forget(orgID string) { l.readings.forget(orgID) }
