package testkit

import (
	"sync"
	"time"

	// The calendar instants need their zones on a machine without tzdata.
	_ "time/tzdata"
)

// Clock is a clock that moves only when told to: the clock of tests that
// stand on one instant. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the instant the clock stands at.
func (f *Clock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set moves the clock to t.
func (f *Clock) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}

// Advance moves the clock forward by d.
func (f *Clock) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// Instant is a moment a date-sensitive test stands on, with the tenant time
// zone it is interesting in.
type Instant struct {
	Name string
	At   time.Time
	Zone *time.Location
}

// CalendarInstants are the moments where date arithmetic breaks if it is
// going to: the first and the last day of a month, New Year's Eve into New
// Year's Day, a leap day, and both DST changes in a tenant's zone. Every
// date-sensitive test runs at each of them instead of at the day the suite
// happens to run.
func CalendarInstants() []Instant {
	ny := mustZone("America/New_York")
	berlin := mustZone("Europe/Berlin")
	return []Instant{
		{"the first day of a month", time.Date(2027, 6, 1, 0, 30, 0, 0, time.UTC), time.UTC},
		{"the last day of a month", time.Date(2027, 4, 30, 23, 30, 0, 0, time.UTC), time.UTC},
		{"31 December into 1 January", time.Date(2026, 12, 31, 23, 59, 30, 0, time.UTC), time.UTC},
		{"New Year's Eve in New York, already 1 January in UTC", time.Date(2027, 1, 1, 3, 0, 0, 0, time.UTC), ny},
		{"29 February of a leap year", time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC), time.UTC},
		{"the spring DST change in New York", time.Date(2027, 3, 14, 7, 30, 0, 0, time.UTC), ny},
		{"the autumn DST change in Berlin", time.Date(2027, 10, 31, 1, 30, 0, 0, time.UTC), berlin},
	}
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("time zone " + name + ": " + err.Error())
	}
	return loc
}
