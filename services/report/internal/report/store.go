package report

// Every SQL statement of the report service. Each runs in a transaction
// of one tenant (pg.InOrg), so row-level security holds; instants that
// decide anything come in as parameters, never from the database's now().

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/export"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// --- Tenants, days and locks

// settings reads the tenant of tx, filling what it did not set from cfg.
func (c Config) settings(ctx context.Context, tx pgx.Tx, org string) (Settings, error) {
	s := Settings{TimeZone: "UTC", InactiveThreshold: c.InactiveThreshold, IdleThreshold: c.IdleThreshold,
		OvertimeThreshold: c.OvertimeThreshold}
	var inactive, idle, overtime *int32
	err := tx.QueryRow(ctx, `SELECT time_zone, inactive_threshold_seconds, idle_threshold_seconds, overtime_threshold_hours
		FROM reporting.tenant_settings WHERE organization_id = $1`, org).Scan(&s.TimeZone, &inactive, &idle, &overtime)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if inactive != nil {
		s.InactiveThreshold = time.Duration(*inactive) * time.Second
	}
	if idle != nil {
		s.IdleThreshold = time.Duration(*idle) * time.Second
	}
	if overtime != nil {
		s.OvertimeThreshold = time.Duration(*overtime) * time.Hour
	}
	return s, nil
}

// today is the tenant-local date at now of the tenant of tx.
func today(ctx context.Context, tx pgx.Tx, org string, now time.Time) (time.Time, error) {
	var d time.Time
	err := tx.QueryRow(ctx, `SELECT ($2::timestamptz AT TIME ZONE coalesce(
		(SELECT time_zone FROM reporting.tenant_settings WHERE organization_id = $1), 'UTC'))::date`, org, now).Scan(&d)
	return d, err
}

// localDay returns the tenant-local date at t and the UTC bounds of that
// day. PostgreSQL's zone database does the arithmetic, so that a day
// across a DST change is 23 or 25 hours long.
func localDay(ctx context.Context, tx pgx.Tx, tz string, t time.Time) (day, lo, hi time.Time, err error) {
	err = tx.QueryRow(ctx, `SELECT d, d::timestamp AT TIME ZONE $2, (d + 1)::timestamp AT TIME ZONE $2
		FROM (SELECT ($1::timestamptz AT TIME ZONE $2)::date AS d) x`, t, tz).Scan(&day, &lo, &hi)
	return day, lo, hi, err
}

// tenantDay is localDay in the zone of the tenant of tx, in one round trip:
// every live read starts with it.
func tenantDay(ctx context.Context, tx pgx.Tx, org string, t time.Time) (day, lo, hi time.Time, err error) {
	err = tx.QueryRow(ctx, `SELECT x.d, x.d::timestamp AT TIME ZONE z.tz, (x.d + 1)::timestamp AT TIME ZONE z.tz
		FROM (SELECT coalesce((SELECT time_zone FROM reporting.tenant_settings WHERE organization_id = $1), 'UTC') AS tz) z,
		LATERAL (SELECT ($2::timestamptz AT TIME ZONE z.tz)::date AS d) x`, org, t).Scan(&day, &lo, &hi)
	return day, lo, hi, err
}

// dayBounds returns the UTC bounds of the tenant-local date day.
func dayBounds(ctx context.Context, tx pgx.Tx, tz string, day time.Time) (lo, hi time.Time, err error) {
	err = tx.QueryRow(ctx, `SELECT $1::date::timestamp AT TIME ZONE $2, ($1::date + 1)::timestamp AT TIME ZONE $2`,
		day, tz).Scan(&lo, &hi)
	return lo, hi, err
}

// lockTenant serializes one kind of job for one tenant until tx ends, so
// that two runs of a job at the same time take turns instead of racing.
func lockTenant(ctx context.Context, tx pgx.Tx, job, org string) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", "report:"+job, org)
	return err
}

// TenantIDs lists every tenant the report service knows of, through the
// one definer function that may look across tenants.
func TenantIDs(ctx context.Context, db *pgxpool.Pool) ([]string, error) {
	rows, err := db.Query(ctx, "SELECT id::text FROM reporting.tenant_ids() AS id ORDER BY 1")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// TenantIDsMostBehindFirst lists every tenant, those whose summaries are
// furthest behind first.
func TenantIDsMostBehindFirst(ctx context.Context, db *pgxpool.Pool) ([]string, error) {
	rows, err := db.Query(ctx, "SELECT id::text FROM reporting.tenant_ids_most_behind_first() AS id")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// --- The directory and tenant settings, from events

func upsertMember(ctx context.Context, tx pgx.Tx, u events.UserCreated) error {
	_, err := tx.Exec(ctx, `INSERT INTO reporting.users (user_id, organization_id, email, name, role) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name, role = EXCLUDED.role`,
		u.UserID, u.OrganizationID, u.Email, u.Name, u.Role)
	return err
}

// eraseMember deletes everything the report service holds of a member of
// the transaction's organization: summaries, alerts, the directory row,
// and the alert events not yet relayed (keyed by the member, see
// emitAlert), so that none of them reaches Kafka after the erasure. The
// member's id is kept, at, in reporting.erased_members (see notErased).
func eraseMember(ctx context.Context, tx pgx.Tx, userID string, at time.Time) error {
	if _, err := tx.Exec(ctx, "INSERT INTO reporting.erased_members (organization_id, user_id, erased_at) VALUES (public.current_org(), $1, $2)"+
		" ON CONFLICT DO NOTHING", userID, at); err != nil {
		return err
	}
	for _, table := range []string{"reporting.daily_summaries", "reporting.alerts", "reporting.users"} {
		if _, err := tx.Exec(ctx, "DELETE FROM "+table+" WHERE user_id = $1", userID); err != nil {
			return err
		}
	}
	// The outbox has no row-level security: the event's organization keeps
	// an erasure within the transaction's.
	_, err := tx.Exec(ctx, "DELETE FROM "+OutboxTable+" WHERE key = $1 AND payload->>'organization_id' = public.current_org()::text", userID)
	return err
}

// upsertTenantSettings stores t with zone tz. An older generation
// arriving late never overwrites a newer one.
func upsertTenantSettings(ctx context.Context, tx pgx.Tx, t events.TenantUpdated, tz string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO reporting.tenant_settings AS s (organization_id, time_zone, inactive_threshold_seconds,
		idle_threshold_seconds, overtime_threshold_hours, generation, updated_at)
		VALUES ($1, $2, nullif($3, 0), nullif($4, 0), nullif(least($5, 24), 0), $6, $7)
		ON CONFLICT (organization_id) DO UPDATE SET time_zone = EXCLUDED.time_zone,
		  inactive_threshold_seconds = EXCLUDED.inactive_threshold_seconds, idle_threshold_seconds = EXCLUDED.idle_threshold_seconds,
		  overtime_threshold_hours = EXCLUDED.overtime_threshold_hours, generation = EXCLUDED.generation, updated_at = EXCLUDED.updated_at
		WHERE s.generation <= EXCLUDED.generation`,
		t.OrganizationID, tz, max(t.InactiveThresholdSeconds, 0), max(t.IdleThresholdSeconds, 0), max(t.OvertimeThresholdHours, 0), t.Generation, now)
	return err
}

// zoneKnown tells whether PostgreSQL knows the time zone tz.
func zoneKnown(ctx context.Context, tx pgx.Tx, tz string) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)", tz).Scan(&ok)
	return ok, err
}

// notErased is the condition that the activity (or session) of alias is
// not an erased member's: what of it reaches the report service after
// the erasure, before activity ingest has erased it too, is never
// summarized or alerted on again.
func notErased(alias string) string {
	return "NOT EXISTS (SELECT 1 FROM reporting.erased_members e WHERE e.organization_id = " + alias + ".organization_id AND e.user_id = " + alias + ".user_id)"
}

// --- Summaries

// summaryCTEs aggregate one tenant-local day of activity in one pass: by
// user, session and URL first (a few rows per user), then applications
// and totals from those groups. $1 is the tenant, $3 and $4 the day's UTC
// bounds; filter narrows the activity further (one user). Idle activity
// an idle decision covers counts as the employee decided, as it does in
// the session totals: kept or assigned as active, discarded not at all. $6, $7 and $8
// are the day's categories (dayCategories): user, URL and category of
// every pair not neutral, so each group's seconds count in exactly one
// category and the categories add up to the total.
//
// Today's reports run this on every read, so the work per activity row is
// kept small: the erased members are read once (a hashed NOT IN, their
// user_id is never null) instead of once per row, and a decision is
// looked up by its activity's id (its key) for idle activity only, since
// a decision pins nothing else, instead of every row scanning the
// tenant's decisions of the day again.
func summaryCTEs(filter string) string {
	return `
WITH r AS (
  SELECT a.user_id, a.session_id, a.url, a.activity_type, a.duration_seconds,
         CASE WHEN a.activity_type = 'idle' THEN
           (SELECT i.decision FROM tracking.idle_decision_activity i WHERE i.activity_id = a.id) END AS decision
  FROM tracking.activity_logs a
  WHERE a.organization_id = $1 AND a.occurred_at >= $3 AND a.occurred_at < $4
    AND a.user_id NOT IN (SELECT e.user_id FROM reporting.erased_members e WHERE e.organization_id = $1)` + filter + `
), g AS (
  SELECT user_id, session_id, url,
         coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'active' OR decision IN ('keep', 'assign')), 0) AS act,
         coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'idle' AND decision IS NULL), 0) AS idl
  FROM r WHERE decision IS DISTINCT FROM 'discard'
  GROUP BY user_id, session_id, url
), gc AS (
  SELECT g.*, coalesce(c.category, 'neutral') AS category
  FROM g LEFT JOIN unnest($6::uuid[], $7::text[], $8::text[]) AS c(user_id, url, category)
    ON c.user_id = g.user_id AND c.url = g.url
), apps AS (
  SELECT user_id, reporting.app_name(url) AS app, sum(act) AS act, sum(idl) AS idl
  FROM g GROUP BY 1, 2
), app_json AS (
  -- Compact JSON text: reports send it out as stored.
  SELECT user_id, '[' || string_agg(format('{"app":%s,"total_seconds":%s,"active_seconds":%s,"idle_seconds":%s}',
           to_json(app), act + idl, act, idl), ',' ORDER BY act + idl DESC, app) || ']' AS usage
  FROM apps GROUP BY user_id
), per_user AS (
  SELECT user_id, count(DISTINCT session_id) AS sessions, sum(act) AS act, sum(idl) AS idl,
         coalesce(sum(act + idl) FILTER (WHERE category = 'productive'), 0) AS prod,
         coalesce(sum(act + idl) FILTER (WHERE category = 'neutral'), 0) AS neu,
         coalesce(sum(act + idl) FILTER (WHERE category = 'unproductive'), 0) AS unprod
  FROM gc GROUP BY user_id
)`
}

// summaryScore is a user's productivity score, of per_user u.
const summaryScore = `CASE WHEN u.act + u.idl = 0 THEN 0 ELSE round(u.act * 100.0 / (u.act + u.idl), 2) END`

// categoryScore is a user's category-based productivity score, of
// per_user u: the share of the tracked seconds in productive
// applications and sites.
const categoryScore = `CASE WHEN u.act + u.idl = 0 THEN 0 ELSE round(u.prod * 100.0 / (u.act + u.idl), 2) END`

// summaryColumns are the numbers of a stored summary a recomputation
// compares, of table alias p.
func summaryColumns(p string) string {
	return fmt.Sprintf("(%[1]stotal_work_seconds, %[1]sactive_seconds, %[1]sidle_seconds, %[1]sproductivity_score, "+
		"%[1]ssessions_count, %[1]sapp_usage::text, %[1]sproductive_seconds, %[1]sneutral_seconds, %[1]sunproductive_seconds, "+
		"%[1]scategory_score)", p)
}

// summarySQL computes and upserts every user's summary of one tenant-local
// day ($2); the time of the computation is $5. It returns how many users
// the day has and how many stored summaries it found different (new,
// changed, or of a user with no activity left that day): what a
// reconciliation counts.
var summarySQL = summaryCTEs("") + `, old AS (
  SELECT user_id, ` + summaryColumns("") + ` AS v FROM reporting.daily_summaries WHERE organization_id = $1 AND date = $2::date
), up AS (
  INSERT INTO reporting.daily_summaries AS d (organization_id, user_id, date, total_work_seconds, active_seconds,
    idle_seconds, productivity_score, sessions_count, app_usage, computed_at,
    productive_seconds, neutral_seconds, unproductive_seconds, category_score)
  SELECT $1, u.user_id, $2::date, u.act + u.idl, u.act, u.idl, ` + summaryScore + `,
         u.sessions, coalesce(j.usage, '[]')::json, $5, u.prod, u.neu, u.unprod, ` + categoryScore + `
  FROM per_user u LEFT JOIN app_json j ON j.user_id = u.user_id
  ON CONFLICT (organization_id, user_id, date) DO UPDATE SET
    total_work_seconds = EXCLUDED.total_work_seconds, active_seconds = EXCLUDED.active_seconds,
    idle_seconds = EXCLUDED.idle_seconds, productivity_score = EXCLUDED.productivity_score,
    sessions_count = EXCLUDED.sessions_count, app_usage = EXCLUDED.app_usage, computed_at = EXCLUDED.computed_at,
    productive_seconds = EXCLUDED.productive_seconds, neutral_seconds = EXCLUDED.neutral_seconds,
    unproductive_seconds = EXCLUDED.unproductive_seconds, category_score = EXCLUDED.category_score
  RETURNING d.user_id, ` + summaryColumns("d.") + ` AS v
)
SELECT count(*), count(*) FILTER (WHERE o.v IS DISTINCT FROM n.v)
  + (SELECT count(*) FROM old WHERE old.user_id NOT IN (SELECT user_id FROM up))
FROM up n LEFT JOIN old o ON o.user_id = n.user_id`

// liveSummarySQL computes one tenant-local day's ($2) summaries from the
// activity as it is now, in summarySelect's columns, the same numbers
// summarySQL would store: of one user ($5) with their name, or of every
// user without names (for streamSummaries' byName). A row's id is the
// stored summary's when there is one, else one derived from the user and
// day, so that reading it twice gives the same id.
func liveSummarySQL(oneUser bool) string {
	// Every user of those $5 lists, or of the organization when it is null
	// (an admin's report; a manager's lists the members of their teams).
	filter, name, join := " AND ($5::uuid[] IS NULL OR a.user_id = ANY($5))", "NULL::text", ""
	if oneUser {
		filter, name, join = " AND a.user_id = $5", "m.name", "\nLEFT JOIN reporting.users m ON m.user_id = u.user_id"
	}
	return summaryCTEs(filter) + `
SELECT coalesce(s.id, md5($1::text || u.user_id::text || $2::date::text)::uuid), $1::uuid, u.user_id, ` + name + `, $2::date,
       (u.act + u.idl)::bigint, u.act::bigint, u.idl::bigint, (` + summaryScore + `)::numeric(5,2)::float8,
       u.sessions::integer, coalesce(j.usage, '[]')::json,
       u.prod::bigint, u.neu::bigint, u.unprod::bigint, (` + categoryScore + `)::numeric(5,2)::float8
FROM per_user u LEFT JOIN app_json j ON j.user_id = u.user_id` + join + `
LEFT JOIN reporting.daily_summaries s ON s.organization_id = $1 AND s.user_id = u.user_id AND s.date = $2::date`
}

var (
	liveUserSummarySQL = liveSummarySQL(true)
	liveOrgSummarySQL  = liveSummarySQL(false)
)

// liveSummaryRows reads one user's summary of day, computed now.
func liveSummaryRows(ctx context.Context, tx pgx.Tx, org, user string, day, lo, hi time.Time, c categoryMap) (pgx.Rows, error) {
	return tx.Query(ctx, liveUserSummarySQL, org, day, lo, hi, user, c.users, c.urls, c.categories)
}

// liveOrganizationRows reads the summaries of day of users (nil: every
// user), computed now, without names.
func liveOrganizationRows(ctx context.Context, tx pgx.Tx, org string, users []string, day, lo, hi time.Time, c categoryMap) (pgx.Rows, error) {
	return tx.Query(ctx, liveOrgSummarySQL, org, day, lo, hi, users, c.users, c.urls, c.categories)
}

// upsertSummaries stores the summaries of day, whose activity lies in
// [lo, hi), and returns how many users it has and how many stored
// summaries it found different; c are the day's categories.
func upsertSummaries(ctx context.Context, tx pgx.Tx, org string, day, lo, hi, now time.Time, c categoryMap) (users, differences int64, err error) {
	err = tx.QueryRow(ctx, summarySQL, org, day, lo, hi, now, c.users, c.urls, c.categories).Scan(&users, &differences)
	return users, differences, err
}

// recategorizeSQL sets the category seconds and score of the stored
// summaries of one day ($2) of users $5 (null: everyone) from the
// activity and categories c. A summary whose activity is no longer all
// there (past the activity's retention) keeps what it has, so that its
// categories always add up to its total.
var recategorizeSQL = summaryCTEs(" AND ($5::uuid[] IS NULL OR a.user_id = ANY($5))") + `
UPDATE reporting.daily_summaries d SET productive_seconds = u.prod, neutral_seconds = u.neu,
  unproductive_seconds = u.unprod, category_score = ` + categoryScore + `
FROM per_user u
WHERE d.organization_id = $1 AND d.date = $2::date AND d.user_id = u.user_id AND d.total_work_seconds = u.act + u.idl
  AND (d.productive_seconds, d.neutral_seconds, d.unproductive_seconds) IS DISTINCT FROM (u.prod, u.neu, u.unprod)`

// recategorize applies recategorizeSQL and returns how many summaries
// changed.
func recategorize(ctx context.Context, tx pgx.Tx, org string, day, lo, hi time.Time, users []string, c categoryMap) (int64, error) {
	tag, err := tx.Exec(ctx, recategorizeSQL, org, day, lo, hi, users, c.users, c.urls, c.categories)
	return tag.RowsAffected(), err
}

// summaryDays lists the days with stored summaries of users (nil:
// everyone), newest first.
func summaryDays(ctx context.Context, tx pgx.Tx, org string, users []string) ([]time.Time, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT date FROM reporting.daily_summaries
		WHERE organization_id = $1 AND ($2::uuid[] IS NULL OR user_id = ANY($2)) ORDER BY date DESC`, org, users)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[time.Time])
}

// --- Category rules

// selectCategoryRules lists the tenant's rules: the organization's, then
// each team's, each in position order.
func selectCategoryRules(ctx context.Context, tx pgx.Tx) ([]CategoryRule, error) {
	rows, err := tx.Query(ctx, `SELECT team_id::text, match, pattern, category FROM reporting.category_rules
		ORDER BY team_id NULLS FIRST, position`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CategoryRule, error) {
		var c CategoryRule
		err := r.Scan(&c.TeamID, &c.Match, &c.Pattern, &c.Category)
		return c, err
	})
}

// replaceCategoryRules replaces every rule of the tenant by rules, each
// scope's positions in the order given.
func replaceCategoryRules(ctx context.Context, tx pgx.Tx, org string, rules []CategoryRule, now time.Time) error {
	if _, err := tx.Exec(ctx, `DELETE FROM reporting.category_rules WHERE organization_id = $1`, org); err != nil {
		return err
	}
	var teams []*string
	var matches, patterns, categories []string
	for _, r := range rules {
		teams, matches, patterns, categories = append(teams, r.TeamID), append(matches, r.Match), append(patterns, r.Pattern), append(categories, r.Category)
	}
	_, err := tx.Exec(ctx, `INSERT INTO reporting.category_rules (id, organization_id, team_id, position, match, pattern, category, created_at)
		SELECT gen_random_uuid(), $1, r.team, (row_number() OVER (PARTITION BY r.team ORDER BY r.n) - 1)::integer, r.match, r.pattern, r.category, $6
		FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS r(team, match, pattern, category, n)`,
		org, teams, matches, patterns, categories, now)
	return err
}

// teamMemberships maps each member of the tenant of tx to their teams,
// in id order.
func teamMemberships(ctx context.Context, tx pgx.Tx) (map[string][]string, error) {
	rows, err := tx.Query(ctx, `SELECT user_id::text, team_id::text FROM reporting.team_memberships() ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	teams := map[string][]string{}
	for rows.Next() {
		var user, team string
		if err := rows.Scan(&user, &team); err != nil {
			return nil, err
		}
		teams[user] = append(teams[user], team)
	}
	return teams, rows.Err()
}

// teamExists tells whether team is one of the tenant's.
func teamExists(ctx context.Context, tx pgx.Tx, team string) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT reporting.team_exists($1)`, team).Scan(&ok)
	return ok, err
}

// dayURLs lists the distinct user and URL pairs of the tenant's activity
// in [lo, hi) of users (nil: everyone), for dayCategories.
func dayURLs(ctx context.Context, tx pgx.Tx, org string, users []string, lo, hi time.Time) (pgx.Rows, error) {
	return tx.Query(ctx, `SELECT DISTINCT user_id::text, url FROM tracking.activity_logs
		WHERE organization_id = $1 AND occurred_at >= $2 AND occurred_at < $3 AND url IS NOT NULL
		  AND ($4::uuid[] IS NULL OR user_id = ANY($4))`, org, lo, hi, users)
}

// The progress of a running job, in its result until it ends.
const jobProgressSQL = "UPDATE reporting.jobs SET result = $2, heartbeat_at = $3 WHERE id = $1 AND state = 'running'"

// --- Late uploads and the reconciliation

// markCorrectionsSQL records, for each tenant $1[i], every tenant-local
// day between the instants $2[i] and $3[i] that had ended at $4: days whose
// stored summaries a late upload changed. The tenants of one fetch of the
// activity stream are marked together, under the set of them
// (pg.QueueInOrgs, migration 00212), each day in its own tenant's zone.
// The conflict names no columns: a conflict target reads the table, and
// the new rows would then have to pass the read policies too, which the
// set does not open.
const markCorrectionsSQL = `INSERT INTO reporting.summary_corrections (organization_id, date, marked_at)
SELECT DISTINCT e.org, d::date, $4::timestamptz
FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS e(org, f, l),
  LATERAL (SELECT coalesce((SELECT time_zone FROM reporting.tenant_settings WHERE organization_id = e.org), 'UTC') AS tz) z,
  generate_series((e.f AT TIME ZONE z.tz)::date, least((e.l AT TIME ZONE z.tz)::date, ($4::timestamptz AT TIME ZONE z.tz)::date - 1), interval '1 day') d
ON CONFLICT DO NOTHING`

// queueMarkCorrections queues in b the marking of the ended days of
// orgs[i] between firsts[i] and lasts[i] at now. It runs per fetch of the
// activity stream, so the ids go as pg.UUIDs gives them.
func queueMarkCorrections(b *pgx.Batch, orgs []string, firsts, lasts []time.Time, now time.Time) error {
	ids, err := pg.UUIDs(orgs)
	if err != nil {
		return err
	}
	b.Queue(markCorrectionsSQL, ids, firsts, lasts, now)
	return nil
}

// takeCorrections forgets and returns at most limit days of the tenant of
// tx waiting for a correction, oldest first. A mark made while tx runs
// waits for it and stays, so activity committed after tx's summaries
// were computed is corrected by the next pass.
func takeCorrections(ctx context.Context, tx pgx.Tx, org string, limit int) ([]time.Time, error) {
	rows, err := tx.Query(ctx, `DELETE FROM reporting.summary_corrections WHERE organization_id = $1 AND date IN (
		SELECT date FROM reporting.summary_corrections WHERE organization_id = $1 ORDER BY date LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING date`, org, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[time.Time])
}

// tryLockTenant takes the job's lock of the tenant until tx ends, unless
// another transaction holds it.
func tryLockTenant(ctx context.Context, tx pgx.Tx, job, org string) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2))", "report:"+job, org).Scan(&ok)
	return ok, err
}

// TenantIDsWithCorrections lists the tenants with days waiting for a
// correction, the longest waiting first.
func TenantIDsWithCorrections(ctx context.Context, db *pgxpool.Pool) ([]string, error) {
	rows, err := db.Query(ctx, "SELECT id::text FROM reporting.tenant_ids_with_corrections() AS id")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// addReconciliationDifferences counts n more differences the nightly
// reconciliation found for the tenant.
func addReconciliationDifferences(ctx context.Context, tx pgx.Tx, org string, n int64, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO reporting.summary_reconciliation AS r (organization_id, differences, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (organization_id) DO UPDATE SET differences = r.differences + EXCLUDED.differences, updated_at = EXCLUDED.updated_at`, org, n, now)
	return err
}

// ReconciliationDifferences is the number of differences the
// reconciliation has found in the whole installation.
func ReconciliationDifferences(ctx context.Context, db *pgxpool.Pool) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, "SELECT reporting.reconciliation_differences()").Scan(&n)
	return n, err
}

// lastCompletedDay is the catch-up's progress; ok is false before its
// first day.
func lastCompletedDay(ctx context.Context, tx pgx.Tx, org string) (last time.Time, ok bool, err error) {
	err = tx.QueryRow(ctx, "SELECT last_completed_date FROM reporting.summary_progress WHERE organization_id = $1", org).Scan(&last)
	if errors.Is(err, pgx.ErrNoRows) {
		return last, false, nil
	}
	return last, err == nil, err
}

// saveProgress records day as the last the catch-up completed.
func saveProgress(ctx context.Context, tx pgx.Tx, org string, day, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO reporting.summary_progress (organization_id, last_completed_date, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (organization_id) DO UPDATE SET last_completed_date = EXCLUDED.last_completed_date, updated_at = $3`, org, day, now)
	return err
}

// firstActivityDay is the tenant-local date in tz of the tenant's first
// activity at or after since; nil when there is none.
func firstActivityDay(ctx context.Context, tx pgx.Tx, org, tz string, since time.Time) (*time.Time, error) {
	var first *time.Time
	err := tx.QueryRow(ctx, `SELECT (min(occurred_at) AT TIME ZONE $3)::date FROM tracking.activity_logs
		WHERE organization_id = $1 AND occurred_at >= $2`, org, since, tz).Scan(&first)
	return first, err
}

// summarySelect reads summaries with their user's name. Columns stay in
// their binary form (uuid, date, json text) and are formatted in Go:
// converting 30,000 rows to text in the database costs more than the
// query itself.
const summarySelect = `SELECT s.id, s.organization_id, s.user_id, u.name, s.date, s.total_work_seconds, s.active_seconds,
  s.idle_seconds, s.productivity_score::float8, s.sessions_count, s.app_usage,
  s.productive_seconds, s.neutral_seconds, s.unproductive_seconds, s.category_score::float8
FROM reporting.daily_summaries s LEFT JOIN reporting.users u ON u.user_id = s.user_id `

// summaryByDate reads summaries without names, for streamSummaries' byName.
const summaryByDate = `SELECT s.id, s.organization_id, s.user_id, NULL::text, s.date, s.total_work_seconds, s.active_seconds,
  s.idle_seconds, s.productivity_score::float8, s.sessions_count, s.app_usage,
  s.productive_seconds, s.neutral_seconds, s.unproductive_seconds, s.category_score::float8
FROM reporting.daily_summaries s `

// dailySummaryRows reads one user's summary of one day.
func dailySummaryRows(ctx context.Context, tx pgx.Tx, org, user string, day time.Time) (pgx.Rows, error) {
	return tx.Query(ctx, summarySelect+"WHERE s.organization_id = $1 AND s.user_id = $2 AND s.date = $3", org, user, day)
}

// userSummaryRows reads one user's summaries of a range, newest first.
func userSummaryRows(ctx context.Context, tx pgx.Tx, org, user string, from, to time.Time) (pgx.Rows, error) {
	return tx.Query(ctx, summarySelect+"WHERE s.organization_id = $1 AND s.user_id = $2 AND s.date BETWEEN $3 AND $4 ORDER BY s.date DESC",
		org, user, from, to)
}

// organizationSummaryRows reads the summaries of users (nil: every user)
// of a range by date, newest first, without names.
func organizationSummaryRows(ctx context.Context, tx pgx.Tx, org string, users []string, from, to time.Time) (pgx.Rows, error) {
	return tx.Query(ctx, summaryByDate+"WHERE s.organization_id = $1 AND s.date BETWEEN $2 AND $3"+
		" AND ($4::uuid[] IS NULL OR s.user_id = ANY($4)) ORDER BY s.date DESC", org, from, to, users)
}

// directory returns the tenant's members with their rank by name.
func directory(ctx context.Context, tx pgx.Tx) (map[[16]byte]member, error) {
	rows, err := tx.Query(ctx, "SELECT user_id, name FROM reporting.users ORDER BY lower(name), user_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	dir := map[[16]byte]member{}
	for rows.Next() {
		var id [16]byte
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		dir[id] = member{name: name, rank: len(dir)}
	}
	return dir, rows.Err()
}

// memberExists reports REPORT_USER_NOT_FOUND for a user the tenant of tx
// has neither in its directory nor in its summaries.
func memberExists(ctx context.Context, tx pgx.Tx, userID string) error {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reporting.users WHERE user_id = $1)
		OR EXISTS (SELECT 1 FROM reporting.daily_summaries WHERE organization_id = current_org() AND user_id = $1)`, userID).Scan(&ok)
	if err == nil && !ok {
		return ErrUserNotFound
	}
	return err
}

// bumpReportVersion marks the tenant of tx's reports as changed.
func bumpReportVersion(ctx context.Context, tx pgx.Tx, org string) error {
	_, err := tx.Exec(ctx, `INSERT INTO reporting.report_versions AS v (organization_id, version) VALUES ($1, 1)
		ON CONFLICT (organization_id) DO UPDATE SET version = v.version + 1`, org)
	return err
}

func reportVersion(ctx context.Context, tx pgx.Tx, org string) (int64, error) {
	var v int64
	err := tx.QueryRow(ctx, "SELECT coalesce((SELECT version FROM reporting.report_versions WHERE organization_id = $1), 0)", org).Scan(&v)
	return v, err
}

// --- Alerts

// alertCols lists an alert's columns for scanAlert, of table alias p.
func alertCols(p string) string {
	return fmt.Sprintf("%[1]sid::text, %[1]sorganization_id::text, %[1]suser_id::text, %[1]ssession_id::text, %[1]salert_type, "+
		"%[1]smessage, to_char(%[1]slocal_date, 'YYYY-MM-DD'), %[1]screated_at, %[1]sresolved_at", p)
}

var alertColumns = alertCols("")

func scanAlert(row pgx.Row) (Alert, error) {
	var a Alert
	err := row.Scan(&a.ID, &a.OrganizationID, &a.UserID, &a.SessionID, &a.AlertType, &a.Message, &a.Date, &a.CreatedAt, &a.ResolvedAt)
	return a, err
}

// collectAlerts scans every alert of rows; none is an empty list.
func collectAlerts(rows pgx.Rows, err error) ([]Alert, error) {
	if err != nil {
		return nil, err
	}
	alerts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Alert, error) { return scanAlert(r) })
	if alerts == nil {
		alerts = []Alert{}
	}
	return alerts, err
}

// selectAlerts lists the alerts f asks for, created in [lo, hi) where
// those are set, newest first.
func selectAlerts(ctx context.Context, tx pgx.Tx, org string, f alertFilter, lo, hi *time.Time) ([]Alert, error) {
	return collectAlerts(tx.Query(ctx, `SELECT `+alertColumns+` FROM reporting.alerts
		WHERE organization_id = $1 AND ($2::uuid[] IS NULL OR user_id = ANY($2)) AND ($3::text IS NULL OR alert_type = $3)
		  AND ($4::boolean IS NULL OR (resolved_at IS NULL) = $4)
		  AND ($5::timestamptz IS NULL OR created_at >= $5) AND ($6::timestamptz IS NULL OR created_at < $6)
		ORDER BY created_at DESC, id LIMIT $7`, org, f.users, f.alertType, f.open, lo, hi, f.limit))
}

// alertForUpdate reads and locks one alert.
func alertForUpdate(ctx context.Context, tx pgx.Tx, id string) (Alert, error) {
	return scanAlert(tx.QueryRow(ctx, "SELECT "+alertColumns+" FROM reporting.alerts WHERE id = $1 FOR UPDATE", id))
}

// resolveAlertBy resolves one alert at now on behalf of user by.
func resolveAlertBy(ctx context.Context, tx pgx.Tx, id, by string, now time.Time) (Alert, error) {
	return scanAlert(tx.QueryRow(ctx, "UPDATE reporting.alerts SET resolved_at = $3, resolved_by = $2 WHERE id = $1 RETURNING "+alertColumns,
		id, by, now))
}

// idleCandidates lists the tenant's active sessions without an open idle
// alert, each with its last active work.
func idleCandidates(ctx context.Context, tx pgx.Tx, org string) ([]activeSession, error) {
	rows, err := tx.Query(ctx, `
SELECT ws.id::text, ws.user_id::text, ws.start_time, ws.last_activity_at,
       (SELECT a.occurred_at FROM tracking.activity_logs a
         WHERE a.session_id = ws.id AND a.organization_id = ws.organization_id
           AND a.activity_type = 'active' AND a.occurred_at >= ws.start_time
         ORDER BY a.occurred_at DESC LIMIT 1)
FROM tracking.work_sessions ws
WHERE ws.organization_id = $1 AND ws.status = 'active' AND `+notErased("ws")+`
  AND NOT EXISTS (SELECT 1 FROM reporting.alerts al
                  WHERE al.session_id = ws.id AND al.alert_type = 'idle' AND al.resolved_at IS NULL)`, org)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (activeSession, error) {
		var s activeSession
		return s, r.Scan(&s.ID, &s.UserID, &s.StartTime, &s.LastActivityAt, &s.LastActiveAt)
	})
}

// insertIdleAlert raises an idle alert for s at now; ok is false when the
// session has an open one already. The partial unique index on open idle
// alerts makes "never two" hold even against a concurrent run.
func insertIdleAlert(ctx context.Context, tx pgx.Tx, org string, s activeSession, msg string, since, now time.Time) (a Alert, ok bool, err error) {
	a, err = scanAlert(tx.QueryRow(ctx, `INSERT INTO reporting.alerts (id, organization_id, user_id, session_id, alert_type, message, last_seen_at, created_at)
		VALUES (gen_random_uuid(), $1, $2, $3, 'idle', $4, $5, $6)
		ON CONFLICT (session_id) WHERE alert_type = 'idle' AND resolved_at IS NULL DO NOTHING
		RETURNING `+alertColumns, org, s.UserID, s.ID, msg, since, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, false, nil
	}
	return a, err == nil, err
}

// resolveStoppedIdle resolves at now the open idle alerts of sessions
// that have stopped.
func resolveStoppedIdle(ctx context.Context, tx pgx.Tx, org string, now time.Time) ([]Alert, error) {
	return collectAlerts(tx.Query(ctx, `UPDATE reporting.alerts al SET resolved_at = $2
		FROM tracking.work_sessions ws
		WHERE al.organization_id = $1 AND al.alert_type = 'idle' AND al.resolved_at IS NULL
		  AND ws.id = al.session_id AND ws.status = 'stopped'
		RETURNING `+alertCols("al."), org, now))
}

// resolveSessionIdle resolves at now the open idle alert of a session:
// when activeAt is set, only if that active work came after what the
// alert was about.
func resolveSessionIdle(ctx context.Context, tx pgx.Tx, sessionID string, activeAt *time.Time, now time.Time) ([]Alert, error) {
	return collectAlerts(tx.Query(ctx, `UPDATE reporting.alerts SET resolved_at = $3
		WHERE session_id = $1 AND alert_type = 'idle' AND resolved_at IS NULL
		  AND ($2::timestamptz IS NULL OR last_seen_at IS NULL OR last_seen_at < $2)
		RETURNING `+alertColumns, sessionID, activeAt, now))
}

// insertOvertimeAlerts raises at now an overtime alert for the tenant-local
// day, of bounds [lo, hi), of every user who tracked more than limit
// seconds on it and has none for that day yet.
func insertOvertimeAlerts(ctx context.Context, tx pgx.Tx, org string, day, lo, hi time.Time, limit int64, now time.Time) ([]Alert, error) {
	return collectAlerts(tx.Query(ctx, `
INSERT INTO reporting.alerts (id, organization_id, user_id, alert_type, message, local_date, created_at)
SELECT gen_random_uuid(), $1, t.user_id, 'overtime',
       format('Tracked %sh %sm on %s, over the %s-hour threshold', t.total / 3600, t.total % 3600 / 60,
              to_char($4::date, 'YYYY-MM-DD'), $5::bigint / 3600), $4, $6
FROM (SELECT a.user_id, sum(a.duration_seconds) AS total FROM tracking.activity_logs a
      WHERE a.organization_id = $1 AND a.occurred_at >= $2 AND a.occurred_at < $3 AND `+notErased("a")+`
      GROUP BY a.user_id HAVING sum(a.duration_seconds) > $5) t
ON CONFLICT (organization_id, user_id, local_date) WHERE alert_type = 'overtime' DO NOTHING
RETURNING `+alertColumns, org, lo, hi, day, limit, now))
}

// openIdleAlertsSQL returns which of the sessions $2[i], each named under
// its tenant $1[i], have an open idle alert of that tenant; one statement
// for the tenants of a whole fetch (migration 00212).
const openIdleAlertsSQL = `SELECT DISTINCT a.organization_id::text, a.session_id::text FROM reporting.alerts a
	JOIN unnest($1::uuid[], $2::uuid[]) AS s(org, session) ON a.organization_id = s.org AND a.session_id = s.session
	WHERE a.alert_type = 'idle' AND a.resolved_at IS NULL`

// queueOpenIdleAlerts queues in b the look-up of which of the sessions[i]
// of orgs[i] have an open idle alert, each handed to found. It runs per
// fetch of the activity stream, so the ids go as pg.UUIDs gives them.
func queueOpenIdleAlerts(b *pgx.Batch, orgs, sessions []string, found func(org, session string)) error {
	orgIDs, err := pg.UUIDs(orgs)
	if err != nil {
		return err
	}
	sessionIDs, err := pg.UUIDs(sessions)
	if err != nil {
		return err
	}
	b.Queue(openIdleAlertsSQL, orgIDs, sessionIDs).Query(func(rows pgx.Rows) error {
		var org, session string
		_, err := pgx.ForEachRow(rows, []any{&org, &session}, func() error {
			found(org, session)
			return nil
		})
		return err
	})
	return nil
}

// --- Jobs

// startJob records a queued job of org at now, unless one of its kind
// is queued or running (the unique index jobs_one_running): then it
// returns that job's id and started false. Nothing here waits on a lock
// but a concurrent insert of the same kind, which commits at once. A job
// that stopped beating for staleAfter no longer counts as running: it is
// marked failed first, so a dead process does not block its kind forever.
func startJob(ctx context.Context, tx pgx.Tx, id, org, jobType string, params []byte, requestedBy string, now time.Time) (string, bool, error) {
	_, err := tx.Exec(ctx, `UPDATE reporting.jobs SET state = 'failed', error = $3, finished_at = $4
		WHERE organization_id = $1 AND job_type = $2 AND state IN ('queued','running')
		  AND coalesce(heartbeat_at, created_at) < $4::timestamptz - $5::interval`, org, jobType, staleJobError, now, staleAfter)
	if err != nil {
		return "", false, err
	}
	// The running job may end between the insert and the read: then the
	// next insert succeeds.
	for {
		var got string
		err := tx.QueryRow(ctx, `INSERT INTO reporting.jobs (id, organization_id, job_type, params, state, requested_by, created_at)
			VALUES ($1, $2, $3, $4, 'queued', $5, $6)
			ON CONFLICT (organization_id, job_type) WHERE state IN ('queued','running') DO NOTHING RETURNING id::text`,
			id, org, jobType, params, requestedBy, now).Scan(&got)
		if !errors.Is(err, pgx.ErrNoRows) {
			return got, err == nil, err
		}
		err = tx.QueryRow(ctx, `SELECT id::text FROM reporting.jobs
			WHERE organization_id = $1 AND job_type = $2 AND state IN ('queued','running')`, org, jobType).Scan(&got)
		if !errors.Is(err, pgx.ErrNoRows) {
			return got, false, err
		}
	}
}

// staleJobError is the error of a job that stopped beating.
const staleJobError = "the job stopped reporting progress; its process probably ended"

// The state changes of a running job: $1 is its id, the last parameter
// the time of the change.
const (
	jobStartedSQL   = "UPDATE reporting.jobs SET state = 'running', started_at = $2, heartbeat_at = $2 WHERE id = $1"
	jobBeatSQL      = "UPDATE reporting.jobs SET heartbeat_at = $2 WHERE id = $1 AND state = 'running'"
	jobFailedSQL    = "UPDATE reporting.jobs SET state = 'failed', error = $2, finished_at = $3 WHERE id = $1"
	jobSucceededSQL = "UPDATE reporting.jobs SET state = 'succeeded', result = $2, finished_at = $3 WHERE id = $1"
)

// selectJob reads a job; one queued or running that has not beaten for
// staleAfter at now reads as failed.
func selectJob(ctx context.Context, tx pgx.Tx, id string, now time.Time) (JobView, error) {
	var j JobView
	err := tx.QueryRow(ctx, `SELECT id::text, job_type,
		CASE WHEN state IN ('queued','running') AND coalesce(heartbeat_at, created_at) < $3::timestamptz - $2::interval THEN 'failed' ELSE state END,
		params, result,
		CASE WHEN state IN ('queued','running') AND coalesce(heartbeat_at, created_at) < $3::timestamptz - $2::interval
		     THEN $4 ELSE error END,
		created_at, started_at, finished_at
		FROM reporting.jobs WHERE id = $1`, id, staleAfter, now, staleJobError).
		Scan(&j.ID, &j.Type, &j.State, &j.Params, &j.Result, &j.Error, &j.CreatedAt, &j.StartedAt, &j.FinishedAt)
	return j, err
}

// pruneJobs forgets the tenant's triggered jobs created before before.
func pruneJobs(ctx context.Context, tx pgx.Tx, org string, before time.Time) error {
	_, err := tx.Exec(ctx, "DELETE FROM reporting.jobs WHERE organization_id = $1 AND created_at < $2", org, before)
	return err
}

// pruneErasedMembers forgets the tenant's erased members erased before
// before of whom tracking holds no activity and no session any more:
// nothing of theirs is left that a summary or an alert could count again.
func pruneErasedMembers(ctx context.Context, tx pgx.Tx, before time.Time) error {
	_, err := tx.Exec(ctx, `DELETE FROM reporting.erased_members e WHERE e.erased_at < $1
		AND NOT EXISTS (SELECT 1 FROM tracking.activity_logs a WHERE a.organization_id = e.organization_id AND a.user_id = e.user_id)
		AND NOT EXISTS (SELECT 1 FROM tracking.work_sessions s WHERE s.organization_id = e.organization_id AND s.user_id = e.user_id)`, before)
	return err
}

// pruneProcessedEvents forgets consumed event ids recorded before before.
func pruneProcessedEvents(ctx context.Context, db *pgxpool.Pool, before time.Time) (int64, error) {
	tag, err := db.Exec(ctx, "DELETE FROM reporting.processed_events WHERE processed_at < $1", before)
	return tag.RowsAffected(), err
}

// --- Webhooks

const webhookColumns = `id::text, url, event_types, enabled, format, created_at, updated_at`

func scanWebhook(row pgx.Row) (Webhook, error) {
	var w Webhook
	err := row.Scan(&w.ID, &w.URL, &w.EventTypes, &w.Enabled, &w.Format, &w.CreatedAt, &w.UpdatedAt)
	return w, err
}

// insertWebhook stores a new endpoint id of org with its sealed secret.
func insertWebhook(ctx context.Context, tx pgx.Tx, id, org, url string, eventTypes []string, enabled bool, format string, sealed []byte, now time.Time) (Webhook, error) {
	return scanWebhook(tx.QueryRow(ctx, `INSERT INTO reporting.webhook_endpoints
		(id, organization_id, url, event_types, secret, enabled, format, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING `+webhookColumns, id, org, url, eventTypes, sealed, enabled, format, now))
}

// tenantIDsWithWebhooks lists the tenants with endpoints, through the
// definer function that may look across tenants.
func tenantIDsWithWebhooks(ctx context.Context, db *pgxpool.Pool) ([]string, error) {
	rows, err := db.Query(ctx, "SELECT id::text FROM reporting.tenant_ids_with_webhooks() AS id")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// storedSecret is an endpoint's secret as stored.
type storedSecret struct {
	id     string
	sealed []byte
}

// lockWebhookSecrets returns the stored secrets of the tenant of tx,
// locked until tx ends.
func lockWebhookSecrets(ctx context.Context, tx pgx.Tx) ([]storedSecret, error) {
	rows, err := tx.Query(ctx, "SELECT id::text, secret FROM reporting.webhook_endpoints ORDER BY id FOR UPDATE")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (storedSecret, error) {
		var s storedSecret
		err := r.Scan(&s.id, &s.sealed)
		return s, err
	})
}

// updateWebhookSecret stores endpoint id's secret sealed anew.
func updateWebhookSecret(ctx context.Context, tx pgx.Tx, id string, sealed []byte) error {
	_, err := tx.Exec(ctx, "UPDATE reporting.webhook_endpoints SET secret = $2 WHERE id = $1", id, sealed)
	return err
}

// listWebhooks lists the endpoints of the tenant of tx, oldest first.
func listWebhooks(ctx context.Context, tx pgx.Tx) ([]Webhook, error) {
	rows, err := tx.Query(ctx, `SELECT `+webhookColumns+` FROM reporting.webhook_endpoints ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Webhook, error) { return scanWebhook(r) })
}

// updateWebhook sets what in sets of endpoint id; pgx.ErrNoRows when there is none.
func updateWebhook(ctx context.Context, tx pgx.Tx, id string, in webhookInput, now time.Time) (Webhook, error) {
	return scanWebhook(tx.QueryRow(ctx, `UPDATE reporting.webhook_endpoints SET
		url = coalesce($2, url), event_types = coalesce($3, event_types), enabled = coalesce($4, enabled),
		format = coalesce($6, format), updated_at = $5
		WHERE id = $1 RETURNING `+webhookColumns, id, in.URL, in.EventTypes, in.Enabled, now, in.Format))
}

// deleteWebhook deletes endpoint id and its delivery log; false when there is none.
func deleteWebhook(ctx context.Context, tx pgx.Tx, id string) (bool, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM reporting.webhook_endpoints WHERE id = $1`, id)
	return tag.RowsAffected() == 1, err
}

// webhookExists tells whether endpoint id is the tenant's.
func webhookExists(ctx context.Context, tx pgx.Tx, id string) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reporting.webhook_endpoints WHERE id = $1)`, id).Scan(&ok)
	return ok, err
}

const deliveryColumns = `id::text, event_id::text, event_type, status, attempts, next_attempt_at, last_status_code, last_error, created_at, delivered_at`

func scanDelivery(row pgx.Row) (WebhookDelivery, error) {
	var d WebhookDelivery
	err := row.Scan(&d.ID, &d.EventID, &d.EventType, &d.Status, &d.Attempts, &d.NextAttemptAt, &d.LastStatusCode, &d.LastError,
		&d.CreatedAt, &d.DeliveredAt)
	return d, err
}

// listDeliveries lists the latest deliveries of endpoint id, newest first.
func listDeliveries(ctx context.Context, tx pgx.Tx, id string, limit int) ([]WebhookDelivery, error) {
	rows, err := tx.Query(ctx, `SELECT `+deliveryColumns+` FROM reporting.webhook_deliveries
		WHERE endpoint_id = $1 ORDER BY created_at DESC, id LIMIT $2`, id, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (WebhookDelivery, error) { return scanDelivery(r) })
}

// insertDeliveries queues the event for every enabled endpoint of the
// tenant of tx that subscribes to its type, as body or as the Slack
// message slack by the endpoint's format.
func insertDeliveries(ctx context.Context, tx pgx.Tx, eventID, eventType, body, slack string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO reporting.webhook_deliveries
		(id, organization_id, endpoint_id, event_id, event_type, body, status, next_attempt_at, created_at)
		SELECT gen_random_uuid(), organization_id, id, $1, $2, CASE format WHEN 'slack' THEN $5 ELSE $3 END, 'pending', $4, $4
		FROM reporting.webhook_endpoints WHERE enabled AND $2 = ANY (event_types)
		ON CONFLICT (endpoint_id, event_id) DO NOTHING`, eventID, eventType, body, now, slack)
	return err
}

// insertTestDelivery queues a delivery to endpoint id, due now, enabled or not.
func insertTestDelivery(ctx context.Context, tx pgx.Tx, id, eventID, body, slack string, now time.Time) (WebhookDelivery, error) {
	return scanDelivery(tx.QueryRow(ctx, `INSERT INTO reporting.webhook_deliveries
		(id, organization_id, endpoint_id, event_id, event_type, body, status, next_attempt_at, created_at)
		SELECT gen_random_uuid(), organization_id, id, $2, $3, CASE format WHEN 'slack' THEN $6 ELSE $4 END, 'pending', $5, $5
		FROM reporting.webhook_endpoints WHERE id = $1
		RETURNING `+deliveryColumns, id, eventID, WebhookTestEvent, body, now, slack))
}

// memberName is the name of user id in the tenant of tx, "" when unknown.
func memberName(ctx context.Context, tx pgx.Tx, id string) (string, error) {
	if !isUUID(id) {
		return "", nil
	}
	var name string
	err := tx.QueryRow(ctx, `SELECT name FROM reporting.users WHERE user_id = $1`, id).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return name, err
}

// tenantIDsWithDueWebhooks lists the tenants with deliveries due at now,
// through the definer function that may look across tenants.
func tenantIDsWithDueWebhooks(ctx context.Context, db *pgxpool.Pool, now time.Time) ([]string, error) {
	rows, err := db.Query(ctx, "SELECT id::text FROM reporting.tenant_ids_with_due_webhooks($1) AS id", now)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// webhookQueue returns how many deliveries to the enabled endpoints of
// every organization are pending and when the oldest of them was written
// (nil: none).
func webhookQueue(ctx context.Context, db *pgxpool.Pool) (pending int64, oldest *time.Time, err error) {
	err = db.QueryRow(ctx, "SELECT pending, oldest FROM reporting.webhook_queue()").Scan(&pending, &oldest)
	return pending, oldest, err
}

// pruneWebhookDeliveries deletes at most limit finished deliveries of every
// organization written before before, and returns how many.
func pruneWebhookDeliveries(ctx context.Context, db *pgxpool.Pool, before time.Time, limit int) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, "SELECT reporting.prune_webhook_deliveries($1, $2)", before, limit).Scan(&n)
	return n, err
}

// claimedDelivery is a due delivery with what sending it needs.
type claimedDelivery struct {
	id, endpointID, eventType, body, url string
	sealedSecret                         []byte
	attempts                             int
	created                              time.Time
}

// claimDueDeliveries moves the next attempt of up to limit deliveries
// due at now to until and returns them. A disabled endpoint's deliveries
// wait (a test-send is sent whatever the flag), and a delivery another
// process has claimed is skipped.
func claimDueDeliveries(ctx context.Context, tx pgx.Tx, now, until time.Time, limit int) ([]claimedDelivery, error) {
	rows, err := tx.Query(ctx, `UPDATE reporting.webhook_deliveries d SET next_attempt_at = $2
		FROM reporting.webhook_endpoints e
		WHERE e.id = d.endpoint_id AND d.id IN (
		  SELECT d2.id FROM reporting.webhook_deliveries d2 JOIN reporting.webhook_endpoints e2 ON e2.id = d2.endpoint_id
		  WHERE d2.status = 'pending' AND d2.next_attempt_at <= $1 AND (e2.enabled OR d2.event_type = $4)
		  ORDER BY d2.next_attempt_at LIMIT $3 FOR UPDATE OF d2 SKIP LOCKED)
		RETURNING d.id::text, e.id::text, d.event_type, d.body, e.url, e.secret, d.attempts, d.created_at`, now, until, limit, WebhookTestEvent)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimedDelivery, error) {
		var c claimedDelivery
		err := r.Scan(&c.id, &c.endpointID, &c.eventType, &c.body, &c.url, &c.sealedSecret, &c.attempts, &c.created)
		return c, err
	})
}

// recordAttempt records the outcome of an attempt at c made at now and
// returns the status it leaves c in.
func recordAttempt(ctx context.Context, tx pgx.Tx, c claimedDelivery, code int, sendErr error, now time.Time) (string, error) {
	attempts := c.attempts + 1
	o := outcomeOf(c.created, now, attempts, sendErr)
	var status *int
	if code != 0 {
		status = &code
	}
	_, err := tx.Exec(ctx, `UPDATE reporting.webhook_deliveries SET status = $2, attempts = $3, next_attempt_at = $4,
		last_status_code = $5, last_error = $6, delivered_at = $7 WHERE id = $1`,
		c.id, o.status, attempts, o.next, status, o.lastError, o.deliveredAt)
	return o.status, err
}

// Audited report actions (auth's audit log).
const (
	auditReportRead     = "report.read"
	auditReportExported = "report.exported"
)

// reportAuditDetails describes an audited report: its range and format.
func reportAuditDetails(from, to time.Time, asCSV bool) map[string]any {
	format := "json"
	if asCSV {
		format = "csv"
	}
	return map[string]any{"from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly), "format": format}
}

// recordReportAudit writes an entry of auth's audit log for the
// organization of tx: actor read subject's report (nil: the
// organization's).
func recordReportAudit(ctx context.Context, tx pgx.Tx, at time.Time, actor, action string, subject *string, details map[string]any) error {
	_, err := tx.Exec(ctx, "SELECT auth.record_report_audit($1, $2, $3, $4, $5)", at, actor, action, subject, details)
	return err
}

// openAlertCounts are every tenant's unresolved alerts by kind.
func openAlertCounts(ctx context.Context, db *pgxpool.Pool) (map[string]int64, error) {
	rows, err := db.Query(ctx, "SELECT kind, open FROM reporting.open_alert_counts()")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	open := map[string]int64{}
	for rows.Next() {
		var kind string
		var n int64
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, err
		}
		open[kind] = n
	}
	return open, rows.Err()
}

// --- Payroll

// payrollEntries lists the finished sessions of users (nil: everyone)
// that started in [lo, hi), with their names, projects and, for approved
// manual entries, the approver. An approved edit of a session leaves it
// what it was, tracked or manual. Idle time the employee assigned to a
// project is paid on that project: each such decision is a line of its
// own, right after its session's, and its seconds leave the session's line.
func payrollEntries(ctx context.Context, tx pgx.Tx, users []string, lo, hi time.Time) ([]PayrollEntry, error) {
	rows, err := tx.Query(ctx, `WITH paid AS (
		SELECT ws.* FROM tracking.work_sessions ws
		WHERE ws.status = 'stopped' AND ws.start_time >= $2 AND ws.start_time < $3 AND ($1::uuid[] IS NULL OR ws.user_id = ANY($1))
	), assigned AS (
		SELECT d.* FROM tracking.idle_decisions d JOIN paid ws ON ws.id = d.session_id WHERE d.decision = 'assign'
	)
	SELECT ws.id::text, ws.user_id::text, u.name, ws.project_id::text, pr.name, ws.start_time, ws.end_time,
		ws.total_active_seconds - coalesce((SELECT sum(a.idle_seconds) FROM assigned a WHERE a.session_id = ws.id), 0),
		ws.total_idle_seconds, CASE WHEN tr.id IS NULL THEN 'tracked' ELSE 'manual' END, tr.reviewed_by::text,
		ws.start_time AS session_start, NULL::timestamptz AS line_start
	FROM paid ws
	LEFT JOIN reporting.users u ON u.user_id = ws.user_id
	LEFT JOIN tracking.projects pr ON pr.id = ws.project_id
	LEFT JOIN tracking.time_requests tr ON tr.session_id = ws.id AND tr.status = 'approved' AND tr.kind = 'entry'
	UNION ALL
	SELECT ws.id::text, ws.user_id::text, u.name, a.project_id::text, pr.name, a.start_time, a.end_time,
		a.idle_seconds, 0, 'assigned', NULL, ws.start_time, a.start_time
	FROM assigned a JOIN paid ws ON ws.id = a.session_id
	LEFT JOIN reporting.users u ON u.user_id = ws.user_id
	LEFT JOIN tracking.projects pr ON pr.id = a.project_id
	ORDER BY session_start, 1, line_start NULLS FIRST`, users, lo, hi)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PayrollEntry, error) {
		var e PayrollEntry
		var sessionStart time.Time
		var lineStart *time.Time
		err := r.Scan(&e.SessionID, &e.UserID, &e.UserName, &e.ProjectID, &e.ProjectName, &e.StartTime, &e.EndTime, &e.ActiveSeconds,
			&e.IdleSeconds, &e.Source, &e.ApprovedBy, &sessionStart, &lineStart)
		e.StartTime, e.EndTime = e.StartTime.UTC(), e.EndTime.UTC()
		return e, err
	})
}

// --- Export

// exportSections are the reporting part of a member's export: the
// profile report keeps of them, their daily summaries and their alerts.
var exportSections = []export.Section{
	{Name: "member", Query: `SELECT row_to_json(t) FROM (
		SELECT user_id, email, name, role, created_at FROM reporting.users WHERE user_id = $1) t`},
	{Name: "daily_summaries", Query: `SELECT row_to_json(t) FROM (
		SELECT id, date, total_work_seconds, active_seconds, idle_seconds, productivity_score, sessions_count, app_usage,
		       productive_seconds, neutral_seconds, unproductive_seconds, category_score, computed_at
		FROM reporting.daily_summaries WHERE user_id = $1) t
		ORDER BY t.date, t.id`},
	{Name: "alerts", Query: `SELECT row_to_json(t) FROM (
		SELECT id, session_id, alert_type, message, local_date, created_at, last_seen_at, resolved_at, resolved_by
		FROM reporting.alerts WHERE user_id = $1) t
		ORDER BY t.created_at, t.id`},
}
