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
// window of 45 days (and a retention of 3 months) is stored, a later event without one is the
// installation's default again (NULL), and an older event changes nothing.
func TestATenantEventSetsTheOrganizationsWindowAndZeroRestoresTheDefault(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	pool := db.Pool(t, "workpulse_ingest")
	ctx := context.Background()
	org := uuid.NewString()
	at := time.Date(2027, 6, 1, 0, 30, 0, 0, time.UTC)
	apply := func(gen int64, days, months int) {
		t.Helper()
		ev, err := events.New(at, "auth", events.TypeTenantUpdated, org, org,
			events.TenantUpdated{OrganizationID: org, TenantSettings: events.TenantSettings{Name: "Acme", Active: true, ActivityWindowDays: days, RetentionMonths: months, Generation: gen}})
		if err != nil {
			t.Fatal(err)
		}
		if err := tracking.ApplyTenantEvent(ctx, pool, "ingest-tenants", ev); err != nil {
			t.Fatal(err)
		}
	}
	stored := func() (days, months *int) {
		t.Helper()
		if err := db.Owner.QueryRow(ctx, "SELECT activity_window_days, retention_months FROM tracking.tenants WHERE organization_id = $1", org).
			Scan(&days, &months); err != nil {
			t.Fatal(err)
		}
		return days, months
	}
	for _, step := range []struct {
		name         string
		gen          int64
		days, months int
		want, keep   *int
	}{
		{"A window of 45 days and a retention of 3 months are stored.", 1, 45, 3, ptr(45), ptr(3)},
		{"An older event with another window changes nothing.", 0, 90, 6, ptr(45), ptr(3)},
		{"No window and no retention are the installation's defaults again.", 2, 0, 0, nil, nil},
	} {
		apply(step.gen, step.days, step.months)
		got, keep := stored()
		if (got == nil) != (step.want == nil) || got != nil && *got != *step.want {
			t.Errorf("%s window = %v, want %v", step.name, got, step.want)
		}
		if (keep == nil) != (step.keep == nil) || keep != nil && *keep != *step.keep {
			t.Errorf("%s retention = %v, want %v", step.name, keep, step.keep)
		}
	}
}

func ptr[T any](v T) *T { return &v }
