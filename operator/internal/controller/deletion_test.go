package controller

import (
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
	"github.com/workpulse/workpulse/operator/internal/storage"
)

func TestDeletingATenantFollowsItsDeletionPolicy(t *testing.T) {
	e := newParallelEnv(t)
	cases := []struct {
		name    string
		storage v1alpha1.StorageIsolation
		policy  v1alpha1.DeletionPolicy
	}{
		{"Delete drops a Dedicated tenant's partition.", v1alpha1.StorageDedicated, v1alpha1.DeletionDelete},
		{"Delete removes a Shared tenant's rows in batches.", v1alpha1.StorageShared, v1alpha1.DeletionDelete},
		{"Retain keeps a Dedicated tenant's data.", v1alpha1.StorageDedicated, v1alpha1.DeletionRetain},
		{"Retain keeps a Shared tenant's data.", v1alpha1.StorageShared, v1alpha1.DeletionRetain},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("gone-%d", i)
			e.create(e.tenant(name, func(s *v1alpha1.WorkPulseTenantSpec) { s.Storage, s.DeletionPolicy = tc.storage, tc.policy }))
			got := e.waitReady(name)
			org := got.Status.OrganizationID
			for range 250 { // more than two delete batches
				insertActivity(t, e, org, e.clock.Now())
			}
			// Its admin hands the organization over before it is
			// deactivated, when nobody can sign in to it any more.
			var handOver string
			if tc.policy == v1alpha1.DeletionRetain && tc.storage == v1alpha1.StorageShared {
				handOver = e.adminAdoptionToken(name)
			}
			if err := e.c.Delete(e.ctx, got); err != nil {
				t.Fatal(err)
			}
			e.eventually(30*time.Second, "tenant gone", func() (bool, string) {
				err := e.c.Get(e.ctx, client.ObjectKeyFromObject(got), &v1alpha1.WorkPulseTenant{})
				return apierrors.IsNotFound(err), fmt.Sprint(err)
			})
			if _, err := e.cronJob(specs.DailySummaryName(org)); !apierrors.IsNotFound(err) {
				t.Errorf("daily-summary CronJob: %v", err)
			}
			var active bool
			if err := e.db.Owner.QueryRow(e.ctx, "SELECT active FROM auth.organizations WHERE id = $1", org).Scan(&active); err != nil || active {
				t.Errorf("organization active=%t (%v), want deactivated", active, err)
			}
			rows := e.queryInt("SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1", org)
			tableLeft := e.queryInt("SELECT count(*) FROM pg_class WHERE relname = $1", storage.DedicatedTable(org)) == 1
			switch tc.policy {
			case v1alpha1.DeletionDelete:
				if rows != 0 || tableLeft {
					t.Errorf("%d rows left, table left %t", rows, tableLeft)
				}
			case v1alpha1.DeletionRetain:
				if rows != 250 || (tc.storage == v1alpha1.StorageDedicated) != tableLeft {
					t.Errorf("%d rows kept (want 250), table left %t", rows, tableLeft)
				}
			}
			if tc.policy == v1alpha1.DeletionRetain && tc.storage == v1alpha1.StorageShared {
				// A retained organization can be taken over again.
				e.tokenSecret(name+"-adoption", handOver)
				e.create(e.tenant(name+"-again", adopting(org, name+"-adoption")))
				again := e.waitReady(name + "-again")
				if again.Status.OrganizationID != org {
					t.Errorf("adopted %s, want %s", again.Status.OrganizationID, org)
				}
				if err := e.db.Owner.QueryRow(e.ctx, "SELECT active FROM auth.organizations WHERE id = $1", org).Scan(&active); err != nil || !active {
					t.Errorf("adopted organization active=%t (%v)", active, err)
				}
			}
		})
	}
}
