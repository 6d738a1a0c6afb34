package controller

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
)

// Two installations in one cluster whose operators both watch one namespace: each tenant is
// reconciled by exactly one of them (the one its label names, or the first to claim it), in
// that installation's database only, and its deletion is that operator's too.
func TestTwoOperatorsWatchingOneNamespaceEachReconcileOnlyTheirOwnTenants(t *testing.T) {
	a := newParallelEnv(t, func(c *Config) { c.Installation = "team-a.workpulse" })
	b := newEnv(t, func(c *Config) { c.Installation, c.WatchNamespaces = "team-b.workpulse", []string{a.ns} })
	envs := map[string]*testEnv{"team-a.workpulse": a, "team-b.workpulse": b}
	for _, tc := range []struct {
		name, tenant, label string
	}{
		{"A tenant labelled for the second installation is the second's only.", "for-b", "team-b.workpulse"},
		{"A tenant labelled for the first installation is the first's only.", "for-a", "team-a.workpulse"},
		{"A tenant without the label is claimed by one of them, and only that one provisions it.", "unclaimed", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenant := a.tenant(tc.tenant)
			if tc.label != "" {
				tenant.Labels = map[string]string{v1alpha1.LabelInstallation: tc.label}
			}
			a.create(tenant)
			got := a.waitReady(tc.tenant)
			owner := got.Labels[v1alpha1.LabelInstallation]
			if tc.label != "" && owner != tc.label {
				t.Fatalf("labelled %q, now %q", tc.label, owner)
			}
			if envs[owner] == nil {
				t.Fatalf("claimed as %q, no installation's", owner)
			}
			if len(got.Finalizers) != 1 {
				t.Errorf("finalizers %v; want the one of its operator", got.Finalizers)
			}
			// Time for the other operator to act, had it taken the tenant too.
			time.Sleep(2 * time.Second)
			for name, e := range envs {
				want := int64(0)
				if name == owner {
					want = 1
				}
				if n := e.queryInt("SELECT count(*) FROM auth.organizations WHERE id = $1", got.Status.OrganizationID); n != want {
					t.Errorf("the organization is %d times in %s's database; want %d", n, name, want)
				}
				var jobs batchv1.CronJobList
				if err := e.c.List(e.ctx, &jobs, client.InNamespace(e.jobsNS), client.MatchingLabels{specs.LabelTenantName: tc.tenant}); err != nil {
					t.Fatal(err)
				}
				if name != owner && len(jobs.Items) > 0 {
					t.Errorf("%s scheduled %d CronJobs for the tenant", name, len(jobs.Items))
				}
			}
			if err := a.c.Delete(a.ctx, got); err != nil {
				t.Fatal(err)
			}
			a.eventually(60*time.Second, "the tenant gone", func() (bool, string) {
				err := a.c.Get(a.ctx, client.ObjectKeyFromObject(got), &v1alpha1.WorkPulseTenant{})
				return apierrors.IsNotFound(err), "still there"
			})
		})
	}
}

func TestClaimOfTellsOursUnclaimedAndAnotherInstallations(t *testing.T) {
	labelled := func(v string) map[string]string { return map[string]string{v1alpha1.LabelInstallation: v} }
	for _, tc := range []struct {
		name         string
		labels       map[string]string
		installation string
		want         claim
	}{
		{"An operator takes a tenant labelled with its installation.", labelled("eu.wp"), "eu.wp", claimOurs},
		{"It claims a tenant without the label.", nil, "eu.wp", claimUnclaimed},
		{"It claims one whose label is empty.", labelled(""), "eu.wp", claimUnclaimed},
		{"It leaves another installation's.", labelled("us.wp"), "eu.wp", claimOthers},
		{"Without an installation name it takes the tenants without the label, unclaimed.", nil, "", claimOurs},
		{"Without one it still leaves a labelled tenant.", labelled("us.wp"), "", claimOthers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := claimOf(tc.labels, tc.installation); got != tc.want {
				t.Fatalf("claimOf(%v, %q) = %d; want %d", tc.labels, tc.installation, got, tc.want)
			}
		})
	}
}
