package report

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/export"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// summaryRow is a daily summary as the database returns it, kept in
// binary form until it is written: the contract's summary object plus
// user_name and sessions_count. The organization report writes tens of
// thousands per request, so it is encoded without reflection and with
// no allocation per field; the stored app usage is JSON already and is
// copied as is.
type summaryRow struct {
	id, org, user       [16]byte
	name                *string
	date                string
	total, active, idle int64
	score               float64
	sessions            int32
	usage               []byte
	// The seconds of each category and the score from them.
	productive, neutral, unproductive int64
	categoryScore                     float64
	rank                              int
}

var csvHeader = []string{"date", "user_id", "user_name", "total_work_seconds", "active_seconds", "idle_seconds",
	"productivity_score", "sessions_count", "app_usage", "productive_seconds", "neutral_seconds", "unproductive_seconds",
	"category_score"}

func (s *summaryRow) csvRecord() []string {
	name := ""
	if s.name != nil {
		name = *s.name
	}
	return []string{s.date, uuid.UUID(s.user).String(), export.CSVText(name), strconv.FormatInt(s.total, 10), strconv.FormatInt(s.active, 10),
		strconv.FormatInt(s.idle, 10), strconv.FormatFloat(s.score, 'f', 2, 64),
		strconv.FormatInt(int64(s.sessions), 10), export.CSVText(string(s.usage)), strconv.FormatInt(s.productive, 10),
		strconv.FormatInt(s.neutral, 10), strconv.FormatInt(s.unproductive, 10), strconv.FormatFloat(s.categoryScore, 'f', 2, 64)}
}

func (s *summaryRow) appendJSON(b []byte) []byte {
	b = append(b, `{"id":"`...)
	b = appendUUID(b, s.id)
	b = append(b, `","organization_id":"`...)
	b = appendUUID(b, s.org)
	b = append(b, `","user_id":"`...)
	b = appendUUID(b, s.user)
	b = append(b, `","user_name":`...)
	if s.name == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *s.name)
	}
	b = append(b, `,"date":"`...)
	b = append(b, s.date...)
	b = append(b, `","total_work_seconds":`...)
	b = strconv.AppendInt(b, s.total, 10)
	b = append(b, `,"active_seconds":`...)
	b = strconv.AppendInt(b, s.active, 10)
	b = append(b, `,"idle_seconds":`...)
	b = strconv.AppendInt(b, s.idle, 10)
	b = append(b, `,"productivity_score":`...)
	b = strconv.AppendFloat(b, s.score, 'f', -1, 64)
	b = append(b, `,"sessions_count":`...)
	b = strconv.AppendInt(b, int64(s.sessions), 10)
	b = append(b, `,"app_usage":`...)
	if len(s.usage) == 0 {
		b = append(b, "[]"...)
	} else {
		b = append(b, s.usage...)
	}
	b = append(b, `,"category_seconds":{"productive":`...)
	b = strconv.AppendInt(b, s.productive, 10)
	b = append(b, `,"neutral":`...)
	b = strconv.AppendInt(b, s.neutral, 10)
	b = append(b, `,"unproductive":`...)
	b = strconv.AppendInt(b, s.unproductive, 10)
	b = append(b, `},"category_score":`...)
	b = strconv.AppendFloat(b, s.categoryScore, 'f', -1, 64)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendUUID appends id in its canonical lower-case form.
func appendUUID(b []byte, id [16]byte) []byte {
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// appendJSONString appends s as a JSON string; s is valid UTF-8 (it comes
// from PostgreSQL).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// summaryWriter streams summaries as a JSON array (or one object or
// null), or as CSV with a header row, without holding them in memory.
type summaryWriter struct {
	w       http.ResponseWriter
	buf     *bufio.Writer
	csv     *csv.Writer
	single  bool
	started bool
	n       int
	scratch []byte
}

func newSummaryWriter(w http.ResponseWriter, body io.Writer, asCSV, single bool) *summaryWriter {
	sw := &summaryWriter{w: w, buf: bufio.NewWriterSize(body, 64<<10), single: single}
	if asCSV {
		sw.csv = csv.NewWriter(sw.buf)
	}
	return sw
}

func (sw *summaryWriter) start() error {
	if sw.started {
		return nil
	}
	sw.started = true
	if sw.csv != nil {
		sw.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		sw.w.WriteHeader(http.StatusOK)
		return sw.csv.Write(csvHeader)
	}
	sw.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	sw.w.WriteHeader(http.StatusOK)
	if !sw.single {
		return sw.buf.WriteByte('[')
	}
	return nil
}

func (sw *summaryWriter) write(s *summaryRow) error {
	if err := sw.start(); err != nil {
		return err
	}
	sw.n++
	if sw.csv != nil {
		return sw.csv.Write(s.csvRecord())
	}
	if sw.n > 1 {
		if err := sw.buf.WriteByte(','); err != nil {
			return err
		}
	}
	sw.scratch = s.appendJSON(sw.scratch[:0])
	_, err := sw.buf.Write(sw.scratch)
	return err
}

func (sw *summaryWriter) finish() error {
	if err := sw.start(); err != nil {
		return err
	}
	if sw.csv != nil {
		sw.csv.Flush()
		if err := sw.csv.Error(); err != nil {
			return err
		}
	} else {
		tail := "]\n"
		if sw.single {
			tail = "\n"
			if sw.n == 0 {
				tail = "null\n"
			}
		}
		if _, err := sw.buf.WriteString(tail); err != nil {
			return err
		}
	}
	return sw.buf.Flush()
}

// streamSummaries runs query for org and streams its rows. Until the
// first row is written an error is answered in the envelope; after that
// the response is cut off, which the client sees as a truncated body.
//
// With byName, query returns rows by date (newest first) without names;
// each date's rows are then ordered by the user's name from the directory
// here, a thousand at a time, which is far cheaper than having the
// database sort a month of wide rows by a collated name.
//
// keep, if set, receives the complete body when it is small enough to be
// cached. The queries run one after the other, their rows in that order.
func (s *server) streamSummaries(w http.ResponseWriter, r *http.Request, org string, single, byName bool,
	keep func(contentType string, body []byte), queries ...rowsQuery) error {
	asCSV, err := export.WantsCSV(r)
	if err != nil {
		return err
	}
	body, copied := s.captureFor(w, keep)
	sw := newSummaryWriter(w, body, asCSV, single)
	err = pg.InOrg(r.Context(), s.db, org, func(tx pgx.Tx) error {
		return writeSummaries(r.Context(), tx, sw, byName, queries)
	})
	if err != nil && sw.started {
		slog.ErrorContext(r.Context(), "report stream failed after it started", "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
	if err == nil && copied != nil && !copied.overflow {
		keep(w.Header().Get("Content-Type"), copied.buf)
	}
	return err
}

// captureFor returns where a report body goes: straight to w, or through
// a capture that keeps a copy for the cache when keep is set.
func (s *server) captureFor(w http.ResponseWriter, keep func(string, []byte)) (io.Writer, *capture) {
	if keep == nil || s.cache == nil {
		return w, nil
	}
	c := &capture{w: w, limit: s.cache.limit()}
	return c, c
}

// rowsQuery reads summary rows in summarySelect's columns.
type rowsQuery func(tx pgx.Tx) (pgx.Rows, error)

// writeSummaries writes every row of queries to sw, each date's rows
// ordered by the user's name when byName.
func writeSummaries(ctx context.Context, tx pgx.Tx, sw *summaryWriter, byName bool, queries []rowsQuery) error {
	out := sw.write
	var named *byNameOrder
	if byName {
		dir, err := directory(ctx, tx)
		if err != nil {
			return err
		}
		named = &byNameOrder{dir: dir, out: sw.write}
		out = named.add
	}
	var sc summaryScanner
	for _, query := range queries {
		if err := writeRows(tx, &sc, out, query); err != nil {
			return err
		}
	}
	if named != nil {
		if err := named.flush(); err != nil {
			return err
		}
	}
	return sw.finish()
}

// writeRows passes every row of query to out.
func writeRows(tx pgx.Tx, sc *summaryScanner, out func(*summaryRow) error, query rowsQuery) error {
	rows, err := query(tx)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		sr, err := sc.scan(rows)
		if err != nil {
			return err
		}
		if err := out(&sr); err != nil {
			return err
		}
	}
	return rows.Err()
}

// summaryScanner scans summary rows, formatting a date once for the run
// of rows that share it.
type summaryScanner struct {
	lastDate time.Time
	lastDay  string
}

func (sc *summaryScanner) scan(rows pgx.Rows) (summaryRow, error) {
	var sr summaryRow
	var date time.Time
	if err := rows.Scan(&sr.id, &sr.org, &sr.user, &sr.name, &date, &sr.total,
		&sr.active, &sr.idle, &sr.score, &sr.sessions, &sr.usage, &sr.productive, &sr.neutral, &sr.unproductive,
		&sr.categoryScore); err != nil {
		return sr, err
	}
	if !date.Equal(sc.lastDate) || sc.lastDay == "" {
		sc.lastDate, sc.lastDay = date, date.Format(time.DateOnly)
	}
	sr.date = sc.lastDay
	return sr, nil
}

// byNameOrder holds the rows of one date and writes them to out ordered
// by the user's rank in the directory, users it does not know last.
type byNameOrder struct {
	dir   map[[16]byte]member
	out   func(*summaryRow) error
	group []summaryRow
	order []int
}

// add takes the next row; a row of another date writes the held ones.
func (o *byNameOrder) add(sr *summaryRow) error {
	if len(o.group) > 0 && o.group[0].date != sr.date {
		if err := o.flush(); err != nil {
			return err
		}
	}
	sr.rank = len(o.dir) // unknown users after every named one
	if m, ok := o.dir[sr.user]; ok {
		sr.name, sr.rank = &m.name, m.rank
	}
	o.group = append(o.group, *sr)
	return nil
}

// flush writes the held rows in order.
func (o *byNameOrder) flush() error {
	o.order = o.order[:0]
	for i := range o.group {
		o.order = append(o.order, i)
	}
	slices.SortFunc(o.order, func(i, j int) int {
		a, b := &o.group[i], &o.group[j]
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		return bytes.Compare(a.user[:], b.user[:])
	})
	for _, i := range o.order {
		if err := o.out(&o.group[i]); err != nil {
			return err
		}
	}
	o.group = o.group[:0]
	return nil
}

type member struct {
	name string
	rank int
}

// dailyReport is the caller's own summary of one date (default: the
// tenant's today), or null.
func (s *server) dailyReport(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	day, ok, err := parseDate(r.URL.Query(), "date")
	if err != nil {
		return err
	}
	if _, err := export.WantsCSV(r); err != nil {
		return err
	}
	return s.streamSummaries(w, r, p.OrganizationID, true, false, nil, func(tx pgx.Tx) (pgx.Rows, error) {
		t, err := s.liveDay(r.Context(), tx, p.OrganizationID)
		if err != nil {
			return nil, err
		}
		if !ok {
			day = t.day
		}
		if !day.Equal(t.day) {
			return dailySummaryRows(r.Context(), tx, p.OrganizationID, p.UserID, day)
		}
		// Today is still being worked: computed from the activity on
		// every read, so an accepted activity shows at once.
		c, err := dayCategories(r.Context(), tx, p.OrganizationID, []string{p.UserID}, t.lo, t.hi)
		if err != nil {
			return nil, err
		}
		return liveSummaryRows(r.Context(), tx, p.OrganizationID, p.UserID, t.day, t.lo, t.hi, c)
	})
}

// todayBounds is a tenant's local date with its UTC bounds.
type todayBounds struct{ day, lo, hi time.Time }

// liveDay is the tenant's today at the clock's now: the day whose
// reports are computed from the activity on every read.
func (s *server) liveDay(ctx context.Context, tx pgx.Tx, org string) (todayBounds, error) {
	var t todayBounds
	var err error
	t.day, t.lo, t.hi, err = tenantDay(ctx, tx, org, s.clock.Now())
	return t, err
}

// userReport lists one user's summaries, newest first: the user's own,
// any member's for an admin of the same organization, a member's of a
// team they manage for a manager.
func (s *server) userReport(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	userID := mux.Vars(r)["id"]
	if !p.Sees(userID) {
		return ErrUnauthorized
	}
	if !isUUID(userID) {
		return ErrUserNotFound
	}
	asCSV, err := export.WantsCSV(r)
	if err != nil {
		return err
	}
	var from, to time.Time
	err = pg.InOrg(r.Context(), s.db, p.OrganizationID, func(tx pgx.Tx) error {
		var err error
		if from, to, err = dateRange(r.Context(), tx, p.OrganizationID, r.URL.Query(), s.cfg.MaxRangeDays, s.clock.Now()); err != nil {
			return err
		}
		if userID == p.UserID {
			return nil
		}
		if err := memberExists(r.Context(), tx, userID); err != nil {
			return err
		}
		// Reading another member's report is audited; a read that could
		// not be recorded is not served.
		return recordReportAudit(r.Context(), tx, s.clock.Now(), p.UserID, auditReportRead, &userID, reportAuditDetails(from, to, asCSV))
	})
	if err != nil {
		return err
	}
	return s.streamSummaries(w, r, p.OrganizationID, false, false, nil, func(tx pgx.Tx) (pgx.Rows, error) {
		return userSummaryRows(r.Context(), tx, p.OrganizationID, userID, from, to)
	})
}

// organizationReport lists every member's summaries in a date range, by
// date (newest first), then user name; a manager's, those of the members
// of the teams they manage and their own. Admins' responses are cached per
// tenant, range and format until the tenant's summaries or names change.
func (s *server) organizationReport(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	asCSV, err := export.WantsCSV(r)
	if err != nil {
		return err
	}
	var from, to time.Time
	var version int64
	var t todayBounds
	err = pg.InOrg(r.Context(), s.db, p.OrganizationID, func(tx pgx.Tx) error {
		var err error
		if from, to, err = dateRange(r.Context(), tx, p.OrganizationID, r.URL.Query(), s.cfg.MaxRangeDays, s.clock.Now()); err != nil {
			return err
		}
		if t, err = s.liveDay(r.Context(), tx, p.OrganizationID); err != nil {
			return err
		}
		if version, err = reportVersion(r.Context(), tx, p.OrganizationID); err != nil || !asCSV {
			return err
		}
		// A CSV download takes everyone's data out of the platform: it is
		// audited, and not served unless recorded.
		return recordReportAudit(r.Context(), tx, s.clock.Now(), p.UserID, auditReportExported, nil, reportAuditDetails(from, to, asCSV))
	})
	if err != nil {
		return err
	}
	// A manager's report holds the members of the teams they manage.
	users, _ := p.Visible()
	stored := func(tx pgx.Tx) (pgx.Rows, error) {
		return organizationSummaryRows(r.Context(), tx, p.OrganizationID, users, from, to)
	}
	if !from.After(t.day) && !to.Before(t.day) {
		// Today is computed from the activity on every read, as the daily
		// report is, so such a report is not cached: its rows come first
		// (newest date), then the stored days before it.
		live := func(tx pgx.Tx) (pgx.Rows, error) {
			c, err := dayCategories(r.Context(), tx, p.OrganizationID, users, t.lo, t.hi)
			if err != nil {
				return nil, err
			}
			return liveOrganizationRows(r.Context(), tx, p.OrganizationID, users, t.day, t.lo, t.hi, c)
		}
		before := func(tx pgx.Tx) (pgx.Rows, error) {
			return organizationSummaryRows(r.Context(), tx, p.OrganizationID, users, from, t.day.AddDate(0, 0, -1))
		}
		return s.streamSummaries(w, r, p.OrganizationID, false, true, nil, live, before)
	}
	if users != nil {
		// The cache holds whole organizations' reports; a manager's
		// follows their teams, which change apart from the report version.
		return s.streamSummaries(w, r, p.OrganizationID, false, true, nil, stored)
	}
	key := p.OrganizationID + "/" + from.Format(time.DateOnly) + "/" + to.Format(time.DateOnly) + "/" + strconv.FormatBool(asCSV)
	if e, ok := s.cache.get(key, version); ok {
		e.serve(w)
		return nil
	}
	// The version was read before the rows: a change in between makes the
	// entry newer than its version says, and the next request rebuilds it.
	keep := func(contentType string, body []byte) { s.cache.put(key, version, contentType, body) }
	return s.streamSummaries(w, r, p.OrganizationID, false, true, keep, stored)
}
