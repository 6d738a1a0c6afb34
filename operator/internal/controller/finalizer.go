package controller

import (
	"context"
	"errors"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
)

// finalizer keeps a deleted tenant until its jobs are removed, its data
// handled according to its deletion policy, and its organization
// deactivated.
const finalizer = "workpulse.io/tenant"

// ensureFinalizer adds the finalizer before anything is created, so that
// nothing the operator makes can outlive the resource unnoticed, and
// records this installation as the one holding the tenant's data, so that
// a later relabel is held rather than acted on (claimOf). A tenant
// provisioned before the annotation existed gets it at its next reconcile.
func (r *TenantReconciler) ensureFinalizer(ctx context.Context, t *v1alpha1.WorkPulseTenant) error {
	recorded := r.Config.Installation == "" || t.Annotations[v1alpha1.AnnotationDataInstallation] == r.Config.Installation
	if controllerutil.ContainsFinalizer(t, finalizer) && recorded {
		return nil
	}
	patch := client.MergeFromWithOptions(t.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.AddFinalizer(t, finalizer)
	if !recorded {
		if t.Annotations == nil {
			t.Annotations = map[string]string{}
		}
		t.Annotations[v1alpha1.AnnotationDataInstallation] = r.Config.Installation
	}
	return r.Patch(ctx, t, patch)
}

// reconcileDelete runs the deletion steps; each is idempotent, so an
// interrupted deletion resumes where it stopped.
func (r *TenantReconciler) reconcileDelete(ctx context.Context, t *v1alpha1.WorkPulseTenant) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(t, finalizer) {
		return ctrl.Result{}, nil
	}
	orgID := organizationID(t)
	other, err := r.deleteJobs(ctx, t, orgID)
	if err != nil {
		return ctrl.Result{}, r.deletionFailed(ctx, t, "CronJobDeleteFailed", err)
	}
	if other != "" {
		// Another resource adopted the same organization: it is still in
		// use, so nothing of it is deactivated or deleted.
		r.event(t, corev1.EventTypeNormal, "OrganizationInUse", "Delete", "organization %s is managed by tenant %s: left as it is", orgID, other)
		return r.removeFinalizer(ctx, t)
	}
	if t.Spec.AdoptOrganizationID != "" {
		ok, err := r.adopted(ctx, t, orgID)
		if err != nil {
			return ctrl.Result{}, r.deletionFailed(ctx, t, "DeactivateFailed", err)
		}
		if !ok {
			r.event(t, corev1.EventTypeNormal, "OrganizationNotAdopted", "Delete", "organization %s was never adopted by this resource: left as it is", orgID)
			return r.removeFinalizer(ctx, t)
		}
	}
	// Deactivated first, so no new activity arrives while rows are deleted.
	if err := r.deactivate(ctx, t, orgID); err != nil {
		return ctrl.Result{}, r.deletionFailed(ctx, t, "DeactivateFailed", err)
	}
	r.event(t, corev1.EventTypeNormal, "OrganizationDeactivated", "Delete", "deactivated organization %s (deletion policy %s)", orgID, t.Spec.DeletionPolicy)
	if t.Spec.DeletionPolicy == v1alpha1.DeletionDelete {
		n, err := r.store.DeleteData(ctx, orgID, r.Config.DeleteBatchSize)
		if err != nil {
			return ctrl.Result{}, r.deletionFailed(ctx, t, "DataDeleteFailed", err)
		}
		r.event(t, corev1.EventTypeNormal, "DataDeleted", "Delete", "deleted the organization's activity (%d rows)", n)
	}
	return r.removeFinalizer(ctx, t)
}

func (r *TenantReconciler) removeFinalizer(ctx context.Context, t *v1alpha1.WorkPulseTenant) (ctrl.Result, error) {
	r.metrics.forget(t)
	r.metrics.ready.DeleteLabelValues(t.Namespace, t.Name)
	patch := client.MergeFrom(t.DeepCopy())
	controllerutil.RemoveFinalizer(t, finalizer)
	return ctrl.Result{}, client.IgnoreNotFound(r.Patch(ctx, t, patch))
}

func (r *TenantReconciler) deletionFailed(ctx context.Context, t *v1alpha1.WorkPulseTenant, reason string, err error) error {
	base := t.DeepCopy()
	setCondition(t, v1alpha1.ConditionReady, metav1.ConditionFalse, reason, fmt.Sprintf("deletion is waiting: %v (retrying)", err))
	r.event(t, corev1.EventTypeWarning, reason, "Delete", "%v", err)
	_ = r.Status().Patch(ctx, t, client.MergeFrom(base))
	r.metrics.reconcileErrors.WithLabelValues("delete").Inc()
	return err
}

// deleteJobs deletes the tenant's CronJob, unless it belongs to another
// tenant managing the same organization, whose namespace/name it returns.
func (r *TenantReconciler) deleteJobs(ctx context.Context, t *v1alpha1.WorkPulseTenant, orgID string) (string, error) {
	cj, other, err := r.dailySummaryJob(ctx, t, orgID)
	if cj == nil || other != "" || err != nil {
		return other, err
	}
	// The Jobs and pods the CronJob started are garbage collected after it.
	err = r.Delete(ctx, cj, client.Preconditions{UID: &cj.UID}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	return "", client.IgnoreNotFound(err)
}

// dailySummaryJob returns the organization's daily-summary CronJob (nil
// when there is none) and, when another tenant made it, that tenant's
// namespace/name: the other resource manages the organization.
func (r *TenantReconciler) dailySummaryJob(ctx context.Context, t *v1alpha1.WorkPulseTenant, orgID string) (*batchv1.CronJob, string, error) {
	var cj batchv1.CronJob
	err := r.Get(ctx, client.ObjectKey{Namespace: r.Config.JobsNamespace, Name: specs.DailySummaryName(orgID)}, &cj)
	if apierrors.IsNotFound(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	if ns, name := cj.Labels[specs.LabelTenantNamespace], cj.Labels[specs.LabelTenantName]; ns != t.Namespace || name != t.Name {
		return &cj, ns + "/" + name, nil
	}
	return &cj, "", nil
}

// adopted tells whether auth records this resource as the manager of the
// organization it names to adopt: one whose adoption was never proven
// must not deactivate or delete anything when it goes.
func (r *TenantReconciler) adopted(ctx context.Context, t *v1alpha1.WorkPulseTenant, orgID string) (bool, error) {
	resp, err := r.auth.Get(ctx, orgID)
	if errors.Is(err, errTenantNotFound) {
		return false, nil
	}
	return err == nil && resp.ManagedBy == string(t.UID), err
}

// deactivate turns the organization off in auth (its members can no
// longer sign in), if it was ever created. The generation sent is one
// above the resource's, so auth applies it even when deletion did not
// bump the generation.
func (r *TenantReconciler) deactivate(ctx context.Context, t *v1alpha1.WorkPulseTenant, orgID string) error {
	if _, err := r.auth.Get(ctx, orgID); err != nil {
		if errors.Is(err, errTenantNotFound) {
			return nil
		}
		return err
	}
	_, err := r.auth.Put(ctx, orgID, settings(t, false, t.Generation+1))
	var ae *authError
	if errors.As(err, &ae) && ae.Status == 404 {
		return nil
	}
	return err
}
