// Package original imports the data of the system WorkPulse replaces (a
// NestJS service on one PostgreSQL database) into WorkPulse's schemas:
// organizations, users, projects, work sessions, activity, daily summaries
// and alerts, keeping their ids.
//
// Every row is inserted only if missing, batch by batch in its own
// transaction, so a second run imports nothing twice and a run killed
// half-way is finished by the next. Rows that break WorkPulse's rules are
// refused or adjusted, and the report says which and why. Imported
// organizations become first-class the way registration makes them: the
// same organization.created and user.created events go out through auth's
// outbox, and the months their activity needs are made in the tree their
// rows live in (storage.EnsureMonths).
package original

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/outbox"
)

// authOutbox is where auth's relay picks events up; the importer speaks
// for auth, which owns organizations and members.
const (
	authOutbox = "auth.outbox"
	source     = "auth"
)

// DefaultBatchSize rows go into one transaction.
const DefaultBatchSize = 2000

// Importer copies one original database into WorkPulse's.
type Importer struct {
	// Source reads the original's database.
	Source *pgx.Conn
	// Target connects as the owner of WorkPulse's schemas (migrate's
	// DATABASE_URL): the import writes every tenant's rows and makes
	// activity months.
	Target    *pgxpool.Pool
	Clock     clock.Clock
	BatchSize int
	Progress  *Progress

	report *Report
	// What is in WorkPulse (imported now or before), for the rows that
	// refer to it.
	orgs     map[string]bool
	users    map[string]string // user id to organization id
	projects map[string]string // project id to organization id
	sessions map[string]*session
	byUser   map[string][]*session // each user's sessions by start
}

type session struct {
	id, org, user string
	start         time.Time
	end           *time.Time
	// openEnd marks a session whose end was made up (the original stopped
	// it without one): its activity decides its end instead.
	openEnd bool
}

// Run imports everything and reports what it did.
func (im *Importer) Run(ctx context.Context) (*Report, error) {
	im.report = newReport()
	im.orgs, im.users, im.projects = map[string]bool{}, map[string]string{}, map[string]string{}
	im.sessions, im.byUser = map[string]*session{}, map[string][]*session{}
	if im.BatchSize <= 0 {
		im.BatchSize = DefaultBatchSize
	}
	if im.Progress == nil {
		im.Progress = &Progress{w: discard{}}
	}
	counts, err := sourceCounts(ctx, im.Source)
	if err != nil {
		return nil, fmt.Errorf("reading the original's tables: %w", err)
	}
	steps := []func(context.Context, *Count) error{
		func(ctx context.Context, c *Count) error {
			return readThen(ctx, im.Source, sourceOrganizationsSQL, scanOrgRow, c, im.organizations)
		},
		func(ctx context.Context, c *Count) error {
			return readThen(ctx, im.Source, sourceUsersSQL, scanUserRow, c, im.members)
		},
		func(ctx context.Context, c *Count) error {
			return readThen(ctx, im.Source, sourceProjectsSQL, scanProjectRow, c, im.projectRows)
		},
		func(ctx context.Context, c *Count) error {
			return readThen(ctx, im.Source, sourceSessionsSQL, scanSessionRow, c, im.workSessions)
		},
		im.activity,
		func(ctx context.Context, c *Count) error {
			return readThen(ctx, im.Source, sourceSummariesSQL, scanSummaryRow, c, im.summaries)
		},
		func(ctx context.Context, c *Count) error {
			return readThen(ctx, im.Source, sourceAlertsSQL, scanAlertRow, c, im.alerts)
		},
	}
	for i, step := range steps {
		t := Tables[i]
		im.report.Counts[t].Read = counts[i]
		im.report.Counts[t].handled = im.Progress.add
		im.Progress.start(t, counts[i])
		if err := step(ctx, im.report.Counts[t]); err != nil {
			return im.report, fmt.Errorf("importing %s: %w", t, err)
		}
		im.Progress.finish()
	}
	return im.report, nil
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// store runs insert for one batch in a transaction and counts its rows:
// those it stored, those already there, and those neither (refused for
// conflicting with a row WorkPulse already has). present finds which of
// the ids not stored are there; after runs in the same transaction with
// the ids stored. It returns the ids in WorkPulse after the batch.
func (im *Importer) store(ctx context.Context, table string, batch []string, insert func(pgx.Tx) (map[string]bool, error),
	present func(pgx.Tx, []string) (map[string]bool, error), after func(pgx.Tx, map[string]bool) error) (map[string]bool, error) {
	c := im.report.Counts[table]
	var stored, there map[string]bool
	err := pgx.BeginFunc(ctx, im.Target, func(tx pgx.Tx) (err error) {
		if stored, err = insert(tx); err != nil {
			return err
		}
		var missing []string
		for _, id := range batch {
			if !stored[id] {
				missing = append(missing, id)
			}
		}
		if there, err = present(tx, missing); err != nil {
			return err
		}
		if after == nil {
			return nil
		}
		return after(tx, stored)
	})
	if err != nil {
		return nil, err
	}
	in := make(map[string]bool, len(batch))
	for _, id := range batch {
		switch {
		case stored[id]:
			c.Imported++
		case there[id]:
			c.Present++
		default:
			c.refuse("conflicts with a row WorkPulse already has")
			continue
		}
		in[id] = true
	}
	c.handled(len(in))
	return in, nil
}

// storeByID is store for a table keyed by id (ours), its rows inserted by
// insertSQL with args.
func (im *Importer) storeByID(ctx context.Context, table, ours string, batch []string, insertSQL string, args []any,
	after func(pgx.Tx, map[string]bool) error) (map[string]bool, error) {
	return im.store(ctx, table, batch, func(tx pgx.Tx) (map[string]bool, error) { return ids(ctx, tx, insertSQL, args...) },
		presentByID(ctx, ours), after)
}

// presentByID is store's present for tables keyed by id.
func presentByID(ctx context.Context, table string) func(pgx.Tx, []string) (map[string]bool, error) {
	return func(tx pgx.Tx, missing []string) (map[string]bool, error) {
		if len(missing) == 0 {
			return nil, nil
		}
		return ids(ctx, tx, presentSQL(table), missing)
	}
}

// chunks calls fn with consecutive pieces of rows of at most n.
func chunks[T any](rows []T, n int, fn func([]T) error) error {
	for len(rows) > 0 {
		k := min(n, len(rows))
		if err := fn(rows[:k]); err != nil {
			return err
		}
		rows = rows[k:]
	}
	return nil
}

// readThen scans every row of sql from the original and hands them to
// do.
func readThen[T any](ctx context.Context, src *pgx.Conn, sql string, scan func(pgx.Row, *T) error, c *Count,
	do func(context.Context, []T, *Count) error) error {
	rows, err := src.Query(ctx, sql)
	if err != nil {
		return err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) {
		var v T
		return v, scan(r, &v)
	})
	if err != nil {
		return err
	}
	return do(ctx, list, c)
}

// fit shortens s to at most n characters, reporting whether it had to.
func fit(s string, n int) (string, bool) {
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	return string([]rune(s)[:n]), true
}

// fitName trims name and shortens it to n characters, counting the
// change; named is false, and the row refused, when nothing is left.
func (c *Count) fitName(name string, n int) (string, bool) {
	name, cut := fit(strings.TrimSpace(name), n)
	if name == "" {
		c.refuse("name is empty")
		return "", false
	}
	if cut {
		c.adjust(fmt.Sprintf("name shortened to %d characters", n))
	}
	return name, true
}

type orgRow struct {
	id, name, plan string
	created        time.Time
}

func (im *Importer) organizations(ctx context.Context, rows []orgRow, c *Count) error {
	var ok []orgRow
	for _, o := range rows {
		var named bool
		if o.name, named = c.fitName(o.name, 200); !named {
			continue
		}
		if !slices.Contains([]string{"free", "pro", "enterprise"}, o.plan) {
			c.adjust("unknown plan_type stored as free")
			o.plan = "free"
		}
		ok = append(ok, o)
	}
	return chunks(ok, im.BatchSize, func(b []orgRow) error {
		var id, name, plan []string
		var created []time.Time
		byID := map[string]orgRow{}
		for _, o := range b {
			id, name, plan, created = append(id, o.id), append(name, o.name), append(plan, o.plan), append(created, o.created)
			byID[o.id] = o
		}
		in, err := im.storeByID(ctx, "organizations", "auth.organizations", id, insertOrganizationsSQL, []any{id, name, plan, created},
			func(tx pgx.Tx, stored map[string]bool) error {
				var evs []events.Envelope
				for oid := range stored {
					o := byID[oid]
					ev, err := events.New(im.Clock.Now(), source, events.TypeOrganizationCreated, o.id, o.id,
						events.OrganizationCreated{OrganizationID: o.id, Name: o.name, PlanType: o.plan})
					if err != nil {
						return err
					}
					evs = append(evs, ev)
				}
				return outbox.Enqueue(ctx, tx, authOutbox, evs...)
			})
		for oid := range in {
			im.orgs[oid] = true
		}
		return err
	})
}

type userRow struct {
	id, org, email, hash, name, role, status string
	created, updated                         time.Time
}

func (im *Importer) members(ctx context.Context, rows []userRow, c *Count) error {
	seen := map[string]bool{} // organization id and lower-case email
	admins := map[string]int{}
	var ok []userRow
	for _, u := range rows {
		u.email, u.name = strings.TrimSpace(u.email), strings.TrimSpace(u.name)
		key := u.org + " " + strings.ToLower(u.email)
		switch n := utf8.RuneCountInString(u.email); {
		case !im.orgs[u.org]:
			c.refuse("its organization was not imported")
			continue
		case n < 3 || n > 254:
			c.refuse("email is not 3 to 254 characters")
			continue
		case utf8.RuneCountInString(u.name) < 2:
			c.refuse("name is shorter than 2 characters")
			continue
		case seen[key]:
			c.refuse("email repeats another member's of its organization in other letter case")
			continue
		}
		seen[key] = true
		var cut bool
		if u.name, cut = fit(u.name, 200); cut {
			c.adjust("name shortened to 200 characters")
		}
		if u.role != "admin" {
			u.role = "employee"
		} else {
			admins[u.org]++
		}
		if u.status != "active" {
			c.adjust("status " + u.status + " stored as deactivated")
		}
		ok = append(ok, u)
	}
	for _, org := range slices.Sorted(maps.Keys(admins)) {
		if admins[org] > 1 {
			// The original let anyone register into any organization as
			// an admin.
			im.report.Notes = append(im.report.Notes, fmt.Sprintf("organization %s has %d admins: review them", org, admins[org]))
		}
	}
	return chunks(ok, im.BatchSize, func(b []userRow) error {
		var id, org, email, name, hash, role []string
		var active []bool
		var created, updated []time.Time
		byID := map[string]userRow{}
		for _, u := range b {
			id, org, email, name, hash, role = append(id, u.id), append(org, u.org), append(email, u.email), append(name, u.name),
				append(hash, u.hash), append(role, u.role)
			active, created, updated = append(active, u.status == "active"), append(created, u.created), append(updated, u.updated)
			byID[u.id] = u
		}
		in, err := im.storeByID(ctx, "users", "auth.users", id, insertUsersSQL, []any{id, org, email, name, hash, role, active, created, updated},
			func(tx pgx.Tx, stored map[string]bool) error {
				var evs []events.Envelope
				for uid := range stored {
					u := byID[uid]
					ev, err := events.New(im.Clock.Now(), source, events.TypeUserCreated, u.org, u.id,
						events.UserCreated{UserID: u.id, OrganizationID: u.org, Email: u.email, Name: u.name, Role: u.role})
					if err != nil {
						return err
					}
					evs = append(evs, ev)
				}
				return outbox.Enqueue(ctx, tx, authOutbox, evs...)
			})
		for uid := range in {
			im.users[uid] = byID[uid].org
		}
		return err
	})
}

type projectRow struct {
	id, org, name, createdBy string
	description              *string
	created                  time.Time
}

func (im *Importer) projectRows(ctx context.Context, rows []projectRow, c *Count) error {
	seen := map[string]bool{}
	var ok []projectRow
	for _, p := range rows {
		if !im.orgs[p.org] {
			c.refuse("its organization was not imported")
			continue
		}
		var named bool
		// 189 leaves room for the suffix a repeated name gets.
		if p.name, named = c.fitName(p.name, 189); !named {
			continue
		}
		// Project names are unique per organization in any letter case;
		// the original's were not. The id's start keeps both apart.
		if seen[p.org+" "+strings.ToLower(p.name)] {
			p.name += " (" + p.id[:8] + ")"
			c.adjust("name repeated another project's of its organization: the id's first 8 characters appended")
		}
		seen[p.org+" "+strings.ToLower(p.name)] = true
		if p.description != nil {
			d, cut := fit(*p.description, 2000)
			if cut {
				c.adjust("description shortened to 2000 characters")
			}
			p.description = &d
		}
		ok = append(ok, p)
	}
	return chunks(ok, im.BatchSize, func(b []projectRow) error {
		var id, org, name, by []string
		var desc []*string
		var created []time.Time
		for _, p := range b {
			id, org, name, by = append(id, p.id), append(org, p.org), append(name, p.name), append(by, p.createdBy)
			desc, created = append(desc, p.description), append(created, p.created)
		}
		in, err := im.storeByID(ctx, "projects", "tracking.projects", id, insertProjectsSQL, []any{id, org, name, desc, by, created}, nil)
		for i, pid := range id {
			if in[pid] {
				im.projects[pid] = org[i]
			}
		}
		return err
	})
}

type sessionRow struct {
	id, org, user, status string
	project               *string
	start                 time.Time
	end, last             *time.Time
	version               int64
	created, updated      time.Time
	rank                  int
}

func (im *Importer) workSessions(ctx context.Context, rows []sessionRow, c *Count) error {
	var ok []sessionRow
	openEnd := map[string]bool{}
	for _, s := range rows {
		if reason := im.ofUser(s.user, s.org); reason != "" {
			c.refuse(reason)
			continue
		}
		switch {
		case s.end != nil && s.end.Before(s.start):
			c.refuse("end_time is before start_time")
			continue
		}
		if s.project != nil && im.projects[*s.project] != s.org {
			c.adjust("its project was not imported: stored without a project")
			s.project = nil
		}
		// WorkPulse keeps one active session per user, and an active
		// session has no end.
		switch {
		case s.status == "active" && s.end != nil:
			c.adjust("active with an end_time: stored as stopped")
			s.status = "stopped"
		case s.status == "active" && s.rank > 1:
			c.adjust("a newer session of its user is active: stored as stopped, ended by its activity")
			s.status, s.end = "stopped", &s.start
			openEnd[s.id] = true
		case s.status != "active" && s.end == nil:
			c.adjust("stopped without an end_time: ended by its activity")
			s.status, s.end = "stopped", &s.start
			openEnd[s.id] = true
		}
		ok = append(ok, s)
	}
	return chunks(ok, im.BatchSize, func(b []sessionRow) error {
		var id, org, user, status []string
		var project []*string
		var start, created, updated []time.Time
		var end []*time.Time
		var version []int64
		for _, s := range b {
			id, org, user, status, project = append(id, s.id), append(org, s.org), append(user, s.user), append(status, s.status), append(project, s.project)
			start, end, version = append(start, s.start), append(end, s.end), append(version, s.version)
			created, updated = append(created, s.created), append(updated, s.updated)
		}
		in, err := im.storeByID(ctx, "work_sessions", "tracking.work_sessions", id, insertSessionsSQL, []any{id, org, user, project, start, end, status, version, created, updated}, nil)
		for _, s := range b {
			if in[s.id] {
				ref := &session{id: s.id, org: s.org, user: s.user, start: s.start, end: s.end, openEnd: openEnd[s.id]}
				im.sessions[s.id] = ref
				im.byUser[s.user] = append(im.byUser[s.user], ref)
			}
		}
		return err
	})
}

type activityRow struct {
	id, sess, kind   string
	ts               time.Time
	dur              int
	url, cid         *string
	copy, clientCopy int
	org, user        string
}

func (im *Importer) activity(ctx context.Context, c *Count) error {
	if err := im.activityMonths(ctx); err != nil {
		return err
	}
	rows, err := im.Source.Query(ctx, sourceActivitySQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	var batch []activityRow
	for rows.Next() {
		var a activityRow
		if err := rows.Scan(&a.id, &a.sess, &a.ts, &a.kind, &a.dur, &a.url, &a.cid, &a.copy, &a.clientCopy); err != nil {
			return err
		}
		if reason := im.refuseActivity(&a); reason != "" {
			c.refuse(reason)
			continue
		}
		batch = append(batch, a)
		if len(batch) == im.BatchSize {
			if err := im.storeActivity(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := im.storeActivity(ctx, batch); err != nil {
		return err
	}
	return im.sessionTotals(ctx)
}

// refuseActivity says why a stays out of WorkPulse, or "".
func (im *Importer) refuseActivity(a *activityRow) string {
	s := im.sessions[a.sess]
	switch {
	case s == nil:
		return "its session was not imported"
	case a.copy > 1:
		return "repeats a row already read (same id and timestamp)"
	case a.dur < 1 || a.dur > 3600:
		return "duration_seconds is not between 1 and 3600"
	case a.ts.Before(s.start):
		return "timestamp is before its session's start_time"
	case s.end != nil && !s.openEnd && a.ts.After(*s.end):
		return "timestamp is after its session's end_time"
	case a.cid != nil && utf8.RuneCountInString(*a.cid) > 128:
		return "client_activity_id is longer than 128 characters"
	case a.cid != nil && a.clientCopy > 1:
		return "client_activity_id repeats an earlier activity of its user (WorkPulse keeps the first)"
	}
	if a.cid != nil && *a.cid == "" {
		a.cid = nil
	}
	a.org, a.user = s.org, s.user
	return ""
}

// activityMonths makes the months the imported activity falls in, old
// ones included, in each organization's tree.
func (im *Importer) activityMonths(ctx context.Context) error {
	rows, err := im.Source.Query(ctx, sourceActivityMonthsSQL)
	if err != nil {
		return err
	}
	months := map[string][]time.Time{}
	for rows.Next() {
		var org string
		var m time.Time
		if err := rows.Scan(&org, &m); err != nil {
			rows.Close()
			return err
		}
		if im.orgs[org] {
			months[org] = append(months[org], m)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, org := range slices.Sorted(maps.Keys(months)) {
		if err := storage.EnsureMonths(ctx, im.Target, org, months[org]); err != nil {
			return fmt.Errorf("activity months of organization %s: %w", org, err)
		}
	}
	return nil
}

func (im *Importer) storeActivity(ctx context.Context, b []activityRow) error {
	if len(b) == 0 {
		return nil
	}
	var id, org, sess, user, kind []string
	var cid, url []*string
	var ts []time.Time
	var dur []int
	for _, a := range b {
		id, org, sess, user, kind = append(id, a.id), append(org, a.org), append(sess, a.sess), append(user, a.user), append(kind, a.kind)
		cid, url, ts, dur = append(cid, a.cid), append(url, a.url), append(ts, a.ts), append(dur, a.dur)
	}
	now := im.Clock.Now()
	_, err := im.store(ctx, "activity_logs", id,
		func(tx pgx.Tx) (map[string]bool, error) {
			return ids(ctx, tx, insertActivitySQL, id, org, sess, user, cid, ts, kind, dur, url, now)
		},
		func(tx pgx.Tx, missing []string) (map[string]bool, error) {
			if len(missing) == 0 {
				return nil, nil
			}
			return ids(ctx, tx, presentActivitySQL, org, ts, id)
		}, nil)
	return err
}

// sessionTotals sums every imported session's stored activity into its
// totals; a session the original stopped without an end ends at its last
// activity.
func (im *Importer) sessionTotals(ctx context.Context) error {
	var all []string
	for id := range im.sessions {
		all = append(all, id)
	}
	slices.Sort(all)
	return chunks(all, im.BatchSize, func(b []string) error {
		_, err := im.Target.Exec(ctx, sessionTotalsSQL, b)
		return err
	})
}

type summaryRow struct {
	id, org, user       string
	day                 time.Time
	total, active, idle *int64
	score               *float64
	apps                *string
	sessions            int
}

func (im *Importer) summaries(ctx context.Context, rows []summaryRow, c *Count) error {
	// The original counted a day's sessions by their start; so does this.
	perDay := map[string]int{}
	for _, s := range im.sessions {
		perDay[s.user+" "+utcDate(s.start).Format(time.DateOnly)]++
	}
	var ok []summaryRow
	for _, s := range rows {
		if reason := im.ofUser(s.user, s.org); reason != "" {
			c.refuse(reason)
			continue
		}
		switch {
		case s.total == nil || s.active == nil || s.idle == nil || s.score == nil:
			c.refuse("a total or the productivity_score is missing")
			continue
		case *s.total < 0 || *s.active < 0 || *s.idle < 0:
			c.refuse("a total is negative")
			continue
		case *s.score < 0 || *s.score > 100:
			c.refuse("productivity_score is not between 0 and 100")
			continue
		}
		if s.apps == nil {
			empty := "[]"
			s.apps = &empty
		}
		s.sessions = perDay[s.user+" "+s.day.Format(time.DateOnly)]
		ok = append(ok, s)
	}
	now := im.Clock.Now()
	return chunks(ok, im.BatchSize, func(b []summaryRow) error {
		var id, org, user, apps []string
		var day []time.Time
		var total, active, idle []int64
		var score []float64
		var n []int
		for _, s := range b {
			id, org, user, apps, day = append(id, s.id), append(org, s.org), append(user, s.user), append(apps, *s.apps), append(day, s.day)
			total, active, idle, score, n = append(total, *s.total), append(active, *s.active), append(idle, *s.idle), append(score, *s.score), append(n, s.sessions)
		}
		_, err := im.storeByID(ctx, "daily_summaries", "reporting.daily_summaries", id, insertSummariesSQL, []any{id, org, user, day, total, active, idle, score, n, now, apps},
			func(tx pgx.Tx, stored map[string]bool) error {
				orgs := map[string]bool{}
				for i, sid := range id {
					if stored[sid] {
						orgs[org[i]] = true
					}
				}
				return bumpReportVersions(ctx, tx, orgs)
			})
		return err
	})
}

type alertRow struct {
	id, user, kind, message string
	created                 time.Time
	resolved                *time.Time
	org                     string
	session                 *string
	day                     *time.Time
}

func (im *Importer) alerts(ctx context.Context, rows []alertRow, c *Count) error {
	overtime := map[string]bool{}
	var ok []*alertRow
	idle := map[string][]*alertRow{} // by session, oldest first
	for i := range rows {
		a := &rows[i]
		org, known := im.users[a.user]
		if !known {
			c.refuse("its user was not imported")
			continue
		}
		a.org = org
		switch a.kind {
		case "idle":
			// WorkPulse's idle alert is about a session; the original's
			// names none, so it is the user's session last started
			// before the alert.
			s := im.sessionAt(a.user, a.created)
			if s == nil {
				c.refuse("idle alert without a session of its user started before it")
				continue
			}
			a.session = &s.id
			idle[s.id] = append(idle[s.id], a)
		case "overtime":
			day := utcDate(a.created)
			key := a.user + " " + day.Format(time.DateOnly)
			if overtime[key] {
				c.refuse("a second overtime alert of its user's day")
				continue
			}
			overtime[key] = true
			a.day = &day
		default:
			c.refuse("unknown type")
			continue
		}
		ok = append(ok, a)
	}
	// The original never resolved idle alerts; WorkPulse keeps at most one
	// open per session: an older one is resolved by the next, the last by
	// its session's end.
	for sid, list := range idle {
		for i, a := range list {
			if a.resolved != nil {
				continue
			}
			switch end := im.sessions[sid].end; {
			case i+1 < len(list):
				c.adjust("open idle alert followed by another of its session: resolved when the next was raised")
				a.resolved = &list[i+1].created
			case end != nil:
				c.adjust("open idle alert of an ended session: resolved at the session's end")
				r := *end
				if r.Before(a.created) {
					r = a.created
				}
				a.resolved = &r
			}
		}
	}
	return chunks(ok, im.BatchSize, func(b []*alertRow) error {
		var id, org, user, kind, msg []string
		var sess []*string
		var day, resolved []*time.Time
		var seen, created []time.Time
		for _, a := range b {
			id, org, user, kind, msg = append(id, a.id), append(org, a.org), append(user, a.user), append(kind, a.kind), append(msg, a.message)
			sess, day, resolved = append(sess, a.session), append(day, a.day), append(resolved, a.resolved)
			seen, created = append(seen, a.created), append(created, a.created)
		}
		_, err := im.storeByID(ctx, "alerts", "reporting.alerts", id, insertAlertsSQL, []any{id, org, user, sess, kind, msg, day, seen, created, resolved}, nil)
		return err
	})
}

// ofUser says why a row of user and org stays out, or "".
func (im *Importer) ofUser(user, org string) string {
	switch o, known := im.users[user]; {
	case !known:
		return "its user was not imported"
	case o != org:
		return "its organization is not its user's"
	}
	return ""
}

// sessionAt is user's session last started at or before t.
func (im *Importer) sessionAt(user string, t time.Time) *session {
	var found *session
	for _, s := range im.byUser[user] {
		if s.start.After(t) {
			break
		}
		found = s
	}
	return found
}

// utcDate is the calendar day of t in UTC, the zone an imported
// organization starts with.
func utcDate(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// The scans of the original's rows, one per table.

func scanOrgRow(r pgx.Row, o *orgRow) error { return r.Scan(&o.id, &o.name, &o.plan, &o.created) }

func scanUserRow(r pgx.Row, u *userRow) error {
	return r.Scan(&u.id, &u.org, &u.email, &u.hash, &u.name, &u.role, &u.status, &u.created, &u.updated)
}

func scanProjectRow(r pgx.Row, p *projectRow) error {
	return r.Scan(&p.id, &p.org, &p.name, &p.description, &p.createdBy, &p.created)
}

func scanSessionRow(r pgx.Row, s *sessionRow) error {
	return r.Scan(&s.id, &s.org, &s.user, &s.project, &s.start, &s.end, &s.last, &s.status, &s.version, &s.created, &s.updated, &s.rank)
}

func scanSummaryRow(r pgx.Row, s *summaryRow) error {
	return r.Scan(&s.id, &s.org, &s.user, &s.day, &s.total, &s.active, &s.idle, &s.score, &s.apps)
}

func scanAlertRow(r pgx.Row, a *alertRow) error {
	return r.Scan(&a.id, &a.user, &a.kind, &a.message, &a.created, &a.resolved)
}
