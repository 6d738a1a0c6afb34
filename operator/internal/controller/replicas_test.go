package controller

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/migrations"
	"github.com/workpulse/workpulse/operator/internal/storage"
)

func TestTwoOperatorReplicasRacingAgree(t *testing.T) {
	e := newParallelEnv(t)
	e.startOperator() // a second replica, without leader election, on purpose
	const n = 12
	for i := range n {
		e.create(e.tenant(fmt.Sprintf("race-%d", i), func(s *v1alpha1.WorkPulseTenantSpec) {
			if i%2 == 0 {
				s.Storage = v1alpha1.StorageDedicated
			}
		}))
	}
	for i := range n {
		got := e.waitReady(fmt.Sprintf("race-%d", i))
		org := got.Status.OrganizationID
		if admins := e.queryInt("SELECT count(*) FROM auth.users WHERE organization_id = $1", org); admins != 1 {
			t.Errorf("race-%d: %d users, want the one admin", i, admins)
		}
		if i%2 == 0 && len(e.months(storage.DedicatedTable(org))) != 5 {
			t.Errorf("race-%d: months %v", i, e.months(storage.DedicatedTable(org)))
		}
		var secret corev1.Secret
		if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: got.Status.AdminCredentialsSecret.Name}, &secret); err != nil {
			t.Fatal(err)
		}
		if code := e.login(string(secret.Data["email"]), string(secret.Data["password"])); code != http.StatusOK {
			t.Errorf("race-%d: the Secret's password does not log in (%d): replicas disagreed on it", i, code)
		}
	}
	var list batchv1.CronJobList
	if err := e.c.List(e.ctx, &list, client.InNamespace(e.jobsNS)); err != nil {
		t.Fatal(err)
	}
	// One per tenant and the installation's three.
	if len(list.Items) != n+3 {
		t.Errorf("%d CronJobs, want %d", len(list.Items), n+3)
	}

	t.Run("DDL waits for a migration holding the advisory lock.", func(t *testing.T) {
		conn, err := e.db.Owner.Acquire(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		if _, err := conn.Exec(e.ctx, "SELECT pg_advisory_lock($1)", migrations.AdvisoryLockKey()); err != nil {
			t.Fatal(err)
		}
		e.create(e.tenant("blocked", func(s *v1alpha1.WorkPulseTenantSpec) { s.Storage = v1alpha1.StorageDedicated }))
		time.Sleep(3 * time.Second)
		c := meta.FindStatusCondition(e.get("blocked").Status.Conditions, v1alpha1.ConditionPartitionsReady)
		if c != nil && c.Status == metav1.ConditionTrue {
			t.Error("partitions were created while a migration held the lock")
		}
		if _, err := conn.Exec(e.ctx, "SELECT pg_advisory_unlock($1)", migrations.AdvisoryLockKey()); err != nil {
			t.Fatal(err)
		}
		e.waitReady("blocked")
	})
}
