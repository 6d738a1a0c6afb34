package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
)

func TestInvalidSpecsAreRefusedByTheAPIServer(t *testing.T) {
	e := newParallelEnv(t)
	cases := []struct {
		name   string
		mutate func(*v1alpha1.WorkPulseTenantSpec)
		want   string
	}{
		{"An unknown plan is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.Plan = "platinum" }, "spec.plan"},
		{"An unknown storage isolation is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.Storage = "Private" }, "spec.storage"},
		{"A time zone that is not an IANA name is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.TimeZone = "UTC+2 hours" }, "spec.timeZone"},
		{"The Local time zone is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.TimeZone = "Local" }, "IANA zone"},
		{"Retention shorter than premake is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.RetentionMonths, s.PremakeMonths = 2, 6 }, "retentionMonths must be at least premakeMonths"},
		{"Zero retention is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.RetentionMonths = -1 }, "spec.retentionMonths"},
		{"A schedule that is not five cron fields is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.DailySummary.Schedule = "CRON_TZ=UTC 0 0 * * *" }, "spec.dailySummary.schedule"},
		{"An admin email that is not an email is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.Admin.Email = "not-an-email" }, "spec.admin.email"},
		{"A tenant without admin or organization to adopt is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.Admin = nil }, "admin is required"},
		{"An organization to adopt must be a UUID.", adopting("acme", "token"), "spec.adoptOrganizationID"},
		{"Adopting together with a bootstrap admin is refused.", func(s *v1alpha1.WorkPulseTenantSpec) {
			admin := s.Admin
			adopting("8b2f0c56-4b8e-4d7c-9a57-2f8b3c1d0e11", "token")(s)
			s.Admin = admin
		}, "admin cannot be set with adoptOrganizationID"},
		{"Adopting without an adoption token is refused.", func(s *v1alpha1.WorkPulseTenantSpec) {
			s.AdoptOrganizationID, s.Admin = "8b2f0c56-4b8e-4d7c-9a57-2f8b3c1d0e11", nil
		}, "adoptOrganizationID and adoptionTokenSecretRef go together"},
		{"An adoption token without an organization to adopt is refused.", func(s *v1alpha1.WorkPulseTenantSpec) {
			s.AdoptionTokenSecretRef = &v1alpha1.SecretKeyReference{Name: "token"}
		}, "adoptOrganizationID and adoptionTokenSecretRef go together"},
		{"A display name is required.", func(s *v1alpha1.WorkPulseTenantSpec) { s.DisplayName = "" }, "spec.displayName"},
		{"An unknown deletion policy is refused.", func(s *v1alpha1.WorkPulseTenantSpec) { s.DeletionPolicy = "Archive" }, "spec.deletionPolicy"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := e.c.Create(e.ctx, e.tenant(fmt.Sprintf("bad-%d", i), tc.mutate))
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want Invalid mentioning %q", err, tc.want)
			}
		})
	}

	e.create(e.tenant("fixed"))
	e.waitReady("fixed")
	updates := []struct {
		name   string
		mutate func(*v1alpha1.WorkPulseTenantSpec)
		want   string
	}{
		{"An organization to adopt cannot be added later.", func(s *v1alpha1.WorkPulseTenantSpec) { s.AdoptOrganizationID = "8b2f0c56-4b8e-4d7c-9a57-2f8b3c1d0e11" }, "adoptOrganizationID can only be set when the tenant is created"},
		{"The bootstrap admin cannot be changed.", func(s *v1alpha1.WorkPulseTenantSpec) { s.Admin.Email = "other@example.com" }, "admin is only used to create the first administrator"},
	}
	for _, tc := range updates {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.tryUpdate("fixed", tc.mutate); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want Invalid mentioning %q", err, tc.want)
			}
		})
	}
	t.Run("An adopted organization cannot be changed.", func(t *testing.T) {
		org := e.get("fixed").Status.OrganizationID
		// With a valid token from the organization's admin: the conflict
		// is found before the token is spent or anything changes.
		e.tokenSecret("adopter-token", e.adminAdoptionToken("fixed"))
		e.create(e.tenant("adopter", adopting(org, "adopter-token")))
		err := e.tryUpdate("adopter", func(s *v1alpha1.WorkPulseTenantSpec) { s.AdoptOrganizationID = "8b2f0c56-4b8e-4d7c-9a57-2f8b3c1d0e11" })
		if !apierrors.IsInvalid(err) {
			t.Errorf("got %v, want Invalid", err)
		}
	})
	t.Run("A second resource adopting a managed organization is reported, and deleting it leaves the organization alone.", func(t *testing.T) {
		org := e.get("fixed").Status.OrganizationID
		e.eventually(30*time.Second, "OrganizationInUse", func() (bool, string) {
			c := meta.FindStatusCondition(e.get("adopter").Status.Conditions, v1alpha1.ConditionReady)
			return c != nil && c.Reason == "OrganizationInUse" && strings.Contains(c.Message, e.ns+"/fixed"), fmt.Sprintf("%+v", c)
		})
		if n := e.queryInt("SELECT count(*) FROM auth.adoption_tokens WHERE organization_id = $1 AND used_at IS NOT NULL", org); n != 0 {
			t.Errorf("%d adoption tokens spent by a resource in conflict, want 0", n)
		}
		e.update("adopter", func(s *v1alpha1.WorkPulseTenantSpec) { s.DeletionPolicy = v1alpha1.DeletionDelete })
		adopter := e.get("adopter")
		if err := e.c.Delete(e.ctx, adopter); err != nil {
			t.Fatal(err)
		}
		e.eventually(30*time.Second, "adopter gone", func() (bool, string) {
			err := e.c.Get(e.ctx, client.ObjectKeyFromObject(adopter), &v1alpha1.WorkPulseTenant{})
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		})
		if _, err := e.cronJob(specs.DailySummaryName(org)); err != nil {
			t.Errorf("the managing tenant's CronJob: %v", err)
		}
		var active bool
		if err := e.db.Owner.QueryRow(e.ctx, "SELECT active FROM auth.organizations WHERE id = $1", org).Scan(&active); err != nil || !active {
			t.Errorf("organization active=%t (%v)", active, err)
		}
	})
	t.Run("A well-formed but unknown time zone is reported on the resource.", func(t *testing.T) {
		e.create(e.tenant("mars", func(s *v1alpha1.WorkPulseTenantSpec) { s.TimeZone = "Mars/Olympus_Mons" }))
		e.eventually(30*time.Second, "InvalidTimeZone", func() (bool, string) {
			c := meta.FindStatusCondition(e.get("mars").Status.Conditions, v1alpha1.ConditionJobsScheduled)
			return c != nil && c.Reason == "InvalidTimeZone" && strings.Contains(c.Message, "Mars/Olympus_Mons"), fmt.Sprintf("%+v", c)
		})
		if n := testutil.ToFloat64(newMetrics().reconcileErrors.WithLabelValues("jobs")); n < 1 {
			t.Errorf("reconcile errors metric of the jobs step: %v", n)
		}
	})
	t.Run("Adopting an organization that does not exist is reported on the resource.", func(t *testing.T) {
		e.create(e.tenant("ghost", adopting("0d5b6a8e-1111-4c3b-8a7e-5f0e9d2c3b4a", "no-such-secret")))
		e.eventually(30*time.Second, "OrganizationNotFound", func() (bool, string) {
			c := meta.FindStatusCondition(e.get("ghost").Status.Conditions, v1alpha1.ConditionReady)
			return c != nil && c.Status == metav1.ConditionFalse && c.Reason == "OrganizationNotFound", fmt.Sprintf("%+v", c)
		})
	})
}
