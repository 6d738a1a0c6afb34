package systemtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/kafkax"
)

// load keeps single and bulk activity flowing from every member until
// stopped, counting definitive answers.
type load struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	accepted atomic.Int64
	errors   atomic.Int64
}

func startLoad(t *testing.T, c *Client, ledger *Ledger, members []Member, sessions map[string]string, start time.Time) *load {
	l := &load{stop: make(chan struct{})}
	for i, m := range members {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			agent := c.Agent(m, ledger)
			sid := sessions[m.ID]
			// Each member's activities follow each other from the session
			// start; ten-second heartbeats never run past now.
			next := start.Add(time.Duration(i) * time.Second)
			var sent []Activity
			for round := 0; ; round++ {
				select {
				case <-l.stop:
					return
				default:
				}
				if round%5 == 4 {
					batch := Heartbeats(next, 20, 10, []string{"active", "idle"}[round%2])
					next = batch[len(batch)-1].Timestamp.Add(10 * time.Second)
					if len(sent) >= 5 {
						batch = append(batch, sent[len(sent)-5:]...) // a retry repeats items
					}
					res, r, err := agent.Bulk(sid, batch)
					l.count(r, err, res.Uploaded+res.Duplicates > 0)
					sent = append(sent, batch[:20]...)
				} else {
					beat := Heartbeats(next, 1, 10, "active")[0]
					next = beat.Timestamp.Add(10 * time.Second)
					r, err := agent.Single(sid, beat)
					l.count(r, err, r.Status == 201 || r.Status == 200)
					sent = append(sent, beat)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	return l
}

func (l *load) count(r Resp, err error, ok bool) {
	if ok {
		l.accepted.Add(1)
	} else {
		l.errors.Add(1)
	}
}

func (l *load) halt() { close(l.stop); l.wg.Wait() }

// steady reports whether the load is still being accepted.
func (l *load) steady(t *testing.T, within time.Duration) {
	t.Helper()
	before := l.accepted.Load()
	if !WaitFor(within, func() bool { return l.accepted.Load() > before+5 }) {
		t.Fatalf("the load stalled: %d accepted before, %d after %s", before, l.accepted.Load(), within)
	}
}

func TestFaultsLoseNothingAndCountNothingTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault suite takes a few minutes")
	}
	p := StartPlatform(t)
	c := p.Client(t)
	ledger := NewLedger()
	// The load's heartbeats run from three weeks back, so that they never
	// reach the future however long the faults take; the previous month's
	// partition is made as the operator would.
	start := clock.Real.Now().UTC().Add(-21 * 24 * time.Hour).Truncate(time.Second)
	if _, err := p.PG.Conn(t).Exec(context.Background(),
		"SELECT tracking.ensure_month_partition('activity_logs_shared', (now() - interval '1 month')::date)"); err != nil {
		t.Fatal(err)
	}
	var members []Member
	sessions := map[string]string{}
	for i := 0; i < 2; i++ {
		admin := c.Register(fmt.Sprintf("admin@fault%d.example", i), "Admin", fmt.Sprintf("Fault %d", i))
		for j := 0; j < 3; j++ {
			m := c.Invite(admin, fmt.Sprintf("e%d@fault%d.example", j, i), "Employee", "employee")
			members = append(members, m)
			sessions[m.ID] = c.StartSession(m, start).ID
		}
	}
	l := startLoad(t, c, ledger, members, sessions, start)
	defer func() {
		t.Logf("load: %d definitive accepted answers, %d refusals", l.accepted.Load(), l.errors.Load())
	}()
	l.steady(t, 30*time.Second)

	for _, svc := range routes.Services {
		t.Run("kill -9 of "+svc.Name+" loses nothing", func(t *testing.T) {
			p.Kill9(t, svc.Name)
			p.WaitHealthy(t, time.Minute)
			l.steady(t, 30*time.Second)
		})
	}

	t.Run("With the Kafka broker unreachable the API keeps accepting writes", func(t *testing.T) {
		p.Kafka.Down()
		l.steady(t, 30*time.Second)
		time.Sleep(3 * time.Second)
		p.Kafka.Up()
		l.steady(t, 30*time.Second)
	})

	t.Run("While PostgreSQL restarts requests fail fast with 503 and readiness goes false", func(t *testing.T) {
		if err := p.PG.Stop(); err != nil {
			t.Fatal(err)
		}
		began := clock.Start()
		r, err := c.Do("POST", "/sessions/"+sessions[members[0].ID]+"/activity", members[0].Token,
			Heartbeats(clock.Real.Now().Add(-time.Hour), 1, 5, "active")[0])
		if err != nil || r.Status != 503 || r.Code() != "SYSTEM_SERVICE_UNAVAILABLE" {
			t.Errorf("with the database down: %v %d %s; want 503 SYSTEM_SERVICE_UNAVAILABLE", err, r.Status, r.Raw)
		}
		if took := began.Elapsed(); took > 5*time.Second {
			t.Errorf("the 503 took %s; want it fast", took)
		}
		if code := status(p.ServiceURL(routes.Ingest) + "/readyz"); code != 503 {
			t.Errorf("ingest's /readyz answered %d with the database down; want 503", code)
		}
		time.Sleep(2 * time.Second)
		if err := p.PG.Start(); err != nil {
			t.Fatal(err)
		}
		p.WaitHealthy(t, time.Minute)
		l.steady(t, 30*time.Second)
	})

	t.Run("With Redis stopped the API keeps working", func(t *testing.T) {
		p.Redis.Stop()
		l.steady(t, 30*time.Second)
		r, err := c.Do("POST", "/auth/login", "", map[string]any{"email": "admin@fault0.example", "password": "correct horse battery"})
		if err != nil || r.Status != 200 {
			t.Errorf("login with Redis down: %v %d %s", err, r.Status, r.Raw)
		}
		if code := status(p.URL + "/health"); code != 503 {
			t.Errorf("/api/health answered %d with Redis down; want 503 naming it", code)
		}
		if err := p.Redis.Start(); err != nil {
			t.Fatal(err)
		}
		p.WaitHealthy(t, time.Minute)
		l.steady(t, 30*time.Second)
	})

	l.halt()

	t.Run("Every total equals the distinct accepted activities", func(t *testing.T) {
		for _, m := range members {
			sid := sessions[m.ID]
			var s Session
			c.Must(200, "GET", "/sessions/"+sid, m.Token, nil).Into(t, &s)
			active, idle := ledger.Totals(sid)
			if s.TotalActiveSeconds != active || s.TotalIdleSeconds != idle {
				var storedActive, storedIdle int64
				_ = p.PG.Conn(t).QueryRow(context.Background(), `SELECT coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'active'), 0),
					coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'idle'), 0) FROM tracking.activity_logs WHERE session_id = $1`, sid).Scan(&storedActive, &storedIdle)
				t.Errorf("session %s: totals %d/%d; accepted activities sum to %d/%d; stored rows sum to %d/%d",
					sid, s.TotalActiveSeconds, s.TotalIdleSeconds, active, idle, storedActive, storedIdle)
			}
		}
	})

	t.Run("Every outbox drains and no consumer is left behind", func(t *testing.T) {
		db := p.PG.Conn(t)
		ok := WaitFor(60*time.Second, func() bool {
			var n int
			err := db.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM auth.outbox) + (SELECT count(*) FROM tracking.outbox) + (SELECT count(*) FROM reporting.outbox)").Scan(&n)
			return err == nil && n == 0
		})
		if !ok {
			t.Fatal("events are still waiting in an outbox a minute after the faults")
		}
		if lag := groupLag(t, p.Kafka.Addr, 60*time.Second); len(lag) > 0 {
			t.Fatalf("consumer groups still behind: %v", lag)
		}
	})
}

func status(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// groupLag waits for every stable consumer group to commit up to the end
// of the partitions it consumes and returns those that did not.
func groupLag(t *testing.T, broker string, within time.Duration) map[string]int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second}
	ctx := context.Background()
	var lag map[string]int64
	WaitFor(within, func() bool {
		lag = map[string]int64{}
		groups, err := client.ListGroups(ctx, &kafka.ListGroupsRequest{})
		if err != nil {
			lag["list-groups"] = -1
			return false
		}
		for _, g := range groups.Groups {
			desc, err := client.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{g.GroupID}})
			if err != nil || len(desc.Groups) == 0 || desc.Groups[0].GroupState != "Stable" {
				continue // a replica's group from before a crash
			}
			// Partitions a group never committed are topics it does not read.
			n, err := kafkax.GroupLag(ctx, []string{broker}, kafkax.Security{}, g.GroupID, events.AllTopics, true)
			if err != nil || n > 0 {
				lag[g.GroupID] = n
			}
		}
		return len(lag) == 0
	})
	return lag
}
