// Command loadgen benchmarks the tracking path of a running WorkPulse
// (make dev's front door by default). It measures, one after another,
// five loads, each on sessions of its own: one organization with 64
// agents posting single activities; the same with every member reading
// today's report live and a probe of the post-to-report latency
// (live.go); 64 organizations with one agent each; 64 concurrent posters
// on one session; and 1,000-item bulk uploads from 8 agents. For each it gives the throughput, the latency,
// the CPU that the stack's processes spent per accepted post (cpu.go) and
// whether the session totals equal the sum of everything the API
// accepted. The anchors (anchors.go) measure the same PostgreSQL without
// the services. The results go into a section of docs/benchmarks.md
// (report.go).
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/signal"
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
	ReportURL                              string
	Loads                                  []string
	Agents, Concurrency                    int
	Duration                               time.Duration
	// LiveReadEvery is how often each member reads today's report in the
	// live load.
	LiveReadEvery                          time.Duration
	BulkSize, BulkBatches, BulkConcurrency int
	// StackSID is the session id of the stack's processes, whose CPU is
	// measured (0: not measured); StackDB is the stack's database, whose
	// PostgreSQL backends count too.
	StackSID            int
	PGAdminURL, StackDB string
	Anchors             bool
	CopyRows            int
	Out, Note           string
	// Clock stamps the run's names, the sessions' start and the report,
	// and sets connection deadlines.
	Clock clock.Clock
}

var allLoads = []string{loadOneOrg, loadOneOrgLive, loadManyOrgs, loadOneSession, loadBulk}

const (
	loadOneOrg     = "one-org"
	loadOneOrgLive = "one-org-live"
	loadManyOrgs   = "many-orgs"
	loadOneSession = "one-session"
	loadBulk       = "bulk"
)

func main() {
	var c config
	loads := flag.String("loads", strings.Join(allLoads, ","), "the loads to run, in order")
	flag.StringVar(&c.Target, "target", "http://localhost:3000/api", "API base URL (the front door)")
	flag.StringVar(&c.AuthURL, "auth-url", "", "auth's base URL, when not the target (e.g. http://127.0.0.1:3001/api)")
	flag.StringVar(&c.SessionURL, "session-url", "", "session's base URL, when not the target")
	flag.StringVar(&c.IngestURL, "ingest-url", "", "ingest's base URL, when not the target")
	flag.StringVar(&c.ReportURL, "report-url", "", "report's base URL, when not the target")
	flag.IntVar(&c.Agents, "agents", 64, "agents (users with one active session) of the one-organization load; organizations of the many-organization load")
	flag.IntVar(&c.Concurrency, "c", 64, "concurrent single-activity posters in each single-post load")
	flag.DurationVar(&c.Duration, "d", 30*time.Second, "duration of each single-post load and of pgbench")
	flag.DurationVar(&c.LiveReadEvery, "live-read-every", 5*time.Second, "how often each member reads today's report in the live load")
	flag.IntVar(&c.BulkSize, "bulk-size", 1000, "activities per bulk upload")
	flag.IntVar(&c.BulkBatches, "bulk-batches", 100, "bulk uploads in the bulk load")
	flag.IntVar(&c.BulkConcurrency, "bulk-c", 8, "concurrent bulk uploaders, each on its own session")
	flag.IntVar(&c.StackSID, "stack-sid", 0, "session id of the stack's processes, to measure their CPU (0: not measured)")
	flag.StringVar(&c.PGAdminURL, "pg-url", envOr("WORKPULSE_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"a maintenance database of the stack's PostgreSQL: its processes for the CPU meter, and the anchors")
	flag.StringVar(&c.StackDB, "stack-db", "workpulse", "the stack's database, whose PostgreSQL backends the CPU meter counts")
	flag.BoolVar(&c.Anchors, "anchors", true, "measure the anchors (pgbench of the one-post transaction, COPY) on the same PostgreSQL")
	flag.IntVar(&c.CopyRows, "copy-rows", 500_000, "activity rows of the COPY anchor")
	flag.StringVar(&c.Out, "out", "docs/benchmarks.md", "markdown file to write the section into (empty: stdout only)")
	flag.StringVar(&c.Note, "note", "", "a line about the setup, written under the results")
	flag.Parse()
	c.Clock = clock.Real
	c.Loads = strings.Split(*loads, ",")
	for _, l := range c.Loads {
		if !slices.Contains(allLoads, l) {
			fmt.Fprintf(os.Stderr, "loadgen: unknown load %q (%s)\n", l, strings.Join(allLoads, ", "))
			os.Exit(2)
		}
	}
	for _, u := range []*string{&c.AuthURL, &c.SessionURL, &c.IngestURL, &c.ReportURL} {
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

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// agent is a user with an active session and what the API accepted for it.
type agent struct {
	Token, SessionID        string
	Start                   time.Time
	mu                      sync.Mutex
	acceptedActive, accIdle int64
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

// call sends body as JSON and decodes a 2xx response into out. from, when
// set, is the client's address as a proxy in front of the API would
// forward it.
func call(ctx context.Context, method, url, token, from string, body, out any) (int, error) {
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
	if from != "" {
		req.Header.Set("X-Forwarded-For", from)
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

// load is one of the measured loads and the agents it posts for.
type load struct {
	Name, Title string
	agents      []*agent
	// probe, in the live load, measures the post-to-report latency.
	probe *agent
}

// measured is a load's outcome.
type measured struct {
	load
	result
	CPU   cpuUse // of the stack over the load; zero when not measured
	Exact exactness
	Load  string // load average right after it
	// Live is what the live load's readers and probe saw.
	Live *liveResult
}

// PerPost is d per accepted post (per stored item in bulk).
func (m measured) PerPost(d time.Duration) time.Duration {
	n := m.OK
	if m.Name == loadBulk {
		n = m.Uploaded
	}
	if n == 0 {
		return 0
	}
	return d / time.Duration(n)
}

// ByProcess is the CPU per post of each kind of process, the largest first.
func (m measured) ByProcess() string {
	names := slices.Collect(maps.Keys(m.CPU.ByName))
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(m.CPU.ByName[b], m.CPU.ByName[a]) })
	var parts []string
	for _, n := range names {
		if us := m.PerPost(m.CPU.ByName[n]).Microseconds(); us > 0 {
			parts = append(parts, fmt.Sprintf("%s %d µs", n, us))
		}
	}
	return strings.Join(parts, ", ")
}

func run(ctx context.Context, c config) error {
	var anc anchors
	if c.Anchors {
		fmt.Printf("anchors: pgbench of the one-post transaction for %s, COPY of %d activity rows\n", c.Duration, c.CopyRows)
		var err error
		if anc, err = measureAnchors(ctx, c); err != nil {
			return fmt.Errorf("anchors: %w", err)
		}
		fmt.Printf("anchors: pgbench %.0f tps; COPY %.0f rows/s (%s)\n", anc.PgbenchTPS, anc.CopyRate, anc.CopyElapsed.Round(time.Millisecond))
	}
	var meter *cpuMeter
	if c.StackSID != 0 {
		var err error
		if meter, err = newCPUMeter(ctx, c.StackSID, c.PGAdminURL, c.StackDB); err != nil {
			return err
		}
		defer meter.Close()
	}
	fmt.Printf("setting up %s against %s\n", strings.Join(c.Loads, ", "), c.Target)
	loads, err := setup(ctx, c)
	if err != nil {
		return err
	}
	var out []measured
	for _, l := range loads {
		m, err := measure(ctx, c, meter, l)
		if err != nil {
			return fmt.Errorf("%s: %w", l.Name, err)
		}
		fmt.Printf("%s: %s\n", l.Name, m.summary())
		out = append(out, m)
	}
	var rss []procRSS
	if c.StackSID != 0 {
		rss = peakRSS(c.StackSID)
	}
	section := report(c, out, anc, rss, readSection(c.Out, sectionTitle))
	if c.Out == "" {
		fmt.Println(section)
		return nil
	}
	return writeSection(c.Out, sectionTitle, section)
}

// measure runs l with the CPU meter around it and checks its sessions'
// totals after.
func measure(ctx context.Context, c config, meter *cpuMeter, l load) (measured, error) {
	m := measured{load: l}
	if meter != nil {
		if err := meter.Start(ctx); err != nil {
			return m, err
		}
	}
	switch {
	case l.Name == loadBulk:
		m.result = bulkRun(ctx, c, l.agents)
	case l.probe != nil:
		stop := startLive(ctx, c, l.agents, l.probe)
		m.result = singleRun(ctx, c, l.agents)
		live := stop()
		m.Live = &live
	default:
		m.result = singleRun(ctx, c, l.agents)
	}
	if meter != nil {
		var err error
		if m.CPU, err = meter.Stop(ctx); err != nil {
			return m, err
		}
	}
	m.Load = loadAverage()
	var err error
	checked := l.agents
	if l.probe != nil {
		checked = append(slices.Clone(checked), l.probe)
	}
	m.Exact, err = checkExact(ctx, c, checked)
	return m, err
}

func (m measured) summary() string {
	unit := "req/s"
	if m.Name == loadBulk {
		unit = "activities/s"
	}
	s := fmt.Sprintf("%d ok, %d errors (%d 5xx) in %s: %.0f %s, p50 %s, p99 %s", m.OK, m.Errors, m.ServerErrors, m.Elapsed.Round(time.Millisecond), m.Rate, unit, m.P50, m.P99)
	if m.CPU.Total > 0 {
		s += fmt.Sprintf("; CPU %s over %d processes, %d µs per post (%s)", m.CPU.Total, m.CPU.Processes, m.PerPost(m.CPU.Total).Microseconds(), m.ByProcess())
	}
	if m.FirstError != "" {
		s += "; first error: " + m.FirstError
	}
	if l := m.Live; l != nil {
		s += fmt.Sprintf("; %d report reads (%d errors); post-to-report p50 %s, p99 %s, max %s over %d probes (%d errors)",
			l.Reads, l.ReadErrors, l.ProbeP50, l.ProbeP99, l.ProbeMax, l.Probes, l.ProbeErrors)
	}
	return s + "; " + m.Exact.Summary
}

func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(raw))[:3], " ")
}

// officeAddress is the address the i-th office of a run started in minute
// registers from: of the documentation ranges' 508 addresses, each minute's
// run takes the block of width after the previous minute's. auth allows an
// address 20 registrations an hour, and an invited member's registration
// counts while it runs, 8 at a time here: with runs a minute apart sharing
// all but one of their addresses, a dozen runs within the hour were
// refused (429). Blocks come round again after about 7 minutes, so even a
// run every minute uses an address about 8 times an hour.
func officeAddress(minute int64, width, i int) string {
	n := int((minute*int64(width) + int64(i)) % 508)
	if n < 254 {
		return fmt.Sprintf("198.51.100.%d", n+1)
	}
	return fmt.Sprintf("203.0.113.%d", n-253)
}

// setup creates the organizations, users and sessions of every load.
// Each organization registers from an address of its own (documentation
// ranges, moved on every run), as organizations do from their offices:
// the registrations of one address are throttled.
func setup(ctx context.Context, c config) ([]load, error) {
	run := fmt.Sprintf("%d", c.Clock.Now().UnixNano())
	minute := c.Clock.Now().Unix() / 60
	// A run registers from offices 0 to 3+Agents (see below).
	office := func(i int) string { return officeAddress(minute, 4+c.Agents, i) }
	var loads []load
	for _, name := range c.Loads {
		l := load{Name: name}
		var err error
		switch name {
		case loadOneOrg:
			l.Title = fmt.Sprintf("one organization, %d agents", c.Agents)
			l.agents, err = newOrg(ctx, c, run+"-one", office(0), c.Agents)
		case loadOneOrgLive:
			l.Title = fmt.Sprintf("one organization, %d agents, every member reading today's report every %s", c.Agents, c.LiveReadEvery)
			var all []*agent
			all, err = newOrg(ctx, c, run+"-live", office(3+c.Agents), c.Agents+1)
			if err == nil {
				l.agents, l.probe = all[:c.Agents], all[c.Agents]
			}
		case loadManyOrgs:
			l.Title = fmt.Sprintf("%d organizations, one agent each", c.Agents)
			l.agents = make([]*agent, c.Agents)
			err = parallel(c.Agents, func(i int) error {
				a, err := newOrg(ctx, c, fmt.Sprintf("%s-many-%d", run, i), office(3+i), 1)
				if err == nil {
					l.agents[i] = a[0]
				}
				return err
			})
		case loadOneSession:
			l.Title = "one session"
			l.agents, err = newOrg(ctx, c, run+"-session", office(1), 1)
		case loadBulk:
			l.Title = fmt.Sprintf("bulk, %d batches of %d from %d agents", c.BulkBatches, c.BulkSize, c.BulkConcurrency)
			l.agents, err = newOrg(ctx, c, run+"-bulk", office(2), c.BulkConcurrency)
		}
		if err != nil {
			return nil, fmt.Errorf("setting up %s: %w", name, err)
		}
		loads = append(loads, l)
	}
	return loads, nil
}

// parallel runs f(0..n-1), eight at a time, and returns the first error.
func parallel(n int, f func(i int) error) error {
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := f(i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// newOrg registers an organization from address from, whose admin invites
// the other users; every user starts a session an hour in the past, so
// that offline batches may carry timestamps from that hour.
func newOrg(ctx context.Context, c config, name, from string, users int) ([]*agent, error) {
	var reg struct {
		AccessToken string `json:"access_token"`
	}
	if _, err := call(ctx, http.MethodPost, c.AuthURL+"/auth/register", "", from, map[string]any{
		"email": "admin-" + name + "@bench.example", "password": "benchmark-password", "name": "Bench Admin", "organization_name": "Bench " + name,
	}, &reg); err != nil {
		return nil, err
	}
	agents := make([]*agent, users)
	return agents, parallel(users, func(i int) error {
		a, err := newAgent(ctx, c, reg.AccessToken, from, fmt.Sprintf("user-%d-%s@bench.example", i, name), i == 0)
		agents[i] = a
		return err
	})
}

func newAgent(ctx context.Context, c config, adminToken, from, email string, admin bool) (*agent, error) {
	token := adminToken
	if !admin {
		var inv struct {
			Token string `json:"token"`
		}
		if _, err := call(ctx, http.MethodPost, c.AuthURL+"/users/invitations", adminToken, "", map[string]any{"email": email}, &inv); err != nil {
			return nil, err
		}
		var reg struct {
			AccessToken string `json:"access_token"`
		}
		if _, err := call(ctx, http.MethodPost, c.AuthURL+"/auth/register", "", from, map[string]any{
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
	if _, err := call(ctx, http.MethodPost, c.SessionURL+"/sessions/start", token, "", map[string]any{
		"start_time": c.Clock.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano),
	}, &s); err != nil {
		return nil, err
	}
	return &agent{Token: token, SessionID: s.ID, Start: s.StartTime}, nil
}

// result of a run.
type result struct {
	OK, Errors int64
	// ServerErrors are the Errors answered with a 5xx; the rest are refused or
	// dropped connections (a client sends those again) and 4xx.
	ServerErrors int64
	Uploaded     int64
	Elapsed      time.Duration
	Rate         float64
	P50, P99     time.Duration
	FirstError   string
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
	var ok, failed, fivexx atomic.Int64
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
				return call(ctx, http.MethodPost, c.IngestURL+path, a.Token, "", body, nil)
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
					if status >= 500 {
						fivexx.Add(1)
					}
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
	r := result{OK: ok.Load(), Errors: failed.Load(), ServerErrors: fivexx.Load(), Elapsed: watch.Elapsed()}
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
			a := agents[w%len(agents)]
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
				status, err := call(ctx, http.MethodPost, c.IngestURL+"/sessions/"+a.SessionID+"/activity/bulk", a.Token, "", body, &res)
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
		if _, err := call(ctx, http.MethodGet, c.SessionURL+"/sessions/"+a.SessionID, a.Token, "", nil, &s); err != nil {
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
		_, _ = call(ctx, http.MethodPost, c.SessionURL+"/sessions/"+a.SessionID+"/stop", a.Token, "", nil, nil)
	}
	e.Missed = e.AcceptedSeconds - e.CountedSeconds
	verdict := "exact"
	if !e.OK {
		verdict = "NOT exact: " + strings.Join(problems, "; ")
	}
	e.Summary = fmt.Sprintf("exactness over %d sessions: %d seconds accepted, %d counted (%s)", len(agents), e.AcceptedSeconds, e.CountedSeconds, verdict)
	return e, nil
}
