package report

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/test/testkit"
)

// calendarDay is one tenant-local day: its date as the jobs take it and
// its bounds, computed by Go's zone database, apart from PostgreSQL's that
// the jobs use.
type calendarDay struct {
	date   time.Time
	lo, hi time.Time
}

// localDayOf is the tenant-local day offset days after the one t falls on
// in zone.
func localDayOf(t time.Time, zone *time.Location, offset int) calendarDay {
	l := t.In(zone)
	lo := time.Date(l.Year(), l.Month(), l.Day()+offset, 0, 0, 0, 0, zone)
	hi := time.Date(l.Year(), l.Month(), l.Day()+offset+1, 0, 0, 0, 0, zone)
	return calendarDay{date: time.Date(lo.Year(), lo.Month(), lo.Day(), 0, 0, 0, 0, time.UTC), lo: lo, hi: hi}
}

func (d calendarDay) String() string { return d.date.Format(time.DateOnly) }

// hours is the length of the day: 23 or 25 on the day of a DST change.
func (d calendarDay) hours() int { return int(d.hi.Sub(d.lo) / time.Hour) }

func TestTheJobsAtEveryCalendarInstant(t *testing.T) {
	t.Parallel()
	for _, in := range testkit.CalendarInstants() {
		t.Run(in.Name, func(t *testing.T) {
			e := newEnv(t)
			e.clock.Set(in.At)
			org := uuid.NewString()
			e.tenant(org, in.Zone.String(), 0, 0, 0)
			day := func(offset int) calendarDay { return localDayOf(in.At, in.Zone, offset) }
			cur, prev, quiet := day(0), day(-1), day(-2)
			if strings.Contains(in.Name, "DST") && cur.hours() == 24 {
				t.Fatalf("the tenant's day %s at a DST change has 24 hours", cur)
			}

			// A minute of work at the top of every hour of three local days,
			// and the last second of each idle: the sums show each day's bounds
			// and length. The day between the first two has no work at all.
			worker := uuid.NewString()
			tracked := []calendarDay{day(-3), prev, cur}
			for _, d := range tracked {
				e.partitions(d.lo, d.hi)
				sess := e.session(org, worker, d.lo, ptr(d.hi), nil)
				acts := append(heartbeats(d.lo, d.hours(), time.Hour, "active", 60, ""), act{at: d.hi.Add(-time.Second), typ: "idle", dur: 1})
				e.activities(org, worker, sess, acts...)
			}
			// Ten hours each, tracked from the first second of today and up to
			// the last second of yesterday.
			over, late := uuid.NewString(), uuid.NewString()
			overSess := e.session(org, over, cur.lo, ptr(cur.lo.Add(time.Minute)), nil)
			lateSess := e.session(org, late, prev.hi.Add(-time.Minute), ptr(prev.hi), nil)
			for k := range 10 {
				e.activities(org, over, overSess, act{at: cur.lo.Add(time.Duration(k) * time.Second), typ: "active", dur: 3600})
				e.activities(org, late, lateSess, act{at: cur.lo.Add(-time.Duration(k+1) * time.Second), typ: "active", dur: 3600})
			}
			// One session silent for 11 minutes, one at work a minute ago.
			idleUser, busyUser := uuid.NewString(), uuid.NewString()
			silentSince, recent := in.At.Add(-11*time.Minute), in.At.Add(-time.Minute)
			idleSess := e.session(org, idleUser, in.At.Add(-2*time.Hour), nil, &silentSince)
			busySess := e.session(org, busyUser, in.At.Add(-2*time.Hour), nil, &recent)
			e.activities(org, busyUser, busySess, act{at: recent, typ: "active", dur: 60})

			t.Run("Today is the tenant-local date at the instant.", func(t *testing.T) {
				var got time.Time
				err := pg.InOrg(e.ctx, e.pool, org, func(tx pgx.Tx) error {
					var err error
					got, err = today(e.ctx, tx, org, e.clock.Now())
					return err
				})
				if err != nil || got.Format(time.DateOnly) != cur.String() {
					t.Errorf("today %s (%v), want %s", got.Format(time.DateOnly), err, cur)
				}
			})

			t.Run("The first catch-up summarizes from the first work through yesterday, the quiet day included.", func(t *testing.T) {
				res, err := e.jobs.CatchUp(e.ctx, org)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := dates(res), day(-3).String()+","+quiet.String()+","+prev.String(); got != want {
					t.Fatalf("summarized %s, want %s", got, want)
				}
				if res.Days[1].Users != 0 {
					t.Errorf("the quiet day has %d users", res.Days[1].Users)
				}
			})

			t.Run("The summary of the current day and those before count each day's work within its local bounds.", func(t *testing.T) {
				if _, err := e.jobs.SummarizeDate(e.ctx, org, cur.date); err != nil {
					t.Fatal(err)
				}
				for _, d := range tracked {
					s, ok := e.summary(org, worker, d.String())
					if want := int64(60 * d.hours()); !ok || s.Active != want || s.Idle != 1 || s.Total != want+1 {
						t.Errorf("%s (%d hours): got %+v (found %v), want %d active seconds and 1 idle", d, d.hours(), s, ok, want)
					}
				}
				if _, ok := e.summary(org, worker, quiet.String()); ok {
					t.Errorf("the quiet day %s has a summary", quiet)
				}
				if s, _ := e.summary(org, over, cur.String()); s.Total != 36000 {
					t.Errorf("work from today's first second: %+v on %s, want 10 hours", s, cur)
				}
				if s, _ := e.summary(org, late, prev.String()); s.Total != 36000 {
					t.Errorf("work up to yesterday's last second: %+v on %s, want 10 hours", s, prev)
				}
			})

			t.Run("Idle detection alerts the silent session alone, at the instant.", func(t *testing.T) {
				res, err := e.jobs.DetectIdle(e.ctx, org)
				if err != nil || res.Raised != 1 {
					t.Fatalf("raised %d (%v), want 1", res.Raised, err)
				}
				var created time.Time
				if err := e.db.Owner.QueryRow(e.ctx, "SELECT created_at FROM reporting.alerts WHERE session_id = $1 AND alert_type = 'idle'", idleSess).
					Scan(&created); err != nil || !created.Equal(in.At) {
					t.Errorf("idle alert created at %s (%v), want %s", created, err, in.At)
				}
			})

			t.Run("The overtime check alerts today's ten hours, not yesterday's.", func(t *testing.T) {
				res, err := e.jobs.CheckOvertime(e.ctx, org)
				if err != nil || res.Raised != 1 {
					t.Fatalf("raised %d (%v), want 1", res.Raised, err)
				}
				var user, local string
				if err := e.db.Owner.QueryRow(e.ctx, "SELECT user_id::text, to_char(local_date, 'YYYY-MM-DD') FROM reporting.alerts WHERE alert_type = 'overtime'").
					Scan(&user, &local); err != nil || user != over || local != cur.String() {
					t.Errorf("overtime alert for %s on %s (%v), want %s on %s", user, local, err, over, cur)
				}
			})

			t.Run("Two nights later the catch-up makes up both missed days.", func(t *testing.T) {
				e.clock.Advance(48 * time.Hour)
				if got := localDayOf(e.clock.Now(), in.Zone, -1); got.String() != day(1).String() {
					t.Fatalf("yesterday two days later is %s, want %s", got, day(1))
				}
				res, err := e.jobs.CatchUp(e.ctx, org)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := dates(res), cur.String()+","+day(1).String(); got != want {
					t.Errorf("summarized %s, want %s", got, want)
				}
				if s, _ := e.summary(org, worker, cur.String()); s.Active != int64(60*cur.hours()) {
					t.Errorf("the day summarized again holds %+v, want %d active seconds", s, 60*cur.hours())
				}
			})
		})
	}
}
