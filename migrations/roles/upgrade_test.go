package roles_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"

	"github.com/workpulse/workpulse/migrations"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestNoPostOfThePreviousReleaseFailsWhileThisReleasesMigrationsRun upgrades
// a database of the previous release (hack/upgrade-from, set up by its own
// `migrate up`) to this tree's migrations while that release's ingest,
// built from its sources and logged in as its role, takes a steady load of
// posts: new activity one by one and in bulk, and uploads sent again, whose
// duplicates read the stored activity back; beside them its report role
// reads the activity. That is an upgrade under load before the new pods
// start. Every post must be answered 2xx and every read
// succeed: a migration that closes a lock cycle with them (the server
// fails one of the transactions to break it), waits past a lock timeout,
// or leaves an old role without a privilege or function it uses, fails
// one here. That depends on which transactions meet at that moment, so no
// transaction may hold a written table exclusively while it waits long for
// another lock, either: that wait is the cycle's cause. And every accepted
// second must be in its session's totals.
func TestNoPostOfThePreviousReleaseFailsWhileThisReleasesMigrationsRun(t *testing.T) {
	bin := testkit.PreviousReleaseBinaries(t, "./services/ingest/cmd/ingest", "./migrations/cmd/migrate")
	cases := []struct {
		name    string
		migrate func(t *testing.T, db *testkit.DB) ([]string, error)
	}{
		{"Every pending migration and the grants in one migrate up, as the upgrade's hook runs them, fail no post.", migrateUp},
		{"Each pending migration applied on its own, the previous release still serving after each, then the grants, fail no post.", migrateOneByOne},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, _ := testkit.NewRolledBackDB(t)
			previousMigrateUp(t, bin, db)
			base := startPreviousIngest(t, bin, db)
			load := startPosting(t, db, base, 6)
			// The load runs before, during and after the migrations.
			load.waitForPosts(t, 200)
			before := load.posts.Load()
			applied, err := c.migrate(t, db)
			during := load.posts.Load() - before
			if err == nil {
				load.waitForPosts(t, load.posts.Load()+100)
			}
			load.stop()

			for _, f := range load.failures() {
				t.Error(f)
			}
			if err != nil {
				t.Fatalf("the migrations failed beside the previous release after %v: %v", applied, err)
			}
			if len(applied) == 0 {
				t.Fatal("no migration was pending after the previous release's: the test upgraded nothing")
			}
			if during == 0 {
				t.Error("no post was answered while the migrations ran: the load did not overlap them")
			}
			load.assertTotals(t, db)
			t.Logf("%d migrations applied; %d posts in all, %d while they ran", len(applied), load.posts.Load(), during)
		})
	}
}

// previousMigrateUp sets db up as the previous release's migrate up leaves it:
// its migrations, its grants and its storage maintenance.
func previousMigrateUp(t *testing.T, bin string, db *testkit.DB) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "migrate"), "up")
	cmd.Env = []string{"DATABASE_URL=" + db.URL}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the previous release's migrate up: %v\n%s", err, out)
	}
}

// migrateUp is this release's migrate up: every pending migration, then the grants.
func migrateUp(t *testing.T, db *testkit.DB) ([]string, error) {
	t.Helper()
	m, err := migrations.Open(db.URL, testkit.Roles)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	return m.Up(context.Background())
}

// migrateOneByOne applies the pending migrations one at a time without the
// grants, as a release whose hook stopped between two of them would leave
// the database while the previous release serves, and then migrate up's
// grants.
func migrateOneByOne(t *testing.T, db *testkit.DB) ([]string, error) {
	t.Helper()
	p := migrationsAlone(t, db)
	var applied []string
	for {
		res, err := p.UpByOne(context.Background())
		if errors.Is(err, goose.ErrNoNextVersion) {
			break
		}
		if err != nil {
			return applied, err
		}
		applied = append(applied, res.Source.Path)
	}
	grants, err := migrateUp(t, db)
	return append(applied, grants...), err
}

// startPreviousIngest runs the previous release's ingest on db, logged in as
// its default role, with its own broker and token keys; it returns its URL.
func startPreviousIngest(t *testing.T, bin string, db *testkit.DB) string {
	t.Helper()
	jwks, signer := testkit.JWKS(t)
	tokenSigner = signer
	addr := testkit.FreeAddr(t)
	testkit.StartBinary(t, filepath.Join(bin, "ingest"), "http://"+addr+"/readyz", []string{
		"HTTP_ADDR=" + addr, "DATABASE_URL=" + db.URL, "KAFKA_BROKERS=" + strings.Join(testkit.Kafka(t), ","),
		"KAFKA_TOPIC_PARTITIONS=1", "JWKS_URL=" + jwks, "LOG_LEVEL=warn",
	})
	return "http://" + addr
}

// tokenSigner signs the load's tokens with the key the running ingest trusts.
var tokenSigner authn.Signer

// postLoad is agents posting to the previous release's ingest until stopped.
type postLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	posts  atomic.Int64
	mu     sync.Mutex
	failed []string
	// accepted is the active seconds each session's answers accepted.
	accepted map[string]int64
}

// postSeconds is each activity's duration.
const postSeconds = 5

// startPosting starts agents, each on a session of its own in an
// organization of its own: each round posts a new activity, sends the
// previous one again (a duplicate, answered from the stored activity), and
// every fourth round uploads a bulk of new activities with one sent again.
// An agent stops after the request under way when the load is stopped.
func startPosting(t *testing.T, db *testkit.DB, base string, agents int) *postLoad {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &postLoad{cancel: cancel, accepted: map[string]int64{}}
	t.Cleanup(l.stop)
	client := &http.Client{Timeout: 30 * time.Second}
	start := clock.Real.Now().Add(-time.Hour).UTC()
	db.EnsureActivityMonth(t, start)
	db.EnsureActivityMonth(t, clock.Real.Now())
	var orgs []string
	for range agents {
		p := testkit.Member("", authn.RoleEmployee)
		token, err := tokenSigner.Sign(p, clock.Real.Now())
		if err != nil {
			t.Fatal(err)
		}
		session := uuid.NewString()
		if _, err := db.Owner.Exec(context.Background(), "INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, status) VALUES ($1, $2, $3, $4, 'active')",
			session, p.OrganizationID, p.UserID, start); err != nil {
			t.Fatal(err)
		}
		activity := func(at time.Time) map[string]any {
			return map[string]any{"client_activity_id": uuid.NewString(), "timestamp": at.Format(time.RFC3339Nano),
				"activity_type": "active", "duration_seconds": postSeconds}
		}
		one, bulk := base+"/api/sessions/"+session+"/activity", base+"/api/sessions/"+session+"/activity/bulk"
		orgs = append(orgs, p.OrganizationID)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			at := start
			var last map[string]any
			for round := 0; ctx.Err() == nil; round++ {
				at = at.Add(time.Millisecond)
				post := activity(at)
				if l.send(client, one, token, post, nil, http.StatusCreated) == http.StatusCreated {
					l.accept(session, postSeconds)
				}
				// Stored already, unless its first send failed.
				if last != nil && l.send(client, one, token, last, nil, http.StatusOK, http.StatusCreated) == http.StatusCreated {
					l.accept(session, postSeconds)
				}
				last = post
				if round%4 != 3 {
					continue
				}
				items := []map[string]any{last}
				for range 9 {
					at = at.Add(time.Millisecond)
					items = append(items, activity(at))
				}
				var res struct {
					Uploaded int64 `json:"uploaded"`
				}
				if l.send(client, bulk, token, map[string]any{"activities": items}, &res, http.StatusCreated) == http.StatusCreated {
					l.accept(session, res.Uploaded*postSeconds)
				}
			}
		}()
	}
	l.wg.Add(1)
	go l.read(ctx, db.Pool(t, "workpulse_report"), orgs)
	l.wg.Add(1)
	go l.watchLocks(ctx, db)
	return l
}

// writtenTables are the tables every post writes.
var writtenTables = []string{"tracking.work_sessions", "tracking.activity_logs", "tracking.activity_dedup", "tracking.tenants"}

// exclusiveWait is how long a transaction may wait for a lock while it holds
// a written table exclusively: every post needing that table waits behind
// it meanwhile, and a post that holds what it waits for closes a cycle the
// server breaks after its 1 s deadlock check by failing one of them.
const exclusiveWait = 500 * time.Millisecond

// watchLocks records every transaction seen holding a written table in
// ACCESS EXCLUSIVE mode while it waits longer than exclusiveWait for
// another lock. Whether a post then fails depends on which transactions
// meet in that moment; the wait itself is the cause, so it fails the test
// on every run.
func (l *postLoad) watchLocks(ctx context.Context, db *testkit.DB) {
	defer l.wg.Done()
	seen := map[string]bool{}
	for ctx.Err() == nil {
		rows, err := db.Owner.Query(context.Background(), `
			SELECT DISTINCT h.relation::regclass::text, w.relation::regclass::text FROM pg_locks w
			JOIN pg_locks h ON h.pid = w.pid AND h.granted AND h.locktype = 'relation' AND h.mode = 'AccessExclusiveLock'
			WHERE NOT w.granted AND w.locktype = 'relation' AND w.waitstart < clock_timestamp() - $2::interval
			  AND h.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			  AND h.relation::regclass::text = ANY ($1)`, writtenTables, exclusiveWait.String())
		if err == nil {
			var held, waited string
			_, err = pgx.ForEachRow(rows, []any{&held, &waited}, func() error {
				if f := "holding " + held + " exclusively while waiting for " + waited; !seen[f] {
					seen[f] = true
					l.fail(fmt.Sprintf("%s a transaction was %s for over %s", now(), f, exclusiveWait))
				}
				return nil
			})
		}
		if err != nil {
			l.fail(fmt.Sprintf("%s reading pg_locks: %v", now(), err))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// read is the previous release's report service reading the organizations'
// activity while the agents post: each read holds its transaction open for
// most of a second, as a report over a long range does, so a migration that
// waits for activity_logs while holding another written table waits long
// enough for posts to queue on that table holding what the migration needs
// next (the posts wait less than the server's 1 s deadlock check before
// the cycle closes, so the check finds it when it runs).
func (l *postLoad) read(ctx context.Context, report *pgxpool.Pool, orgs []string) {
	defer l.wg.Done()
	for i := 0; ctx.Err() == nil; i++ {
		err := pgx.BeginFunc(context.Background(), report, func(tx pgx.Tx) error {
			if _, err := tx.Exec(context.Background(), "SELECT set_config('app.org_id', $1, true)", orgs[i%len(orgs)]); err != nil {
				return err
			}
			if _, err := tx.Exec(context.Background(), "SELECT count(*) FROM tracking.activity_logs"); err != nil {
				return err
			}
			time.Sleep(700 * time.Millisecond)
			return nil
		})
		if err != nil {
			l.fail(fmt.Sprintf("%s the report role's read of activity_logs: %v", now(), err))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// send posts body and returns the answer's status, decoding the answer into
// out when not nil; an answer with none of the statuses want, or that does
// not decode, is recorded as a failure (status 0).
func (l *postLoad) send(client *http.Client, url, token string, body, out any, want ...int) int {
	status, raw, err := testkit.Request(client, http.MethodPost, url, token, body)
	l.posts.Add(1)
	if err == nil && slices.Contains(want, status) && out != nil {
		err = json.Unmarshal(raw, out)
	}
	switch {
	case err != nil:
		l.fail(fmt.Sprintf("%s POST %s: %v", now(), url, err))
	case !slices.Contains(want, status):
		l.fail(fmt.Sprintf("%s POST %s: %d, want %v: %s", now(), url, status, want, raw))
	default:
		return status
	}
	return 0
}

func (l *postLoad) fail(f string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed = append(l.failed, f)
}

// now is the wall clock's time of day, to set a failure beside the server's log.
func now() string { return clock.Real.Now().UTC().Format("15:04:05.000") }

func (l *postLoad) accept(session string, seconds int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.accepted[session] += seconds
}

func (l *postLoad) stop() {
	l.cancel()
	l.wg.Wait()
}

// waitForPosts waits until the load has been answered n times.
func (l *postLoad) waitForPosts(t *testing.T, n int64) {
	t.Helper()
	watch := clock.Start()
	for l.posts.Load() < n {
		if watch.Elapsed() > 2*time.Minute {
			t.Fatalf("the load was answered %d times in 2 minutes, want %d: %v", l.posts.Load(), n, l.failures())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// failures are the load's failed posts so far, the first ten of them.
func (l *postLoad) failures() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failed) > 10 {
		return append(l.failed[:10:10], fmt.Sprintf("and %d more", len(l.failed)-10))
	}
	return slices.Clone(l.failed)
}

// assertTotals checks that each session's active total is exactly what its
// answers accepted.
func (l *postLoad) assertTotals(t *testing.T, db *testkit.DB) {
	t.Helper()
	for session, want := range l.accepted {
		var got int64
		if err := db.Owner.QueryRow(context.Background(), "SELECT total_active_seconds FROM tracking.work_sessions WHERE id = $1", session).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("session %s totals %d active seconds, its answers accepted %d", session, got, want)
		}
	}
}
