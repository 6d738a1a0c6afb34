package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
)

// jobs are the settings every CronJob of the operator is built with.
func (r *TenantReconciler) jobs() specs.Jobs {
	c := r.Config
	return specs.Jobs{
		Namespace: c.JobsNamespace, Image: c.ReportImage, ImagePullPolicy: corev1.PullPolicy(c.ReportImagePullPolicy),
		DatabaseSecret: c.ReportDatabaseSecret, DatabaseSecretKey: c.ReportDatabaseSecretKey, DatabaseUser: c.ReportDatabaseUser,
		DatabasePasswordSecret: c.ReportDatabasePasswordSecret,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: c.JobCPURequest, corev1.ResourceMemory: c.JobMemoryRequest},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: c.JobCPULimit, corev1.ResourceMemory: c.JobMemoryLimit},
		},
		ServiceAccount: c.JobServiceAccount,
	}
}

// installJobs are owned by the installation's operator Deployment when
// one is configured: no tenant owns them, and they must go with the
// installation.
func (r *TenantReconciler) installJobs(ctx context.Context) ([]*batchv1.CronJob, error) {
	if r.Config.InstallOwner == "" {
		return r.jobs().Install(nil), nil
	}
	var owner appsv1.Deployment
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: r.Config.JobsNamespace, Name: r.Config.InstallOwner}, &owner); err != nil {
		return nil, transient("InstallOwnerMissing", err, "could not read Deployment %s/%s, the owner of the install-wide CronJobs",
			r.Config.JobsNamespace, r.Config.InstallOwner)
	}
	return r.jobs().Install(&metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: owner.Name, UID: owner.UID}), nil
}

// tenantZone is the tenant's time zone, which its CronJobs run in and its
// retention counts months in.
func tenantZone(t *v1alpha1.WorkPulseTenant) (*time.Location, error) {
	zone, err := time.LoadLocation(t.Spec.TimeZone)
	if err != nil || t.Spec.TimeZone == "Local" {
		return nil, permanent("InvalidTimeZone", "timeZone %q is not an IANA time zone known to the operator; use a name such as UTC or Europe/Paris", t.Spec.TimeZone)
	}
	return zone, nil
}

// reconcileJobs keeps the tenant's daily-summary CronJob (suspended with
// the tenant) and the install-wide CronJobs as specified.
func (r *TenantReconciler) reconcileJobs(ctx context.Context, t *v1alpha1.WorkPulseTenant) error {
	if _, err := tenantZone(t); err != nil {
		return err
	}
	install, err := r.installJobs(ctx)
	if err != nil {
		return err
	}
	for _, cj := range append(install, r.jobs().DailySummary(t)) {
		changed, err := r.apply(ctx, cj)
		if err != nil {
			var se *stepError
			if errors.As(err, &se) {
				return se
			}
			if apierrors.IsInvalid(err) {
				return permanent("CronJobInvalid", "the API server refused CronJob %s/%s: %v", cj.Namespace, cj.Name, err)
			}
			return transient("CronJobFailed", err, "could not create or update CronJob %s/%s", cj.Namespace, cj.Name)
		}
		if changed != "" {
			r.event(t, corev1.EventTypeNormal, "CronJob"+changed, "ScheduleJobs", "%s CronJob %s/%s (%s %s, suspended=%t)",
				changed, cj.Namespace, cj.Name, cj.Spec.Schedule, ptr.Deref(cj.Spec.TimeZone, ""), *cj.Spec.Suspend)
		}
	}
	state := "scheduled"
	if t.Spec.Suspend {
		state = "suspended"
	}
	setCondition(t, v1alpha1.ConditionJobsScheduled, metav1.ConditionTrue, "Scheduled",
		fmt.Sprintf("daily-summary CronJob %s/%s %s at %q in %s", r.Config.JobsNamespace, specs.DailySummaryName(t.Status.OrganizationID), state, t.Spec.DailySummary.Schedule, t.Spec.TimeZone))
	return nil
}

// apply creates want or updates the existing CronJob when it differs from
// want in anything want sets; it returns "Created", "Updated" or "".
func (r *TenantReconciler) apply(ctx context.Context, want *batchv1.CronJob) (string, error) {
	var have batchv1.CronJob
	err := r.Get(ctx, types.NamespacedName{Namespace: want.Namespace, Name: want.Name}, &have)
	if apierrors.IsNotFound(err) {
		err = r.Create(ctx, want)
		if apierrors.IsAlreadyExists(err) {
			return "", nil // a racing replica made it; the next pass compares
		}
		if err != nil {
			return "", err
		}
		return "Created", nil
	}
	if err != nil {
		return "", err
	}
	// Two resources adopting one organization would otherwise take turns
	// rewriting its CronJob.
	for _, k := range []string{specs.LabelTenantNamespace, specs.LabelTenantName} {
		if v, ok := have.Labels[k]; ok && want.Labels[k] != "" && v != want.Labels[k] {
			return "", permanent("OrganizationInUse", "CronJob %s/%s belongs to tenant %s/%s, which manages the same organization: delete one of the two resources",
				have.Namespace, have.Name, have.Labels[specs.LabelTenantNamespace], have.Labels[specs.LabelTenantName])
		}
	}
	if equality.Semantic.DeepDerivative(want.Spec, have.Spec) && equality.Semantic.DeepDerivative(want.Labels, have.Labels) &&
		equality.Semantic.DeepDerivative(want.OwnerReferences, have.OwnerReferences) {
		return "", nil
	}
	have.Spec = want.Spec
	if len(want.OwnerReferences) > 0 {
		have.OwnerReferences = want.OwnerReferences
	}
	for k, v := range want.Labels {
		if have.Labels == nil {
			have.Labels = map[string]string{}
		}
		have.Labels[k] = v
	}
	if err := r.Update(ctx, &have); err != nil {
		return "", err
	}
	return "Updated", nil
}
