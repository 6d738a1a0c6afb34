package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// The live load is the one-organization load while every agent's member
// has today's report open (GET /api/reports/daily, which is computed from
// the activity on every read) and reads it every config.LiveReadEvery,
// and a probe agent of the same organization measures how long an
// accepted post takes to show in its report. Run right after one-org,
// the two throughputs tell what reading the live numbers costs the
// tracking path.
const (
	// probePoll is how often the probe reads its report until it counts
	// the post: the latency's resolution.
	probePoll = 20 * time.Millisecond
	// probeEvery spaces the probe's posts: the probe measures, the
	// readers load.
	probeEvery = 200 * time.Millisecond
)

// liveResult is what the readers and the probe saw during a live load.
type liveResult struct {
	Reads, ReadErrors int64
	// Probes are post-to-report latencies: from the 201 of a post to the
	// first read of the daily report that counts it.
	Probes             int
	ProbeP50, ProbeP99 time.Duration
	ProbeMax           time.Duration
	ProbeErrors        int64
	FirstError         string
}

// dailyActive reads the member's today's report and returns its active
// seconds (0 when there is no report yet).
func dailyActive(ctx context.Context, c config, a *agent) (int64, error) {
	var d *struct {
		ActiveSeconds int64 `json:"active_seconds"`
	}
	if _, err := call(ctx, http.MethodGet, c.ReportURL+"/reports/daily", a.Token, "", nil, &d); err != nil {
		return 0, err
	}
	if d == nil {
		return 0, nil
	}
	return d.ActiveSeconds, nil
}

// startLive starts the readers of agents and the probe until stop is
// called, which returns what they saw.
func startLive(ctx context.Context, c config, agents []*agent, probe *agent) (stop func() liveResult) {
	ctx, cancel := context.WithCancel(ctx)
	var res liveResult
	var reads, readErrs, probeErrs atomic.Int64
	var firstErr atomic.Value
	fail := func(n *atomic.Int64, err error) {
		n.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			read := func(ctx context.Context) {
				switch _, err := dailyActive(ctx, c, a); {
				case err == nil:
					reads.Add(1)
				case ctx.Err() == nil:
					fail(&readErrs, err)
				}
			}
			// Spread the readers over the interval.
			select {
			case <-ctx.Done():
				return
			case <-time.After(c.LiveReadEvery * time.Duration(i) / time.Duration(len(agents))):
			}
			read(ctx)
			clock.Every(ctx, c.LiveReadEvery, read)
		}()
	}
	var lats []time.Duration
	wg.Add(1)
	go func() {
		defer wg.Done()
		lats = probeRun(ctx, c, probe, func(err error) { fail(&probeErrs, err) })
	}()
	return func() liveResult {
		cancel()
		wg.Wait()
		res.Reads, res.ReadErrors, res.ProbeErrors = reads.Load(), readErrs.Load(), probeErrs.Load()
		res.Probes = len(lats)
		res.ProbeP50, res.ProbeP99 = percentiles(lats)
		if len(lats) > 0 {
			res.ProbeMax = slices.Max(lats)
		}
		if e, _ := firstErr.Load().(string); e != "" {
			res.FirstError = e
		}
		return res
	}
}

// probeRun posts one active second at a time for probe and polls its
// daily report until it counts it, until ctx ends; it returns the
// latencies.
func probeRun(ctx context.Context, c config, probe *agent, fail func(error)) []time.Duration {
	var lats []time.Duration
	want, err := dailyActive(ctx, c, probe)
	if err != nil {
		fail(err)
		return nil
	}
	for i := 0; ctx.Err() == nil; i++ {
		body := fmt.Appendf(nil, `{"activity_type":"active","duration_seconds":1,"client_activity_id":"probe-%d"}`, i)
		status, err := call(ctx, http.MethodPost, c.IngestURL+"/sessions/"+probe.SessionID+"/activity", probe.Token, "", body, nil)
		if err != nil || status != http.StatusCreated {
			if ctx.Err() == nil {
				fail(fmt.Errorf("probe post: %d %v", status, err))
			}
			continue
		}
		probe.accept("active", 1)
		want++
		accepted := clock.Start()
		for ctx.Err() == nil {
			got, err := dailyActive(ctx, c, probe)
			if err != nil {
				if ctx.Err() == nil {
					fail(err)
				}
				break
			}
			if got >= want {
				lats = append(lats, accepted.Elapsed())
				break
			}
			time.Sleep(probePoll)
		}
		time.Sleep(probeEvery)
	}
	return lats
}
