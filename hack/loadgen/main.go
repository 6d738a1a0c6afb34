// Command loadgen benchmarks the tracking path of a running WorkPulse
// (make dev's front door by default): it registers an organization,
// invites and registers users, starts one session each, then measures
// single-activity posts at a fixed concurrency and 1,000-item bulk
// uploads, checks that the session totals equal the sum of everything
// the API accepted, and writes the results into a section of
// docs/benchmarks.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

type config struct {
	Target, AuthURL, SessionURL, IngestURL string
	Users, Concurrency                     int
	Duration                               time.Duration
	BulkSize, BulkBatches, BulkConcurrency int
	Out, Note                              string
	// Clock stamps the run's names, the sessions' start and the report,
	// and sets connection deadlines.
	Clock clock.Clock
}

func main() {
	var c config
	flag.StringVar(&c.Target, "target", "http://localhost:3000/api", "API base URL (the front door)")
	flag.StringVar(&c.AuthURL, "auth-url", "", "auth's base URL, when not the target (e.g. http://127.0.0.1:3001/api)")
	flag.StringVar(&c.SessionURL, "session-url", "", "session's base URL, when not the target")
	flag.StringVar(&c.IngestURL, "ingest-url", "", "ingest's base URL, when not the target")
	flag.IntVar(&c.Users, "users", 64, "users, each with one active session (desktop agents)")
	flag.IntVar(&c.Concurrency, "c", 64, "concurrent single-activity posters")
	flag.DurationVar(&c.Duration, "d", 30*time.Second, "duration of the single-activity run")
	flag.IntVar(&c.BulkSize, "bulk-size", 1000, "activities per bulk upload")
	flag.IntVar(&c.BulkBatches, "bulk-batches", 100, "bulk uploads in the bulk run")
	flag.IntVar(&c.BulkConcurrency, "bulk-c", 4, "concurrent bulk uploaders")
	flag.StringVar(&c.Out, "out", "docs/benchmarks.md", "markdown file to write the section into (empty: stdout only)")
	flag.StringVar(&c.Note, "note", "", "a line about the setup, written under the results")
	flag.Parse()
	c.Clock = clock.Real
	for _, u := range []*string{&c.AuthURL, &c.SessionURL, &c.IngestURL} {
		if *u == "" {
			*u = c.Target
		}
		*u = strings.TrimRight(*u, "/")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// agent is a user with an active session and what the API accepted for it.
type agent struct {
	Token, SessionID         string
	Start                    time.Time
	mu                       sync.Mutex
	acceptedActive, accIdle  int64
	singleAccepted, uploaded int64
}

func (a *agent) accept(typ string, seconds int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if typ == "active" {
		a.acceptedActive += seconds
	} else {
		a.accIdle += seconds
	}
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
	MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute,
}}

// call sends body as JSON and decodes a 2xx response into out.
func call(ctx context.Context, method, url, token string, body, out any) (int, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte: // pre-encoded, to keep the generator's own CPU small
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(raw, out)
	}
	return resp.StatusCode, nil
}

func run(ctx context.Context, c config) error {
	fmt.Printf("setting up %d users against %s\n", c.Users, c.Target)
	agents, err := setup(ctx, c)
	if err != nil {
		return err
	}
	single := singleRun(ctx, c, agents)
	fmt.Printf("single: %d ok, %d errors in %s: %.0f req/s, p50 %s, p99 %s\n", single.OK, single.Errors, single.Elapsed.Round(time.Millisecond),
		single.Rate, single.P50, single.P99)
	bulk := bulkRun(ctx, c, agents)
	fmt.Printf("bulk: %d batches (%d errors), %d activities uploaded in %s: %.0f activities/s, batch p50 %s, p99 %s\n", bulk.OK, bulk.Errors,
		bulk.Uploaded, bulk.Elapsed.Round(time.Millisecond), bulk.Rate, bulk.P50, bulk.P99)
	exact, err := checkExact(ctx, c, agents)
	if err != nil {
		return err
	}
	fmt.Println(exact.Summary)
	section := report(c, single, bulk, exact)
	if c.Out == "" {
		fmt.Println(section)
		return nil
	}
	return writeSection(c.Out, sectionTitle, section)
}

// setup registers an organization whose admin invites the other users;
// every user starts a session an hour in the past, so that offline
// batches may carry timestamps from that hour.
func setup(ctx context.Context, c config) ([]*agent, error) {
	run := fmt.Sprintf("%d", c.Clock.Now().UnixNano())
	var reg struct {
		AccessToken string `json:"access_token"`
	}
	if _, err := call(ctx, http.MethodPost, c.AuthURL+"/auth/register", "", map[string]any{
		"email": "admin-" + run + "@bench.example", "password": "benchmark-password", "name": "Bench Admin", "organization_name": "Bench " + run,
	}, &reg); err != nil {
		return nil, err
	}
	agents := make([]*agent, c.Users)
	errs := make(chan error, c.Users)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range c.Users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			a, err := newAgent(ctx, c, reg.AccessToken, fmt.Sprintf("user-%d-%s@bench.example", i, run), i == 0)
			if err != nil {
				errs <- err
				return
			}
			agents[i] = a
		}()
	}
	wg.Wait()
	close(errs)
	return agents, <-errs
}

func newAgent(ctx context.Context, c config, adminToken, email string, admin bool) (*agent, error) {
	token := adminToken
	if !admin {
		var inv struct {
			Token string `json:"token"`
		}
		if _, err := call(ctx, http.MethodPost, c.AuthURL+"/users/invitations", adminToken, map[string]any{"email": email}, &inv); err != nil {
			return nil, err
		}
		var reg struct {
			AccessToken string `json:"access_token"`
		}
		if _, err := call(ctx, http.MethodPost, c.AuthURL+"/auth/register", "", map[string]any{
			"email": email, "password": "benchmark-password", "name": "Bench User", "invitation_token": inv.Token,
		}, &reg); err != nil {
			return nil, err
		}
		token = reg.AccessToken
	}
	var s struct {
		ID        string    `json:"id"`
		StartTime time.Time `json:"start_time"`
	}
	if _, err := call(ctx, http.MethodPost, c.SessionURL+"/sessions/start", token, map[string]any{
		"start_time": c.Clock.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano),
	}, &s); err != nil {
		return nil, err
	}
	return &agent{Token: token, SessionID: s.ID, Start: s.StartTime}, nil
}

// result of a run.
type result struct {
	OK, Errors int64
	Uploaded   int64
	Elapsed    time.Duration
	Rate       float64
	P50, P99   time.Duration
	FirstError string
}

func percentiles(lat []time.Duration) (time.Duration, time.Duration) {
	if len(lat) == 0 {
		return 0, 0
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration {
		return lat[min(len(lat)-1, int(q*float64(len(lat))))].Round(10 * time.Microsecond)
	}
	return at(0.50), at(0.99)
}

// singleRun posts single activities, each with its own client_activity_id,
// from c.Concurrency workers spread over the agents, for c.Duration.
func singleRun(ctx context.Context, c config, agents []*agent) result {
	// The run ends between requests, never by cancelling one: a cancelled
	// request may still have been stored, and then it could not be counted.
	var done atomic.Bool
	time.AfterFunc(c.Duration, func() { done.Store(true) })
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	lats := make([][]time.Duration, c.Concurrency)
	var wg sync.WaitGroup
	watch := clock.Start()
	for w := range c.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := agents[w%len(agents)]
			path := "/sessions/" + a.SessionID + "/activity"
			post := func(body []byte) (int, error) {
				return call(ctx, http.MethodPost, c.IngestURL+path, a.Token, body, nil)
			}
			if raw, err := newRawClient(c.IngestURL, 30*time.Second, c.Clock); err == nil {
				post = func(body []byte) (int, error) {
					status, resp, err := raw.post(path, a.Token, body)
					if err == nil && status >= 300 {
						err = fmt.Errorf("POST %s: %d %s", path, status, bytes.TrimSpace(resp))
					}
					return status, err
				}
			}
			lat := make([]time.Duration, 0, 1<<16)
			var body []byte
			for i := 0; !done.Load() && ctx.Err() == nil; i++ {
				typ, dur := "active", int64(1+(w+i)%30)
				if i%5 == 0 {
					typ = "idle"
				}
				body = fmt.Appendf(body[:0], `{"activity_type":%q,"duration_seconds":%d,"client_activity_id":"s-%d-%d"}`, typ, dur, w, i)
				t0 := clock.Start()
				status, err := post(body)
				lat = append(lat, t0.Elapsed())
				if err != nil || status != http.StatusCreated {
					failed.Add(1)
					if err != nil {
						firstErr.CompareAndSwap(nil, err.Error())
					}
					continue
				}
				ok.Add(1)
				a.accept(typ, dur)
			}
			lats[w] = lat
		}()
	}
	wg.Wait()
	r := result{OK: ok.Load(), Errors: failed.Load(), Elapsed: watch.Elapsed()}
	r.Rate = float64(r.OK) / r.Elapsed.Seconds()
	r.P50, r.P99 = percentiles(slices.Concat(lats...))
	if e, _ := firstErr.Load().(string); e != "" {
		r.FirstError = e
	}
	return r
}

// bulkRun uploads c.BulkBatches batches of c.BulkSize new activities from
// c.BulkConcurrency workers, each on its own agent's session.
func bulkRun(ctx context.Context, c config, agents []*agent) result {
	batches, err := bulkBatches(c, agents)
	if err != nil {
		return result{Errors: 1, FirstError: err.Error()}
	}
	var ok, failed, uploaded atomic.Int64
	var next atomic.Int64
	var firstErr atomic.Value
	lats := make([][]time.Duration, c.BulkConcurrency)
	var wg sync.WaitGroup
	watch := clock.Start()
	for w := range c.BulkConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := agents[(len(agents)-1-w)%len(agents)]
			for ctx.Err() == nil {
				b := next.Add(1) - 1
				if b >= int64(c.BulkBatches) {
					return
				}
				body, act, idle := batches[b].body, batches[b].active, batches[b].idle
				var res struct {
					Uploaded   int64 `json:"uploaded"`
					Duplicates int64 `json:"duplicates"`
					Rejected   []any `json:"rejected"`
				}
				t0 := clock.Start()
				status, err := call(ctx, http.MethodPost, c.IngestURL+"/sessions/"+a.SessionID+"/activity/bulk", a.Token, body, &res)
				lats[w] = append(lats[w], t0.Elapsed())
				if err != nil || status != http.StatusCreated || res.Uploaded != int64(c.BulkSize) {
					failed.Add(1)
					if err == nil {
						err = fmt.Errorf("uploaded %d, duplicates %d, rejected %d", res.Uploaded, res.Duplicates, len(res.Rejected))
					}
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				ok.Add(1)
				uploaded.Add(res.Uploaded)
				a.accept("active", act)
				a.accept("idle", idle)
			}
		}()
	}
	wg.Wait()
	r := result{OK: ok.Load(), Errors: failed.Load(), Uploaded: uploaded.Load(), Elapsed: watch.Elapsed()}
	r.Rate = float64(r.Uploaded) / r.Elapsed.Seconds()
	r.P50, r.P99 = percentiles(slices.Concat(lats...))
	if e, _ := firstErr.Load().(string); e != "" {
		r.FirstError = e
	}
	return r
}

// bulkBatch is an encoded upload and the seconds it carries.
type bulkBatch struct {
	body         []byte
	active, idle int64
}

// bulkBatches encodes every batch of the bulk run before it starts, so that
// the generator's own encoding is not part of what is measured. Any worker
// may send any batch, so the items are timed after the latest session start.
func bulkBatches(c config, agents []*agent) ([]bulkBatch, error) {
	var start time.Time
	for _, a := range agents {
		if a.Start.After(start) {
			start = a.Start
		}
	}
	batches := make([]bulkBatch, c.BulkBatches)
	for b := range batches {
		items := make([]map[string]any, c.BulkSize)
		for i := range items {
			typ, dur := "active", int64(1+i%60)
			if i%4 == 0 {
				typ = "idle"
				batches[b].idle += dur
			} else {
				batches[b].active += dur
			}
			items[i] = map[string]any{"client_activity_id": fmt.Sprintf("b-%d-%d", b, i), "activity_type": typ, "duration_seconds": dur,
				"timestamp": start.Add(time.Duration(i) * 3 * time.Second).Format(time.RFC3339Nano), "url": "https://example.com/work"}
		}
		var err error
		if batches[b].body, err = json.Marshal(map[string]any{"activities": items}); err != nil {
			return nil, err
		}
	}
	return batches, nil
}

type exactness struct {
	OK                                      bool
	AcceptedSeconds, CountedSeconds, Missed int64
	Summary                                 string
}

// checkExact compares each session's totals with what the API accepted.
func checkExact(ctx context.Context, c config, agents []*agent) (exactness, error) {
	var e exactness
	e.OK = true
	var problems []string
	for _, a := range agents {
		var s struct {
			TotalActiveSeconds int64 `json:"total_active_seconds"`
			TotalIdleSeconds   int64 `json:"total_idle_seconds"`
		}
		if _, err := call(ctx, http.MethodGet, c.SessionURL+"/sessions/"+a.SessionID, a.Token, nil, &s); err != nil {
			return e, err
		}
		e.AcceptedSeconds += a.acceptedActive + a.accIdle
		e.CountedSeconds += s.TotalActiveSeconds + s.TotalIdleSeconds
		if s.TotalActiveSeconds != a.acceptedActive || s.TotalIdleSeconds != a.accIdle {
			e.OK = false
			problems = append(problems, fmt.Sprintf("session %s: totals %d/%d, accepted %d/%d", a.SessionID,
				s.TotalActiveSeconds, s.TotalIdleSeconds, a.acceptedActive, a.accIdle))
		}
		// Leave nothing running behind the benchmark.
		_, _ = call(ctx, http.MethodPost, c.SessionURL+"/sessions/"+a.SessionID+"/stop", a.Token, nil, nil)
	}
	e.Missed = e.AcceptedSeconds - e.CountedSeconds
	verdict := "exact"
	if !e.OK {
		verdict = "NOT exact: " + strings.Join(problems, "; ")
	}
	e.Summary = fmt.Sprintf("exactness over %d sessions: %d seconds accepted, %d counted (%s)", len(agents), e.AcceptedSeconds, e.CountedSeconds, verdict)
	return e, nil
}

const sectionTitle = "## Tracking (session + ingest)"

func report(c config, single, bulk result, exact exactness) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", sectionTitle)
	load := "unknown"
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(raw))[:3], " ")
	}
	fmt.Fprintf(&b, "Written by `hack/loadgen` on %s against `%s` (%d CPUs, %s; load average at the end %s, which counts everything else the host ran too). Targets: at least 3,000 single posts/s with p99 at most 50 ms, at least 50,000 bulk activities/s, no second lost or counted twice.\n\n",
		c.Clock.Now().UTC().Format("2006-01-02 15:04 MST"), c.Target, runtime.NumCPU(), runtime.Version(), load)
	b.WriteString("| run | load | result | latency p50 / p99 | errors |\n|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| single `POST /api/sessions/:id/activity` | %d concurrent over %d sessions, %s | **%.0f req/s** (%d requests) | %s / %s | %d |\n",
		c.Concurrency, c.Users, c.Duration, single.Rate, single.OK, single.P50, single.P99, single.Errors)
	fmt.Fprintf(&b, "| bulk `POST /api/sessions/:id/activity/bulk` | %d batches of %d, %d concurrent | **%.0f activities/s** (%d stored in %s) | %s / %s per batch | %d |\n",
		c.BulkBatches, c.BulkSize, c.BulkConcurrency, bulk.Rate, bulk.Uploaded, bulk.Elapsed.Round(time.Millisecond), bulk.P50, bulk.P99, bulk.Errors)
	fmt.Fprintf(&b, "\nExactness: %d seconds accepted by the API, %d counted in the session totals: %s.\n",
		exact.AcceptedSeconds, exact.CountedSeconds, map[bool]string{true: "**exact**, nothing lost or double-counted", false: "**NOT exact**"}[exact.OK])
	for _, r := range []struct {
		name string
		res  result
	}{{"single", single}, {"bulk", bulk}} {
		if r.res.FirstError != "" {
			fmt.Fprintf(&b, "\nFirst %s error: `%s`\n", r.name, r.res.FirstError)
		}
	}
	if c.Note != "" {
		fmt.Fprintf(&b, "\n%s\n", c.Note)
	}
	return b.String()
}

// writeSection replaces the section titled title in path (up to the next
// "## " heading) with section, or appends it, keeping the rest intact.
func writeSection(path, title, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	doc := string(old)
	if doc == "" {
		doc = "# Benchmarks\n"
	}
	section = strings.TrimRight(section, "\n") + "\n"
	if i := strings.Index(doc, title+"\n"); i >= 0 {
		end := len(doc)
		if j := strings.Index(doc[i+len(title):], "\n## "); j >= 0 {
			end = i + len(title) + j + 1
			section += "\n"
		}
		doc = doc[:i] + section + doc[end:]
	} else {
		doc = strings.TrimRight(doc, "\n") + "\n\n" + section
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}
