package session

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/outbox"
	"github.com/workpulse/workpulse/services/platform/page"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/tracking"
)

const source = "session"

// Project is the contract's project object.
type Project struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Name           string    `json:"name"`
	Description    *string   `json:"description"`
	CreatedBy      string    `json:"created_by"`
	CreatedAt      time.Time `json:"created_at"`
	// ArchivedAt is when an admin archived the project (nil: in use).
	ArchivedAt *time.Time `json:"archived_at"`
}

const projectColumns = "id, organization_id, name, description, created_by, created_at, archived_at"

func scanProject(r pgx.Row, p *Project, extra ...any) error {
	err := r.Scan(append([]any{&p.ID, &p.OrganizationID, &p.Name, &p.Description, &p.CreatedBy, &p.CreatedAt, &p.ArchivedAt}, extra...)...)
	p.CreatedAt = p.CreatedAt.UTC()
	if p.ArchivedAt != nil {
		utc := p.ArchivedAt.UTC()
		p.ArchivedAt = &utc
	}
	return err
}

// Store is the session service's data access; every query runs in the
// caller's organization (pg.InOrg), so row-level security applies.
type Store struct {
	db    *pgxpool.Pool
	clock clock.Clock
	// maxProjects caps an organization's projects.
	maxProjects int
}

// CreateProject stores p, refusing a name the organization already uses
// and a project beyond the organization's cap. The count is taken under a
// transaction lock of the organization's, so concurrent creations cannot
// together pass the cap.
func (s *Store) CreateProject(ctx context.Context, p *Project) error {
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		if err := tracking.CheckNotSuspended(ctx, tx); err != nil {
			return err
		}
		// Two statements: a statement's snapshot is taken as it starts, so
		// the count must come after the lock is held.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('tracking.projects:' || $1, 0))", p.OrganizationID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM tracking.projects").Scan(&n); err != nil {
			return err
		}
		if n >= s.maxProjects {
			return ErrProjectLimitReached
		}
		return tx.QueryRow(ctx, "INSERT INTO tracking.projects (id, organization_id, name, description, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING created_at",
			p.ID, p.OrganizationID, p.Name, p.Description, p.CreatedBy).Scan(&p.CreatedAt)
	})
	if pg.IsUniqueViolation(err, "projects_org_name_key") {
		return ErrProjectNameTaken
	}
	p.CreatedAt = p.CreatedAt.UTC()
	return err
}

// ListProjects lists a page of the organization's projects by name and
// the cursor of the next page (nil on the last): those in use, and the
// archived ones too when withArchived.
func (s *Store) ListProjects(ctx context.Context, orgID string, withArchived bool, req page.Request) ([]Project, *page.Cursor, error) {
	var rows []page.Keyed[Project]
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		rs, err := tx.Query(ctx, `SELECT `+projectColumns+`, lower(name) FROM tracking.projects
			WHERE (NOT $1 OR (lower(name), id) > ($2, $3::uuid)) AND ($5 OR archived_at IS NULL) ORDER BY lower(name), id LIMIT $4`,
			append(page.Args(req), withArchived)...)
		if err != nil {
			return err
		}
		rows, err = pgx.CollectRows(rs, func(r pgx.CollectableRow) (page.Keyed[Project], error) {
			var row page.Keyed[Project]
			return row, scanProject(r, &row.Item, &row.Key)
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	projects, next := page.TrimKeyed(rows, req, func(p Project) string { return p.ID })
	return projects, next, nil
}

// SetProjectArchived archives the project (keeping the first archiving's
// time when it is archived already) or puts it back in use.
func (s *Store) SetProjectArchived(ctx context.Context, orgID, id string, archived bool) (Project, error) {
	var p Project
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		if err := tracking.CheckNotSuspended(ctx, tx); err != nil {
			return err
		}
		err := scanProject(tx.QueryRow(ctx, `UPDATE tracking.projects SET archived_at = CASE WHEN $2 THEN coalesce(archived_at, $3) END
			WHERE id = $1 RETURNING `+projectColumns, id, archived, s.clock.Now()), &p)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrProjectNotFound
		}
		return err
	})
	return p, err
}

// StartSession starts the caller's session. The partial unique index
// work_sessions_one_active, not a prior read, refuses a second active
// session, so two concurrent starts cannot both succeed. A start in a
// locked day is refused.
func (s *Store) StartSession(ctx context.Context, p authn.Principal, projectID *string, start time.Time) (tracking.Session, error) {
	var sess tracking.Session
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		if err := tracking.CheckNotSuspended(ctx, tx); err != nil {
			return err
		}
		if err := tracking.CheckUnlocked(ctx, tx, start); err != nil {
			return err
		}
		if projectID != nil {
			// FOR SHARE: an archiving waits for this start to commit, so no
			// session starts on a project archived before it.
			var archived bool
			err := tx.QueryRow(ctx, "SELECT archived_at IS NOT NULL FROM tracking.projects WHERE id = $1 FOR SHARE", *projectID).Scan(&archived)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return ErrProjectNotFound
			case err != nil:
				return err
			case archived:
				return ErrProjectArchived
			}
		}
		var err error
		sess, err = tracking.ScanSession(tx.QueryRow(ctx, "INSERT INTO tracking.work_sessions (id, organization_id, user_id, project_id, start_time, status)"+
			" VALUES ($1, $2, $3, $4, $5, 'active')"+
			" RETURNING "+tracking.SessionColumns, uuid.NewString(), p.OrganizationID, p.UserID, projectID, start))
		switch {
		case pg.IsUniqueViolation(err, "work_sessions_one_active"):
			return ErrSessionAlreadyActive
		case err != nil:
			return err
		}
		return s.enqueue(ctx, tx, events.TypeSessionStarted, sess, events.SessionStarted{Session: sess.Event()})
	})
	return sess, err
}

// StopSession stops the caller's session, not at an end in a locked day.
func (s *Store) StopSession(ctx context.Context, p authn.Principal, id string, end *time.Time) (tracking.Session, error) {
	var sess tracking.Session
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		// The default end is now or later, which no lock covers (a day is
		// locked once it is over).
		if end != nil {
			if err := tracking.CheckUnlocked(ctx, tx, *end); err != nil {
				return err
			}
		}
		var err error
		if sess, err = tracking.StopSession(ctx, tx, id, p.UserID, end, s.clock.Now()); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, events.TypeSessionStopped, sess, events.SessionStopped{Session: sess.Event()})
	})
	return sess, err
}

// removeMember is session's tracking.MemberRemover: the removed member's
// active session stops now (session.stopped tells the board and the
// reports), and an erasure deletes every work session of theirs.
func (s *Store) removeMember(ctx context.Context, tx pgx.Tx, u events.UserRemoved) error {
	var active string
	err := tx.QueryRow(ctx, "SELECT id FROM tracking.work_sessions WHERE user_id = $1 AND status = 'active' FOR UPDATE", u.UserID).Scan(&active)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return err
	default:
		sess, err := tracking.StopSession(ctx, tx, active, u.UserID, nil, s.clock.Now())
		if err != nil {
			return err
		}
		if err := s.enqueue(ctx, tx, events.TypeSessionStopped, sess, events.SessionStopped{Session: sess.Event()}); err != nil {
			return err
		}
	}
	if !u.EraseData {
		return nil
	}
	return tracking.EraseSessions(ctx, tx, u.UserID)
}

// enqueue adds a session event keyed by user, so that a user's session
// and activity events keep their order.
func (s *Store) enqueue(ctx context.Context, tx pgx.Tx, typ string, sess tracking.Session, data any) error {
	ev, err := events.New(s.clock.Now(), source, typ, sess.OrganizationID, sess.UserID, data)
	if err != nil {
		return err
	}
	return outbox.Enqueue(ctx, tx, tracking.OutboxTable, ev)
}

// ActiveSession returns the caller's active session, or nil.
func (s *Store) ActiveSession(ctx context.Context, p authn.Principal) (*tracking.Session, error) {
	var sess *tracking.Session
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		found, err := tracking.ScanSession(tx.QueryRow(ctx, "SELECT "+tracking.SessionColumns+
			" FROM tracking.work_sessions WHERE user_id = $1 AND status = 'active'", p.UserID))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		sess = &found
		return err
	})
	return sess, err
}

// GetSession returns a session of the caller's organization that the
// caller sees (authn.Principal.Sees): their own, any for an admin, their
// teams' members' for a manager. Another's answers not found, so that its
// existence does not leak.
func (s *Store) GetSession(ctx context.Context, p authn.Principal, id string) (tracking.Session, error) {
	var sess tracking.Session
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		var err error
		sess, err = tracking.ScanSession(tx.QueryRow(ctx, "SELECT "+tracking.SessionColumns+
			" FROM tracking.work_sessions WHERE id = $1", id))
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !p.Sees(sess.UserID)) {
			return tracking.ErrSessionNotFound
		}
		return err
	})
	return sess, err
}

// sessionQuery selects a page of one user's sessions, newest first.
type sessionQuery struct {
	UserID   string
	From, To *time.Time
	After    *cursor
	Limit    int
}

// ListSessions returns up to q.Limit sessions and the cursor of the next
// page, if there is one.
func (s *Store) ListSessions(ctx context.Context, orgID string, q sessionQuery) ([]tracking.Session, *cursor, error) {
	list := []tracking.Session{}
	var afterTime *time.Time
	var afterID *string
	if q.After != nil {
		afterTime, afterID = &q.After.StartTime, &q.After.ID
	}
	err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+tracking.SessionColumns+" FROM tracking.work_sessions"+
			" WHERE organization_id = public.current_org() AND user_id = $1"+
			" AND ($2::timestamptz IS NULL OR start_time >= $2) AND ($3::timestamptz IS NULL OR start_time < $3)"+
			" AND ($4::timestamptz IS NULL OR (start_time, id) < ($4, $5::uuid))"+
			" ORDER BY start_time DESC, id DESC LIMIT $6", q.UserID, q.From, q.To, afterTime, afterID, q.Limit+1)
		if err != nil {
			return err
		}
		list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (tracking.Session, error) { return tracking.ScanSession(r) })
		return err
	})
	if err != nil || len(list) <= q.Limit {
		return list, nil, err
	}
	list = list[:q.Limit]
	last := list[len(list)-1]
	return list, &cursor{StartTime: last.StartTime, ID: last.ID}, nil
}

// ListTodaysSessions lists a page of the sessions of today, in the
// organization's time zone, and those running whenever they started: the
// live board's first load, in one request rather than one per person. An
// admin gets the organization's, a manager their teams' members' and their
// own, anyone else their own. Pages run by person
// (user_id, then the session's id), so a person's sessions come together.
func (s *Store) ListTodaysSessions(ctx context.Context, p authn.Principal, req page.Request) ([]tracking.Session, *page.Cursor, error) {
	visible, _ := p.Visible()
	var rows []page.Keyed[tracking.Session]
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		rs, err := tx.Query(ctx, "SELECT "+tracking.SessionColumns+", user_id::text FROM tracking.work_sessions"+
			" WHERE organization_id = public.current_org() AND ($5::uuid[] IS NULL OR user_id = ANY($5))"+
			" AND (status = 'active' OR start_time >= (SELECT date_trunc('day', $6::timestamptz AT TIME ZONE z.tz) AT TIME ZONE z.tz"+
			" FROM (SELECT coalesce((SELECT time_zone FROM tracking.tenants WHERE organization_id = public.current_org()), 'UTC') AS tz) z))"+
			" AND (NOT $1 OR (user_id::text, id) > ($2, $3::uuid))"+
			" ORDER BY user_id::text, id LIMIT $4",
			append(page.Args(req), visible, s.clock.Now())...)
		if err != nil {
			return err
		}
		rows, err = pgx.CollectRows(rs, func(r pgx.CollectableRow) (page.Keyed[tracking.Session], error) {
			var row page.Keyed[tracking.Session]
			err := r.Scan(append(row.Item.Dest(), &row.Key)...)
			row.Item.Normalize()
			return row, err
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	list, next := page.TrimKeyed(rows, req, func(x tracking.Session) string { return x.ID })
	return list, next, nil
}

// activeSessionCount counts the active sessions of every tenant.
func activeSessionCount(ctx context.Context, db *pgxpool.Pool) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, "SELECT tracking.active_session_count()").Scan(&n)
	return n, err
}

// businessFigures are the install-wide figures of the dashboard's business
// row (see BusinessMetrics).
type businessFigures struct{ PeopleTracking, ActiveSeconds, IdleSeconds int64 }

// readBusinessFigures counts the active sessions with activity since
// recentSince and sums every tenant's activity since dayStart.
func readBusinessFigures(ctx context.Context, db *pgxpool.Pool, recentSince, dayStart time.Time) (businessFigures, error) {
	var f businessFigures
	err := db.QueryRow(ctx, "SELECT people_tracking, active_seconds, idle_seconds FROM tracking.business_figures($1, $2)", recentSince, dayStart).
		Scan(&f.PeopleTracking, &f.ActiveSeconds, &f.IdleSeconds)
	return f, err
}
