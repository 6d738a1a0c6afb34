package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
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
	data := func(v string) map[string]string { return map[string]string{v1alpha1.AnnotationDataInstallation: v} }
	abandoned := func(v string) map[string]string {
		return map[string]string{v1alpha1.AnnotationDataInstallation: v, v1alpha1.AnnotationAbandonData: v}
	}
	for _, tc := range []struct {
		name                string
		labels, annotations map[string]string
		installation        string
		want                claim
	}{
		{"An operator takes a tenant labelled with its installation.", labelled("eu.wp"), nil, "eu.wp", claimOurs},
		{"It claims a tenant without the label.", nil, nil, "eu.wp", claimUnclaimed},
		{"It claims one whose label is empty.", labelled(""), nil, "eu.wp", claimUnclaimed},
		{"It leaves another installation's.", labelled("us.wp"), nil, "eu.wp", claimOthers},
		{"Without an installation name it takes the tenants without the label, unclaimed.", nil, nil, "", claimOurs},
		{"Without one it still leaves a labelled tenant.", labelled("us.wp"), nil, "", claimOthers},
		{"It takes its own tenant whose data it holds.", labelled("eu.wp"), data("eu.wp"), "eu.wp", claimOurs},
		{"It holds one whose data it holds, relabelled for another installation.", labelled("us.wp"), data("eu.wp"), "eu.wp", claimHeld},
		{"The other installation leaves it, whatever the label says.", labelled("us.wp"), data("eu.wp"), "us.wp", claimOthers},
		{"It releases one whose data was abandoned.", labelled("us.wp"), abandoned("eu.wp"), "eu.wp", claimAbandoned},
		{"The new installation waits for that release.", labelled("us.wp"), abandoned("eu.wp"), "us.wp", claimOthers},
		{"Abandoning another installation's data than the one holding it releases nothing.", labelled("us.wp"),
			map[string]string{v1alpha1.AnnotationDataInstallation: "eu.wp", v1alpha1.AnnotationAbandonData: "asia.wp"}, "eu.wp", claimHeld},
		{"An abandonment of its own tenant's data is no move, and ignored.", labelled("eu.wp"), abandoned("eu.wp"), "eu.wp", claimOurs},
		{"Its data's tenant whose label was removed is claimed again.", nil, data("eu.wp"), "eu.wp", claimUnclaimed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := claimOf(tc.labels, tc.annotations, tc.installation); got != tc.want {
				t.Fatalf("claimOf(%v, %v, %q) = %d; want %d", tc.labels, tc.annotations, tc.installation, got, tc.want)
			}
		})
	}
}

// A tenant relabelled for another installation keeps its organization where its data is: the
// move is held (a condition on the tenant; the other operator provisions nothing) until the
// label names the data's installation again, or an annotation abandons the data, which hands the
// tenant over to start empty there.
func TestARelabelledTenantStaysWithItsDataUntilTheDataIsAbandoned(t *testing.T) {
	const first, second = "team-a.workpulse", "team-b.workpulse"
	a := newParallelEnv(t, func(c *Config) { c.Installation = first })
	b := newEnv(t, func(c *Config) { c.Installation, c.WatchNamespaces = second, []string{a.ns} })
	tenant := a.tenant("moving")
	tenant.Labels = map[string]string{v1alpha1.LabelInstallation: first}
	a.create(tenant)
	org := a.waitReady("moving").Status.OrganizationID
	if got := a.get("moving").Annotations[v1alpha1.AnnotationDataInstallation]; got != first {
		t.Fatalf("data installation %q; want %s", got, first)
	}
	change := func(mutate func(*v1alpha1.WorkPulseTenant)) {
		t.Helper()
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			tn := a.get("moving")
			mutate(tn)
			return a.c.Update(a.ctx, tn)
		}); err != nil {
			t.Fatal(err)
		}
	}
	relabel := func(to string) func(*v1alpha1.WorkPulseTenant) {
		return func(tn *v1alpha1.WorkPulseTenant) { tn.Labels[v1alpha1.LabelInstallation] = to }
	}
	jobs := func(e *testEnv) int {
		var list batchv1.CronJobList
		if err := e.c.List(e.ctx, &list, client.InNamespace(e.jobsNS), client.MatchingLabels{specs.LabelTenantName: "moving"}); err != nil {
			t.Fatal(err)
		}
		return len(list.Items)
	}
	// placed checks whether e's database holds the organization and e schedules CronJobs of the tenant.
	placed := func(t *testing.T, e *testEnv, name string, organization, cronJobs bool) {
		t.Helper()
		orgs, n := e.queryInt("SELECT count(*) FROM auth.organizations WHERE id = $1", org), jobs(e)
		if (orgs == 1) != organization || (n > 0) != cronJobs {
			t.Errorf("%s: the organization %d times, %d CronJobs of the tenant; want the organization %v, CronJobs %v",
				name, orgs, n, organization, cronJobs)
		}
	}
	held := func() *metav1.Condition {
		return meta.FindStatusCondition(a.get("moving").Status.Conditions, v1alpha1.ConditionInstallationChangeHeld)
	}
	t.Run("Relabelled, the tenant stays Ready where its data is, which says the move is held.", func(t *testing.T) {
		change(relabel(second))
		a.eventually(30*time.Second, "the move held", func() (bool, string) {
			c := held()
			return c != nil && c.Status == metav1.ConditionTrue && strings.Contains(c.Message, v1alpha1.AnnotationAbandonData+"="+first),
				fmt.Sprint(c)
		})
		// Time for the second operator to act, had it taken the tenant.
		time.Sleep(2 * time.Second)
		placed(t, a, first, true, true)
		placed(t, b, second, false, false)
		a.waitReady("moving")
	})
	t.Run("Labelled back, the hold is lifted.", func(t *testing.T) {
		change(relabel(first))
		a.eventually(30*time.Second, "the hold lifted", func() (bool, string) { c := held(); return c == nil, fmt.Sprint(c) })
	})
	t.Run("Abandoned, the tenant starts over, empty, in the second installation; the data stays in the first.", func(t *testing.T) {
		change(func(tn *v1alpha1.WorkPulseTenant) {
			tn.Labels[v1alpha1.LabelInstallation] = second
			tn.Annotations[v1alpha1.AnnotationAbandonData] = first
		})
		a.eventually(60*time.Second, "provisioned by the second installation", func() (bool, string) {
			tn := a.get("moving")
			return tn.Annotations[v1alpha1.AnnotationDataInstallation] == second && b.queryInt("SELECT count(*) FROM auth.organizations WHERE id = $1", org) == 1,
				fmt.Sprintf("annotations %v", tn.Annotations)
		})
		tn := a.waitReady("moving")
		if _, ok := tn.Annotations[v1alpha1.AnnotationAbandonData]; ok {
			t.Errorf("the abandonment outlived the release: %v", tn.Annotations)
		}
		// Abandoned data stays; its jobs go.
		placed(t, a, first, true, false)
		placed(t, b, second, true, true)
	})
}
