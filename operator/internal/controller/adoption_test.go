package controller

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
	"github.com/workpulse/workpulse/operator/internal/storage"
)

// TestAdoptingAnOrganizationTakesATokenItsAdminIssued plays someone who
// may create WorkPulseTenants but is no member of a self-registered
// organization. Naming its ID without a token, with a made-up one or
// with one already spent takes nothing over: no admin, no setting, no
// partition move, no CronJob, and deleting the resource under Delete
// leaves the organization's rows. A token its admin issued adopts it.
func TestAdoptingAnOrganizationTakesATokenItsAdminIssued(t *testing.T) {
	e := newParallelEnv(t)
	status, reg := e.callAuth("/api/auth/register", "", map[string]string{"email": "boss@victim.example", "password": "correct horse",
		"name": "Victim Boss", "organization_name": "Victim Corp"})
	if status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, reg)
	}
	org := reg["user"].(map[string]any)["organization_id"].(string)
	month := e.clock.Now().Format("activity_logs_shared_2006_01")
	e.eventually(30*time.Second, "the shared tree's current month", func() (bool, string) {
		return e.queryInt("SELECT count(*) FROM pg_class WHERE relname = $1", month) == 1, month
	})
	for range 10 {
		insertActivity(t, e, org, e.clock.Now())
	}
	valid := e.adoptionToken("boss@victim.example", "correct horse")
	e.tokenSecret("made-up", "a-token-nobody-issued")
	e.tokenSecret("valid", valid)

	untouched := func(t *testing.T, name string) {
		t.Helper()
		var orgName string
		var users int
		if err := e.db.Owner.QueryRow(e.ctx, "SELECT name, (SELECT count(*) FROM auth.users WHERE organization_id = $1) FROM auth.organizations WHERE id = $1", org).Scan(&orgName, &users); err != nil || orgName != "Victim Corp" || users != 1 {
			t.Errorf("%s: organization %q with %d users (%v), want Victim Corp with its 1 user", name, orgName, users, err)
		}
		if _, err := e.cronJob(specs.DailySummaryName(org)); !apierrors.IsNotFound(err) {
			t.Errorf("%s: the organization's CronJob exists (%v)", name, err)
		}
		if n := e.queryInt("SELECT count(*) FROM pg_class WHERE relname = $1", storage.DedicatedTable(org)); n != 0 {
			t.Errorf("%s: a Dedicated table was made for the organization", name)
		}
		if n := e.queryInt("SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1", org); n != 10 {
			t.Errorf("%s: %d of the organization's 10 rows left", name, n)
		}
	}
	refuse := func(t *testing.T, name, secret, code string) {
		t.Helper()
		e.create(e.tenant(name, adopting(org, secret), func(s *v1alpha1.WorkPulseTenantSpec) {
			s.Storage, s.DeletionPolicy, s.Plan = v1alpha1.StorageDedicated, v1alpha1.DeletionDelete, v1alpha1.PlanEnterprise
		}))
		e.eventually(30*time.Second, "AdoptionRefused", func() (bool, string) {
			got := e.get(name)
			for _, typ := range []string{v1alpha1.ConditionReady, v1alpha1.ConditionOrganizationProvisioned, v1alpha1.ConditionPartitionsReady, v1alpha1.ConditionJobsScheduled} {
				c := meta.FindStatusCondition(got.Status.Conditions, typ)
				if c == nil || c.Status != metav1.ConditionFalse || c.Reason != "AdoptionRefused" || !strings.Contains(c.Message, code) {
					return false, fmt.Sprintf("%s: %+v", typ, c)
				}
			}
			return true, ""
		})
		untouched(t, name)
		got := e.get(name)
		if err := e.c.Delete(e.ctx, got); err != nil {
			t.Fatal(err)
		}
		e.eventually(30*time.Second, "refused tenant gone", func() (bool, string) {
			err := e.c.Get(e.ctx, client.ObjectKeyFromObject(got), &v1alpha1.WorkPulseTenant{})
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		})
		untouched(t, name+" deleted")
		var active bool
		if err := e.db.Owner.QueryRow(e.ctx, "SELECT active FROM auth.organizations WHERE id = $1", org).Scan(&active); err != nil || !active {
			t.Errorf("%s deleted: organization active=%t (%v), want still active", name, active, err)
		}
	}
	t.Run("Without the token's Secret the adoption is refused.", func(t *testing.T) {
		refuse(t, "no-token", "missing", "ADOPTION_TOKEN_REQUIRED")
	})
	t.Run("A token nobody issued is refused.", func(t *testing.T) {
		refuse(t, "wrong-token", "made-up", "ADOPTION_TOKEN_INVALID")
	})
	t.Run("The admin's token adopts the organization.", func(t *testing.T) {
		e.create(e.tenant("adopter", adopting(org, "valid"), func(s *v1alpha1.WorkPulseTenantSpec) { s.DisplayName = "Adopted Corp" }))
		got := e.waitReady("adopter")
		if c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionOrganizationProvisioned); got.Status.OrganizationID != org || c.Reason != "Adopted" {
			t.Errorf("adopted %s (%+v), want %s Adopted", got.Status.OrganizationID, c, org)
		}
		var name, managedBy string
		if err := e.db.Owner.QueryRow(e.ctx, "SELECT name, managed_by::text FROM auth.organizations WHERE id = $1", org).Scan(&name, &managedBy); err != nil ||
			name != "Adopted Corp" || managedBy != string(got.UID) {
			t.Errorf("organization %q managed by %q (%v), want Adopted Corp managed by %s", name, managedBy, err, got.UID)
		}
		e.mustCronJob(specs.DailySummaryName(org))
		if err := e.c.Delete(e.ctx, got); err != nil {
			t.Fatal(err)
		}
		e.eventually(30*time.Second, "adopter gone", func() (bool, string) {
			err := e.c.Get(e.ctx, client.ObjectKeyFromObject(got), &v1alpha1.WorkPulseTenant{})
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		})
	})
	t.Run("A spent token is refused.", func(t *testing.T) {
		e.create(e.tenant("reused-token", adopting(org, "valid")))
		e.eventually(30*time.Second, "AdoptionRefused", func() (bool, string) {
			c := meta.FindStatusCondition(e.get("reused-token").Status.Conditions, v1alpha1.ConditionReady)
			return c != nil && c.Reason == "AdoptionRefused" && strings.Contains(c.Message, "ADOPTION_TOKEN_INVALID"), fmt.Sprintf("%+v", c)
		})
	})
}
