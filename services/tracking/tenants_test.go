package tracking_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestATenantEventSetsTheOrganizationsWindowAndZeroRestoresTheDefault
// applies tenant.updated events as the ingest service's consumer does: a
// window of 45 days is stored, a later event without one is the
// installation's default again (NULL), and an older event changes nothing.
func TestATenantEventSetsTheOrganizationsWindowAndZeroRestoresTheDefault(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	pool := db.Pool(t, "workpulse_ingest")
	ctx := context.Background()
	org := uuid.NewString()
	at := time.Date(2027, 6, 1, 0, 30, 0, 0, time.UTC)
	apply := func(gen int64, days int) {
		t.Helper()
		ev, err := events.New(at, "auth", events.TypeTenantUpdated, org, org,
			events.TenantUpdated{OrganizationID: org, TenantSettings: events.TenantSettings{Name: "Acme", Active: true, ActivityWindowDays: days, Generation: gen}})
		if err != nil {
			t.Fatal(err)
		}
		if err := tracking.ApplyTenantEvent(ctx, pool, "ingest-tenants", ev); err != nil {
			t.Fatal(err)
		}
	}
	window := func() *int {
		t.Helper()
		var days *int
		if err := db.Owner.QueryRow(ctx, "SELECT activity_window_days FROM tracking.tenants WHERE organization_id = $1", org).Scan(&days); err != nil {
			t.Fatal(err)
		}
		return days
	}
	for _, step := range []struct {
		name string
		gen  int64
		days int
		want *int
	}{
		{"A window of 45 days is stored.", 1, 45, ptr(45)},
		{"An older event with another window changes nothing.", 0, 90, ptr(45)},
		{"No window is the installation's default again.", 2, 0, nil},
	} {
		apply(step.gen, step.days)
		if got := window(); (got == nil) != (step.want == nil) || got != nil && *got != *step.want {
			t.Errorf("%s window = %v, want %v", step.name, got, step.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
