package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkBulkUploadsOf1000Items uploads 1,000-item batches as the
// benchmark's bulk load does (hack/loadgen -loads bulk: new
// client_activity_ids, items three seconds apart, a URL each), from two
// agents at once (one per core), through ingest's HTTP handler, so that a
// profile of ingest and of its PostgreSQL backends (-cpuprofile, perf)
// shows what a bulk item costs without the front door and the rest of the
// stack. Each op is one batch; cpu-µs/item is the CPU time of the test
// process (ingest and the uploaders' client), pg-µs/item that of the
// database's backends serving the test's database, per stored item.
func BenchmarkBulkUploadsOf1000Items(b *testing.B) {
	const uploaders, size = 2, 1000
	h := newHarness(b, nil)
	start := harnessInstant.Add(-2 * time.Hour)
	type agent struct{ token, path string }
	agents := make([]agent, uploaders)
	for i := range agents {
		m := h.member("")
		agents[i] = agent{token: m.Token, path: "/api/sessions/" + h.startSession(m, start) + "/activity/bulk"}
	}
	bodies := make([][]byte, b.N)
	for n := range bodies {
		items := make([]map[string]any, size)
		for i := range items {
			typ := "active"
			if i%4 == 0 {
				typ = "idle"
			}
			items[i] = map[string]any{"client_activity_id": fmt.Sprintf("b-%d-%d", n, i), "activity_type": typ, "duration_seconds": 1 + i%60,
				"timestamp": start.Add(time.Duration(i) * 3 * time.Second).Format(time.RFC3339Nano), "url": "https://example.com/work"}
		}
		var err error
		if bodies[n], err = json.Marshal(map[string]any{"activities": items}); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu, pg := processCPU(b), h.backendCPU()
	for w := range uploaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := agents[w]
			for {
				n := next.Add(1) - 1
				if n >= int64(b.N) {
					return
				}
				var res bulkResult
				status, raw, err := h.tryPostDecoded(a.token, a.path, bodies[n], &res)
				if err != nil || status != http.StatusCreated || res.Uploaded != size {
					b.Errorf("upload: %d %s %v", status, raw, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	items := float64(b.N * size)
	b.ReportMetric(float64((processCPU(b)-cpu).Microseconds())/items, "cpu-µs/item")
	b.ReportMetric(float64((h.backendCPU()-pg).Microseconds())/items, "pg-µs/item")
}

// tryPostDecoded posts raw JSON and decodes a 201's body into out.
func (h *harness) tryPostDecoded(token, path string, body []byte, out any) (int, []byte, error) {
	status, raw, err := h.tryPost(token, path, body)
	if err == nil && status == http.StatusCreated {
		err = json.Unmarshal(raw, out)
	}
	return status, raw, err
}

// backendCPU is the CPU time (user and system) that the PostgreSQL
// backends connected to the harness's database have used, from /proc: the
// server must run on this machine.
func (h *harness) backendCPU() time.Duration {
	h.t.Helper()
	rows, err := h.db.Owner.Query(context.Background(), "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
	if err != nil {
		h.t.Fatal(err)
	}
	var pids []int
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			h.t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if err := rows.Err(); err != nil {
		h.t.Fatal(err)
	}
	var ticks int64
	for _, pid := range pids {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue // not on this machine, or gone
		}
		// The fields after the command (in parentheses, which may hold
		// spaces): utime and stime are the 14th and 15th of the line.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * (time.Second / 100)
}
