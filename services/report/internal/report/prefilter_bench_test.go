package report

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/api/events"
)

// BenchmarkPrefilterOfAFetch prefilters one fetch of the activity stream
// as the report consumer gets it: 500 activity.recorded events of 64
// organizations, each a late upload (days to mark) with active work (an
// open idle alert to look for), so that both statements of the fetch
// carry 500 ids a list. Each op is one fetch, its round trip included.
func BenchmarkPrefilterOfAFetch(b *testing.B) {
	e := newEnv(b)
	now := e.clock.Now()
	late := now.Add(-36 * time.Hour)
	orgs := make([]string, 64)
	for i := range orgs {
		orgs[i] = uuid.NewString()
	}
	batch := make([]events.Envelope, 500)
	for i := range batch {
		org, user, sess := orgs[i%len(orgs)], uuid.NewString(), uuid.NewString()
		ev, err := events.New(now, "ingest", events.TypeActivityRecorded, org, user, events.ActivityRecorded{
			Session: events.Session{SessionID: sess, OrganizationID: org, UserID: user, Status: "active"}, Stored: 1,
			FirstAt: &late, LastAt: &late, LastActiveAt: &now})
		if err != nil {
			b.Fatal(err)
		}
		batch[i] = ev
	}
	c := NewConsumers(e.pool, e.log, e.clock)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.PrefilterActivity(e.ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}
