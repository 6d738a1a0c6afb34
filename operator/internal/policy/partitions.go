// Package policy holds the operator's decisions as pure functions of what
// it observed: which month partitions to create, keep and drop, and which
// storage move a tenant needs. The controller reads the world, asks
// policy, and carries out the answer.
package policy

import (
	"slices"
	"time"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/migrations/storage"
)

// Month is a UTC calendar month, as migrations/storage (the installation's
// one storage plan) counts them. Partitions are UTC months whatever a
// tenant's time zone: a tenant's local day lies in at most two of them, both
// kept.
type Month = storage.Month

// MonthOf is the UTC month holding t.
func MonthOf(t time.Time) Month { return storage.MonthOf(t) }

// Plan says which months a partition tree keeps.
type Plan struct {
	Parent    string
	Premake   int
	Retention int
	// Zone is the tenant's time zone (nil: UTC). Retention keeps whole
	// months in it, which begin up to 14 hours before the UTC month or 12
	// after it.
	Zone *time.Location
}

// KeepFrom is the first instant retention keeps at now: the start of the
// local month, in the plan's zone, retention-1 before the local month
// holding now (storage.KeepFrom, which the installation's retention pass
// deletes the organization's rows and summaries before), so that a day it
// keeps has all of its activity.
func (p Plan) KeepFrom(now time.Time) time.Time { return storage.KeepFrom(now, p.Zone, p.Retention) }

// Cutoff is the oldest month kept: the UTC month holding KeepFrom. East
// of UTC that is the month before the local one, which holds the first
// hours of its first day.
func (p Plan) Cutoff(now time.Time) Month { return MonthOf(p.KeepFrom(now)) }

// Wanted are the months that must exist: the previous month (so that late
// uploads from offline clients find it) when retention keeps it, the
// current one and premake months ahead.
func (p Plan) Wanted(now Month) []Month {
	first := now
	if p.Retention > 1 {
		first = now.Add(-1)
	}
	var out []Month
	for m := first; !m.After(now.Add(p.Premake).Time); m = m.Add(1) {
		out = append(out, m)
	}
	return out
}

// Diff returns the wanted months that are missing and the existing months
// older than retention at now, oldest first.
func (p Plan) Diff(existing map[Month]string, now time.Time) (missing, expired []Month) {
	for _, m := range p.Wanted(MonthOf(now)) {
		if _, ok := existing[m]; !ok {
			missing = append(missing, m)
		}
	}
	return missing, Expired(existing, p.Cutoff(now))
}

// Status describes the months of table that exist.
func Status(table string, existing map[Month]string, now Month) *v1alpha1.PartitionStatus {
	st := &v1alpha1.PartitionStatus{Table: table, Months: int32(len(existing))}
	var oldest, newest Month
	for m := range existing {
		if oldest.IsZero() || m.Before(oldest.Time) {
			oldest = m
		}
		if newest.IsZero() || m.After(newest.Time) {
			newest = m
		}
	}
	if len(existing) > 0 {
		st.OldestMonth, st.NewestMonth = oldest.String(), newest.String()
	}
	// Months ahead count only without a gap after the current month: a
	// missing month in between would refuse inserts just the same.
	for m := now.Add(1); ; m = m.Add(1) {
		if _, ok := existing[m]; !ok {
			break
		}
		st.MonthsAhead++
	}
	return st
}

// SharedKeepFrom is the first instant the shared tree keeps at now: the
// earliest instant any of its organizations keeps under the installation's
// retention and the widest accepted window (storage.RetentionKeepFrom),
// zone by zone. East of UTC a local month begins on the last day of the UTC
// month before, so the tree keeps that UTC month too: an organization whose
// retention equals the installation's keeps the first hours of its oldest
// day along with that day's summary. UTC always counts, the zone of
// organizations that set none and of the months maintenance makes for the
// window, so that retention never drops a month the next pass makes again.
func SharedKeepFrom(now time.Time, retention int, window time.Duration, zones []*time.Location) time.Time {
	keep := storage.RetentionKeepFrom(now, time.UTC, retention, window)
	for _, z := range zones {
		if k := storage.RetentionKeepFrom(now, z, retention, window); k.Before(keep) {
			keep = k
		}
	}
	return keep
}

// Expired are the months of existing before cutoff, oldest first.
func Expired(existing map[Month]string, cutoff Month) []Month {
	var out []Month
	for m := range existing {
		if m.Before(cutoff.Time) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b Month) int { return a.Compare(b.Time) })
	return out
}
