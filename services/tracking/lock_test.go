package tracking

import (
	"errors"
	"testing"
	"time"
)

func TestALockRefusesEveryInstantBeforeItsEndAndNoneFromIt(t *testing.T) {
	through, zone := "2027-03-28", "Europe/Berlin"
	end := time.Date(2027, 3, 28, 22, 0, 0, 0, time.UTC)
	locked := TimesheetLock{LockedThrough: &through, LockedUntil: &end, TimeZone: &zone}
	cases := []struct {
		name   string
		lock   TimesheetLock
		at     time.Time
		refuse bool
	}{
		{"No lock refuses nothing.", TimesheetLock{}, end.AddDate(-1, 0, 0), false},
		{"A microsecond before the end is locked.", locked, end.Add(-time.Microsecond), true},
		{"A day before the end is locked.", locked, end.Add(-24 * time.Hour), true},
		{"The end itself is the next day's first instant.", locked, end, false},
		{"The end in another zone's notation is the same instant.", locked, end.In(time.FixedZone("CEST", 2*3600)), false},
		{"After the end nothing is locked.", locked, end.Add(time.Hour), false},
	}
	for _, tc := range cases {
		err := tc.lock.Refuse(tc.at)
		if (err != nil) != tc.refuse || tc.lock.Locks(tc.at) != tc.refuse {
			t.Errorf("%s: refused %v, want %v", tc.name, err, tc.refuse)
			continue
		}
		if err != nil && (!errors.Is(err, ErrDayLocked) || err.Error() !=
			"the organization's timesheets are locked up to and including 2027-03-28 (Europe/Berlin): time in those days can no longer change") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
