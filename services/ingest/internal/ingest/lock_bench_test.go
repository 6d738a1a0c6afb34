package ingest

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
)

// BenchmarkPostingIntoAnOrganizationWithLockedDays measures what a
// timesheet lock adds to a post: the same single and bulk posts of today's
// activity into an organization without a lock and into one whose days
// are locked through yesterday, so that every post passes the lock check
// and none is refused. A single post compares its timestamp with the lock
// the replica keeps for a minute; a bulk upload also reads the lock in its
// transaction. Each op is one post (a bulk one of bulkItems activities);
// make bench runs it (hack/bench.sh locks), figures in docs/benchmarks.md.
func BenchmarkPostingIntoAnOrganizationWithLockedDays(b *testing.B) {
	h := newHarness(b, nil)
	today := harnessInstant.Truncate(24 * time.Hour)
	locked := uuid.NewString()
	h.lock(h.admin(locked), today.AddDate(0, 0, -1).Format(time.DateOnly))
	orgs := []struct{ name, id string }{{"unlocked", uuid.NewString()}, {"locked", locked}}
	const bulkItems = 50
	for _, kind := range []string{"single", "bulk"} {
		for _, org := range orgs {
			b.Run(kind+"/"+org.name, func(b *testing.B) {
				// A member and session of their own per run: today's
				// activity from midnight on, a second each, in order.
				m := h.member(org.id)
				sid := h.startSession(m, today)
				at := today
				next := func() string { at = at.Add(time.Second); return at.Format(time.RFC3339) }
				seconds := b.N
				if kind == "bulk" {
					seconds *= bulkItems
				}
				if seconds >= int(harnessInstant.Sub(today)/time.Second) {
					b.Fatalf("%d ops do not fit in today's %s before the harness's clock", b.N, harnessInstant.Sub(today))
				}
				b.ResetTimer()
				for range b.N {
					var status int
					var raw []byte
					if kind == "single" {
						ts := next()
						status, raw = h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 1, Timestamp: &ts}, nil)
					} else {
						items := make([]bulkBody, bulkItems)
						for i := range items {
							items[i] = bulkBody{ClientActivityID: uuid.NewString(), Timestamp: next(), ActivityType: "active", DurationSeconds: 1}
						}
						status, raw = h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", map[string]any{"activities": items}, nil)
					}
					if status != http.StatusCreated {
						b.Fatalf("%s post: %d %s", kind, status, raw)
					}
				}
			})
		}
	}
}
