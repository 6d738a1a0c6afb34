package ingest

import (
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// BenchmarkSinglePostsOf64Agents posts single activities as the
// benchmark's agents do (hack/loadgen: 64 posters, a client_activity_id
// each, the server's time), from 64 agents of one organization and from
// one agent of each of 64 organizations, so that a profile of ingest and
// of its PostgreSQL backends (-cpuprofile, perf) shows what a post costs
// without the front door and the rest of the stack. Each op is one post;
// cpu-µs/post is the CPU time of the whole test process (ingest and the
// posters' client, not PostgreSQL) per post, which moves less with the
// machine's load than the time per post.
func BenchmarkSinglePostsOf64Agents(b *testing.B) {
	h := newHarness(b, nil)
	for _, orgs := range []int{1, 64} {
		b.Run(fmt.Sprintf("organizations=%d", orgs), func(b *testing.B) {
			type agent struct{ token, path string }
			agents := make([]agent, 64)
			shared := uuid.NewString()
			for i := range agents {
				org := shared
				if orgs > 1 {
					org = uuid.NewString()
				}
				m := h.member(org)
				agents[i] = agent{token: m.Token, path: "/api/sessions/" + h.startSession(m, harnessInstant.Add(-1)) + "/activity"}
			}
			var next atomic.Int64
			// 64 posters, as hack/loadgen runs, whatever GOMAXPROCS is.
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			cpu := processCPU(b)
			b.RunParallel(func(pb *testing.PB) {
				w := next.Add(1) - 1
				a := agents[w%int64(len(agents))]
				for i := 0; pb.Next(); i++ {
					body := []byte(fmt.Sprintf(`{"activity_type":"active","duration_seconds":1,"client_activity_id":"b-%d-%d"}`, w, i))
					status, raw, err := h.tryPost(a.token, a.path, body)
					if err != nil || status != http.StatusCreated {
						b.Errorf("post: %d %s %v", status, raw, err)
						return
					}
				}
			})
			b.ReportMetric(float64((processCPU(b)-cpu).Microseconds())/float64(b.N), "cpu-µs/post")
		})
	}
}

// processCPU is the user and system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
