package report

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestTriggersOfARunningJobGetItBackAndLeaveThePoolToOtherRequests(t *testing.T) {
	e := newEnv(t)
	// The service's default pool size (DATABASE_MAX_CONNS 16), smaller
	// than the flood of triggers below.
	e.pool = e.db.PoolOf(t, "workpulse_report", 16)
	e.jobs = NewJobs(e.pool, e.cfg, e.log, e.clock)
	f := fixtureOn(t, e)
	org := f.admin.OrganizationID
	token := f.iss.Token(t, f.admin)
	client := &http.Client{Timeout: 2 * time.Second}
	post := func(path string) (int, triggerResponse, error) {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return 0, triggerResponse{}, err
		}
		defer resp.Body.Close()
		var tr triggerResponse
		return resp.StatusCode, tr, json.NewDecoder(resp.Body).Decode(&tr)
	}

	// A summary already running for the organization (a CronJob's, say)
	// keeps the triggered one waiting for its turn.
	conn, err := e.db.Owner.Acquire(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(e.ctx, "SELECT pg_advisory_lock(hashtext('report:'||$1), hashtext($2))", JobDailySummary, org); err != nil {
		t.Fatal(err)
	}
	locked := true
	unlock := func() {
		if locked {
			locked = false
			if _, err := conn.Exec(e.ctx, "SELECT pg_advisory_unlock(hashtext('report:'||$1), hashtext($2))", JobDailySummary, org); err != nil {
				t.Error(err)
			}
		}
	}
	defer unlock()

	const triggers = 20
	ids := make([]string, triggers)
	errs := make([]error, triggers)
	var wg sync.WaitGroup
	for i := range triggers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, tr, err := post("/api/jobs/trigger/daily-summary")
			if err == nil && code != http.StatusAccepted {
				err = fmt.Errorf("status %d", code)
			}
			ids[i], errs[i] = tr.JobID, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("trigger %d: %v", i, err)
		}
		if ids[i] != ids[0] || ids[i] == "" {
			t.Fatalf("trigger %d got job %q, trigger 0 job %q: want one job", i, ids[i], ids[0])
		}
	}
	if n := f.count("SELECT count(*) FROM reporting.jobs WHERE organization_id = $1 AND job_type = $2", org, JobDailySummary); n != 1 {
		t.Errorf("%d jobs recorded, want 1", n)
	}

	// The waiting job holds one connection; everything else is answered.
	for i := range 2 * triggers {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/api/reports/daily?date=2026-05-04", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("report request %d while the job waits: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("report request %d while the job waits: %d", i, resp.StatusCode)
		}
	}
	if job := decode[JobView](t, f.do("GET", "/api/jobs/"+ids[0], &f.admin, "")); job.State != "running" {
		t.Errorf("the job reads %s while it waits, want running", job.State)
	}

	unlock()
	eventually(t, 10*time.Second, "the job to end", func() bool {
		return decode[JobView](t, f.do("GET", "/api/jobs/"+ids[0], &f.admin, "")).State == "succeeded"
	})
	// Once it has ended, a trigger starts a new job.
	code, next, err := post("/api/jobs/trigger/daily-summary")
	if err != nil || code != http.StatusAccepted || next.JobID == ids[0] || strings.Contains(next.Message, "already") {
		t.Errorf("a trigger after the job ended: %d %+v (%v), want a new job", code, next, err)
	}
}

func TestAJobWhoseProcessDiedDoesNotBlockItsKind(t *testing.T) {
	f := newFixture(t)
	dead := uuid.NewString()
	f.exec(`INSERT INTO reporting.jobs (id, organization_id, job_type, state, started_at, heartbeat_at)
		VALUES ($1, $2, 'idle-detection', 'running', $3::timestamptz - interval '5 minutes', $3::timestamptz - interval '2 minutes')`,
		dead, f.admin.OrganizationID, f.clock.Now())
	r := f.do("POST", "/api/jobs/trigger/idle-detection", &f.admin, "")
	tr := decode[triggerResponse](t, r)
	if r.status != http.StatusAccepted || tr.JobID == dead || tr.JobID == "" {
		t.Fatalf("trigger beside a dead job: %d %s", r.status, r.body)
	}
	var state, msg string
	if err := f.db.Owner.QueryRow(f.ctx, "SELECT state, error FROM reporting.jobs WHERE id = $1", dead).Scan(&state, &msg); err != nil {
		t.Fatal(err)
	}
	if state != "failed" || msg != staleJobError {
		t.Errorf("the dead job is %s (%q), want failed as stale", state, msg)
	}
}
