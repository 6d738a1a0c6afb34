package systemtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
)

// searchDatabases lists, for each of texts, the tables of every schema of
// every database of the platform's server whose rows hold it somewhere
// (any column, as the row's text), as "database: schema.table".
func searchDatabases(t *testing.T, pg *Postgres, texts []string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pg.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	databases, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	found := map[string][]string{}
	for _, db := range databases {
		conn, err := pgx.Connect(ctx, strings.Replace(pg.AdminURL(), "/postgres?", "/"+db+"?", 1))
		if err != nil {
			t.Fatal(err)
		}
		// Tables and materialized views, partitions included (a
		// partitioned table's rows are its partitions').
		rows, err := conn.Query(ctx, `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, table := range tables {
			rows, err := conn.Query(ctx, "SELECT s FROM unnest($1::text[]) s WHERE EXISTS (SELECT 1 FROM "+table+" t WHERE strpos(t::text, s) > 0)", texts)
			if err != nil {
				t.Fatalf("searching %s %s: %v", db, table, err)
			}
			hits, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatalf("searching %s %s: %v", db, table, err)
			}
			for _, s := range hits {
				found[s] = append(found[s], db+": "+table)
			}
		}
		conn.Close(ctx)
	}
	return found
}

// redisSnapshot is everything Redis holds, as an uncompressed dump, so
// that a value of any type is searched as the bytes it stores.
func redisSnapshot(t *testing.T, r *Redis) []byte {
	t.Helper()
	cli := func(args ...string) {
		t.Helper()
		out, err := exec.Command("redis-cli", append([]string{"-p", strconv.Itoa(r.Port)}, args...)...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "OK") {
			t.Fatalf("redis-cli %v: %v %s", args, err, out)
		}
	}
	cli("CONFIG", "SET", "rdbcompression", "no")
	cli("SAVE")
	dump, err := os.ReadFile(filepath.Join(r.dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	return dump
}

// TestRedactedTextReachesNoTableOutboxTopicOrCache sets redaction rules of
// every action and sends activity each rule matches, through the single
// and the bulk post, while Kafka is down so that the events wait in the
// outboxes: the text each rule redacts is in no table of any schema (the
// outboxes included), neither then nor once the events went out and the
// day was summarized; nor in any record of any Kafka topic, nor on the
// live board, nor in Redis, nor in an answer or the platform's log. The stored activity, as the
// member's export shows it, is what the rules leave of it, and a URL no
// rule matches is kept and found by the same search.
func TestRedactedTextReachesNoTableOutboxTopicOrCache(t *testing.T) {
	p := StartPlatform(t)
	c := p.Client(t)
	suffix := strconv.FormatInt(clock.Real.Now().UnixNano(), 36)
	admin := c.Register("ada-"+suffix+"@example.com", "Ada Admin", "Redaction Org "+suffix)
	member := c.Invite(admin, "rita-"+suffix+"@example.com", "Rita Redacted "+suffix, "employee")
	c.Must(200, "PUT", "/organization/redaction-rules", admin.Token, map[string]any{"rules": []map[string]any{
		{"match": "host", "pattern": "intranet.example.com", "action": "host_only"},
		{"match": "host", "pattern": "bank.example.com", "action": "drop"},
		{"match": "path_prefix", "pattern": "/medical", "action": "category", "category": "health"},
		{"match": "regex", "pattern": "^Diary: ", "action": "category", "category": "personal"},
		{"match": "regex", "pattern": "^https?://", "action": "drop_query"},
	}})

	// Every secret is unique to this run, so that finding it anywhere can
	// only mean it was stored or sent.
	secret := func(what string) string { return what + "-" + suffix }
	secrets := []string{secret("salaries"), secret("employee"), secret("fragment"), secret("account"), secret("clinic"),
		secret("diagnosis"), secret("diary"), secret("query"), secret("anchor")}
	visible := "https://visible-" + suffix + ".example.com/ok"
	sent := []struct{ url, stored string }{
		{"https://intranet.example.com/hr/" + secrets[0] + "?who=" + secrets[1] + "#" + secrets[2], "https://intranet.example.com"},
		{"https://bank.example.com/accounts/" + secrets[3], ""},
		{"https://" + secrets[4] + ".example.org/medical/" + secrets[5], "category:health"},
		{"Diary: " + secrets[6], "category:personal"},
		{"https://search.example.net/results?q=" + secrets[7] + "#" + secrets[8], "https://search.example.net/results"},
		{visible, visible},
	}

	now := clock.Real.Now().UTC()
	start := now.Add(-20 * time.Minute).Truncate(time.Minute)
	if midnight := now.Truncate(24 * time.Hour); start.Before(midnight) {
		start = midnight
	}
	// The admin watches the live board, so that Redis holds the
	// organization's presence and realtime relays the activity.
	board := p.Watch(t, admin)
	s := c.StartSession(member, start)
	var answers [][]byte
	p.Kafka.Down()
	agent := c.Agent(member, NewLedger())
	var bulk []Activity
	for i, a := range sent {
		act := Activity{ClientActivityID: uuid.NewString(), Timestamp: start.Add(time.Duration(i) * time.Minute), ActivityType: "active",
			DurationSeconds: 60, URL: a.url}
		if i%2 == 1 {
			bulk = append(bulk, act)
			continue
		}
		r, err := agent.Single(s.ID, act)
		if err != nil || r.Status != 201 {
			t.Fatalf("posting %q: %d %s %v", a.url, r.Status, r.Raw, err)
		}
		answers = append(answers, r.Raw)
	}
	res, r, err := agent.Bulk(s.ID, bulk)
	if err != nil || res.Uploaded != len(bulk) {
		t.Fatalf("the bulk post: %+v %d %s %v", res, r.Status, r.Raw, err)
	}
	answers = append(answers, r.Raw)

	db := p.PG.Conn(t)
	waiting := func() int {
		t.Helper()
		var n int
		err := db.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM auth.outbox) + (SELECT count(*) FROM tracking.outbox)
			+ (SELECT count(*) FROM reporting.outbox)`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var pending int
	if err := db.QueryRow(context.Background(), "SELECT count(*) FROM tracking.outbox WHERE payload->'data'->>'session_id' = $1", s.ID).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	if pending == 0 {
		t.Fatal("no event of the session waits in tracking's outbox while Kafka is down: the outbox search would prove nothing")
	}
	searched := append(slices.Clone(secrets), visible)
	checkDatabases := func(when string) {
		t.Helper()
		found := searchDatabases(t, p.PG, searched)
		for _, s := range secrets {
			if len(found[s]) > 0 {
				t.Errorf("%s, %q is stored in %v", when, s, found[s])
			}
		}
		// Activity is stored in monthly partitions of the activity table.
		if !slices.ContainsFunc(found[visible], func(table string) bool { return strings.HasPrefix(table, "workpulse: tracking.activity_logs") }) {
			t.Errorf("%s, the URL no rule matches is not found in tracking's activity but in %v: the search is blind", when, found[visible])
		}
	}
	checkDatabases(fmt.Sprintf("with %d events of the session in the outbox", pending))

	p.Kafka.Up()
	if !WaitFor(time.Minute, func() bool { return waiting() == 0 }) {
		t.Fatalf("a minute after Kafka came back, %d events still wait in the outboxes", waiting())
	}
	c.runJob(admin, "daily-summary", map[string]any{"date": start.Format(time.DateOnly)})
	checkDatabases("after the relay and the day's summary")

	var export memberExport
	c.Must(200, "GET", "/users/me/export", member.Token, nil).Into(t, &export)
	var stored, want []string
	for _, a := range export.Tracking.Activity {
		u, _ := a["url"].(string)
		stored = append(stored, u)
	}
	for _, a := range sent {
		want = append(want, a.stored)
	}
	slices.Sort(stored)
	slices.Sort(want)
	if !slices.Equal(stored, want) {
		t.Errorf("the stored urls are %q; want %q", stored, want)
	}

	records := testkit.AllRecords(t, p.Kafka.Addr)
	var ofSession int
	for _, m := range records {
		if bytes.Contains(m.Value, []byte(s.ID)) {
			ofSession++
		}
		var headers []byte
		for _, h := range m.Headers {
			headers = append(append(headers, h.Key...), h.Value...)
		}
		for _, s := range secrets {
			if bytes.Contains(m.Value, []byte(s)) || bytes.Contains(m.Key, []byte(s)) || bytes.Contains(headers, []byte(s)) {
				t.Errorf("%s/%d@%d carries %q: %s", m.Topic, m.Partition, m.Offset, s, m.Value)
			}
		}
	}
	if ofSession < len(sent)/2+1 {
		t.Errorf("%d of the %d records in Kafka name the session; want at least one per post", ofSession, len(records))
	}

	var live []byte
	for _, m := range board.Messages() {
		live = append(append(append(live, m.Event...), m.Data...), '\n')
	}
	if !bytes.Contains(live, []byte(s.ID)) {
		t.Errorf("the live board had no message naming the session: %s", live)
	}
	dump := redisSnapshot(t, p.Redis)
	if !bytes.Contains(dump, []byte(admin.Org)) {
		t.Errorf("Redis's dump (%d bytes) does not name the organization the board watches: the search is blind", len(dump))
	}
	logs := p.logs.tail(5000)
	for _, s := range secrets {
		if bytes.Contains(live, []byte(s)) {
			t.Errorf("the live board was sent %q", s)
		}
		if bytes.Contains(dump, []byte(s)) {
			t.Errorf("Redis holds %q", s)
		}
		if strings.Contains(logs, s) {
			t.Errorf("the platform's log holds %q", s)
		}
		for _, a := range answers {
			if bytes.Contains(a, []byte(s)) {
				t.Errorf("an answer to a post holds %q: %s", s, a)
			}
		}
	}
}
