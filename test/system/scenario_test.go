package systemtest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// A job triggered through the API, polled until it ends.
func (c *Client) runJob(admin Member, kind string, body any) {
	c.t.Helper()
	var job struct {
		JobID string `json:"job_id"`
	}
	c.Must(202, "POST", "/jobs/trigger/"+kind, admin.Token, body).Into(c.t, &job)
	var state struct {
		State string  `json:"state"`
		Error *string `json:"error"`
	}
	ok := WaitFor(2*time.Minute, func() bool {
		c.Must(200, "GET", "/jobs/"+job.JobID, admin.Token, nil).Into(c.t, &state)
		return state.State == "succeeded" || state.State == "failed"
	})
	if !ok || state.State != "succeeded" {
		c.t.Fatalf("%s job %s ended %q (error %v)", kind, job.JobID, state.State, state.Error)
	}
}

// Alert as the report API lists it.
type Alert struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	SessionID  *string    `json:"session_id"`
	AlertType  string     `json:"alert_type"`
	ResolvedAt *time.Time `json:"resolved_at"`
}

func (c *Client) alerts(admin Member, query string) []Alert {
	c.t.Helper()
	var out []Alert
	c.Must(200, "GET", "/alerts?limit=500"+query, admin.Token, nil).Into(c.t, &out)
	return out
}

// runReportJob runs a job command the way the operator's CronJob does.
func (p *Platform) runReportJob(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(filepath.Dir(p.cmd.Path), "report"), args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+p.PG.URL(), "KAFKA_BROKERS="+p.Kafka.Addr, "REDIS_URL="+p.Redis.URL(),
		"LOG_LEVEL=warn", "OVERTIME_THRESHOLD_HOURS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("report %v: %v\n%s", args, err, out)
	}
}

type orgCast struct {
	admin                           Member
	steady, offline, idle, inactive Member
	watcher                         *Watcher
	sessions                        map[string]string // role -> current session
	firstOffline                    string
}

func TestScenarioEveryNumberAddsUp(t *testing.T) {
	p := StartPlatform(t, "OVERTIME_THRESHOLD_HOURS=1")
	c := p.Client(t)
	ledger := NewLedger()
	now := clock.Real.Now().UTC()
	midnight := now.Truncate(24 * time.Hour)
	// Offline work covers the last 100 minutes, or all of today if today
	// is younger: the overtime alert (threshold 1 h) needs an hour today.
	offlineFrom := now.Add(-100 * time.Minute)
	if offlineFrom.Before(midnight) {
		offlineFrom = midnight.Add(time.Minute)
	}
	expectOvertime := now.Sub(offlineFrom) > 65*time.Minute
	if !expectOvertime {
		t.Logf("today (UTC) is only %s old: no overtime alert is expected", now.Sub(midnight).Round(time.Minute))
	}

	var orgs []*orgCast
	for i := 0; i < 3; i++ {
		o := &orgCast{sessions: map[string]string{}}
		o.admin = c.Register(fmt.Sprintf("admin%d@org%d.example", i, i), fmt.Sprintf("Admin %d", i), fmt.Sprintf("Org %d", i))
		o.steady = c.Invite(o.admin, fmt.Sprintf("steady@org%d.example", i), "Steady Sam", "employee")
		o.offline = c.Invite(o.admin, fmt.Sprintf("offline@org%d.example", i), "Offline Olga", "employee")
		o.idle = c.Invite(o.admin, fmt.Sprintf("idle@org%d.example", i), "Idle Ida", "employee")
		o.inactive = c.Invite(o.admin, fmt.Sprintf("gone@org%d.example", i), "Gone Gus", "employee")
		o.watcher = p.Watch(t, o.admin)
		orgs = append(orgs, o)
	}

	var wg sync.WaitGroup
	for _, o := range orgs {
		o := o
		start := now.Add(-2 * time.Hour)
		if start.Before(midnight) && now.Sub(midnight) > 2*time.Minute {
			start = midnight
		}
		for role, m := range map[string]Member{"steady": o.steady, "offline": o.offline, "idle": o.idle, "inactive": o.inactive} {
			o.sessions[role] = c.StartSession(m, start.Add(-time.Minute)).ID
		}
		o.firstOffline = o.sessions["offline"]

		// Steady: live heartbeats over the last few minutes, in parallel.
		wg.Add(1)
		go func() {
			defer wg.Done()
			agent := c.Agent(o.steady, ledger)
			beats := Heartbeats(now.Add(-5*time.Minute), 10, 30, "active")
			var inner sync.WaitGroup
			for _, b := range beats {
				inner.Add(1)
				go func() { defer inner.Done(); agent.Single(o.sessions["steady"], b) }()
			}
			inner.Wait()
			agent.Single(o.sessions["steady"], beats[0]) // an agent retrying a heartbeat already stored
		}()

		// Offline: a backlog synced in overlapping batches, each batch sent
		// twice at once (a retry racing the original), one bad item per batch.
		wg.Add(1)
		go func() {
			defer wg.Done()
			agent := c.Agent(o.offline, ledger)
			n := int(now.Sub(offlineFrom)/(30*time.Second)) - 1
			backlog := Heartbeats(offlineFrom, n, 30, "active")
			for i := 0; i < len(backlog); i += 40 {
				batch := append([]Activity{}, backlog[max(0, i-10):min(len(backlog), i+40)]...)
				batch = append(batch, Activity{ClientActivityID: fmt.Sprintf("bad-%d", i), Timestamp: now, ActivityType: "sleeping", DurationSeconds: 30})
				var inner sync.WaitGroup
				for k := 0; k < 2; k++ {
					inner.Add(1)
					go func() { defer inner.Done(); agent.Bulk(o.sessions["offline"], batch) }()
				}
				inner.Wait()
			}
		}()

		// Idle: only idle activity for the last 12 minutes.
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Agent(o.idle, ledger).Bulk(o.sessions["idle"], Heartbeats(now.Add(-12*time.Minute), 23, 30, "idle"))
		}()

		// Inactive: worked, then nothing for the last 30 minutes.
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Agent(o.inactive, ledger).Bulk(o.sessions["inactive"], Heartbeats(now.Add(-40*time.Minute), 10, 60, "active"))
		}()
	}
	wg.Wait()

	// The offline member stops and starts again; the old session takes
	// no more activity.
	for _, o := range orgs {
		c.StopSession(o.offline, o.sessions["offline"])
		late := Heartbeats(now.Add(-10*time.Second), 1, 5, "active")[0]
		if r, _ := c.Agent(o.offline, ledger).Single(o.sessions["offline"], late); r.Status != 409 {
			t.Fatalf("activity on a stopped session answered %d %s; want 409", r.Status, r.Raw)
		}
		o.sessions["offline"] = c.StartSession(o.offline, now).ID
	}

	t.Run("Every session's totals equal the sum of its distinct accepted activities.", func(t *testing.T) {
		checked, seconds := 0, int64(0)
		for _, o := range orgs {
			owned := map[string]Member{o.firstOffline: o.offline}
			for _, m := range []Member{o.steady, o.offline, o.idle, o.inactive} {
				owned[o.sessions[roleOf(o, m)]] = m
			}
			for sid, m := range owned {
				var s Session
				c.Must(200, "GET", "/sessions/"+sid, m.Token, nil).Into(t, &s)
				active, idle := ledger.Totals(sid)
				if s.TotalActiveSeconds != active || s.TotalIdleSeconds != idle {
					t.Errorf("session %s of %s: totals %d/%d; the accepted activities sum to %d/%d",
						sid, m.Email, s.TotalActiveSeconds, s.TotalIdleSeconds, active, idle)
				}
				checked++
				seconds += active + idle
			}
		}
		t.Logf("%d sessions checked, %d accepted seconds in all", checked, seconds)
		if seconds == 0 {
			t.Fatal("no activity was accepted at all")
		}
	})

	for _, o := range orgs {
		for k := 0; k < 2; k++ { // the second run must change nothing
			c.runJob(o.admin, "idle-detection", nil)
		}
	}
	p.runReportJob(t, "overtime-check", "--all")
	p.runReportJob(t, "overtime-check", "--all")

	t.Run("Idle and overtime alerts exist exactly once each.", func(t *testing.T) {
		for _, o := range orgs {
			got := map[string]int{}
			for _, a := range c.alerts(o.admin, "&status=open") {
				got[a.AlertType+":"+a.UserID]++
			}
			want := map[string]int{"idle:" + o.idle.ID: 1, "idle:" + o.inactive.ID: 1}
			if expectOvertime {
				want["overtime:"+o.offline.ID] = 1
			}
			for k, n := range want {
				if got[k] != n {
					t.Errorf("org %s: %d open %s alerts; want %d (all: %v)", o.admin.Org, got[k], k, n, got)
				}
			}
			if len(got) != len(want) {
				t.Errorf("org %s: unexpected alerts %v; want %v", o.admin.Org, got, want)
			}
		}
	})

	dates := map[string]bool{}
	for _, byDate := range ledger.Days() {
		for d := range byDate {
			dates[d] = true
		}
	}
	for _, o := range orgs {
		for d := range dates {
			c.runJob(o.admin, "daily-summary", map[string]any{"date": d})
		}
	}
	t.Run("The daily summaries equal what the activities imply.", func(t *testing.T) {
		days := ledger.Days()
		for _, o := range orgs {
			var rows []struct {
				UserID        string `json:"user_id"`
				Date          string `json:"date"`
				ActiveSeconds int64  `json:"active_seconds"`
				IdleSeconds   int64  `json:"idle_seconds"`
				TotalWork     int64  `json:"total_work_seconds"`
			}
			from, to := midnight.Add(-24*time.Hour).Format(time.DateOnly), midnight.Format(time.DateOnly)
			c.Must(200, "GET", "/reports/organization?startDate="+from+"&endDate="+to, o.admin.Token, nil).Into(t, &rows)
			seen := 0
			for _, r := range rows {
				want := days[r.UserID][r.Date]
				if r.ActiveSeconds != want.Active || r.IdleSeconds != want.Idle || r.TotalWork != want.Active+want.Idle {
					t.Errorf("summary of %s on %s: %d active, %d idle, %d total; want %d, %d, %d", r.UserID, r.Date,
						r.ActiveSeconds, r.IdleSeconds, r.TotalWork, want.Active, want.Idle, want.Active+want.Idle)
				}
				seen++
			}
			wantRows := 0
			for _, m := range []Member{o.steady, o.offline, o.idle, o.inactive} {
				wantRows += len(days[m.ID])
			}
			if seen != wantRows {
				t.Errorf("org %s has %d summary rows; want %d", o.admin.Org, seen, wantRows)
			}
		}
	})

	t.Run("Each dashboard received exactly its organization's events.", func(t *testing.T) {
		members := map[string]string{}
		for _, o := range orgs {
			for _, m := range []Member{o.admin, o.steady, o.offline, o.idle, o.inactive} {
				members[m.ID] = o.admin.Org
			}
		}
		for _, o := range orgs {
			want := ledger.StoringRequests(o.admin.Org)
			WaitFor(20*time.Second, func() bool { return o.watcher.Count("session:update") >= want })
			for _, m := range o.watcher.Messages() {
				var d struct {
					UserID string `json:"user_id"`
					Org    string `json:"organization_id"`
				}
				_ = json.Unmarshal(m.Data, &d)
				if (d.Org != "" && d.Org != o.admin.Org) || (d.UserID != "" && members[d.UserID] != o.admin.Org) {
					t.Errorf("org %s's dashboard got another organization's %s: %s", o.admin.Org, m.Event, m.Data)
				}
			}
			t.Logf("org %s: %d requests stored activity; the dashboard got %d messages", o.admin.Org, want, len(o.watcher.Messages()))
			if got := o.watcher.Count("session:update"); got != want {
				t.Errorf("org %s's dashboard got %d session:update; %d requests stored activity", o.admin.Org, got, want)
			}
			if got := o.watcher.Count("alert:inactive"); got != 2 {
				t.Errorf("org %s's dashboard got %d alert:inactive; want 2", o.admin.Org, got)
			}
			if expectOvertime && o.watcher.Count("alert:overtime") != 1 {
				t.Errorf("org %s's dashboard got %d alert:overtime; want 1", o.admin.Org, o.watcher.Count("alert:overtime"))
			}
		}
	})

	t.Run("An idle alert resolves itself when active work resumes.", func(t *testing.T) {
		o := orgs[0]
		c.Agent(o.idle, ledger).Single(o.sessions["idle"], Heartbeats(clock.Real.Now().Add(-40*time.Second), 1, 30, "active")[0])
		ok := WaitFor(20*time.Second, func() bool {
			for _, a := range c.alerts(o.admin, "&type=idle&status=resolved") {
				if a.UserID == o.idle.ID {
					return true
				}
			}
			return false
		})
		if !ok {
			t.Fatal("the idle alert is still open after active work resumed")
		}
	})
}

func roleOf(o *orgCast, m Member) string {
	switch m.ID {
	case o.steady.ID:
		return "steady"
	case o.offline.ID:
		return "offline"
	case o.idle.ID:
		return "idle"
	}
	return "inactive"
}
