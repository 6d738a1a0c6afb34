package controller

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
)

func TestSuspendingATenantSuspendsItsJobsAndTellsTheServices(t *testing.T) {
	e := newParallelEnv(t)
	e.create(e.tenant("sleepy"))
	org := e.waitReady("sleepy").Status.OrganizationID
	authSettings := func() (suspended bool, generation int64) {
		var raw []byte
		if err := e.db.Owner.QueryRow(e.ctx, "SELECT tenant_settings, tenant_generation FROM auth.organizations WHERE id = $1", org).Scan(&raw, &generation); err != nil {
			t.Fatal(err)
		}
		var s struct{ Suspended bool }
		_ = json.Unmarshal(raw, &s)
		return s.Suspended, generation
	}
	updates := e.tenantUpdates()
	for _, suspend := range []bool{true, false} {
		e.update("sleepy", func(s *v1alpha1.WorkPulseTenantSpec) { s.Suspend = suspend })
		got := e.waitReady("sleepy")
		if s := *e.mustCronJob(specs.DailySummaryName(org)).Spec.Suspend; s != suspend {
			t.Errorf("suspend=%t: CronJob suspend %t", suspend, s)
		}
		if s, gen := authSettings(); s != suspend || gen != got.Generation {
			t.Errorf("suspend=%t: auth has suspended=%t generation %d, want generation %d", suspend, s, gen, got.Generation)
		}
		// Every service learns it from auth's tenant.updated event.
		e.eventually(15*time.Second, "tenant.updated on Kafka", func() (bool, string) {
			for _, ev := range updates.all() {
				if ev.OrganizationID == org && ev.Generation == got.Generation && ev.Suspended == suspend && ev.Active {
					return true, ""
				}
			}
			return false, fmt.Sprintf("events so far: %+v", updates.all())
		})
		ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
		if suspend != (ready.Reason == "Suspended") {
			t.Errorf("suspend=%t: Ready reason %s", suspend, ready.Reason)
		}
	}
}
