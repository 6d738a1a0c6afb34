package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
)

// claim is what an operator makes of a tenant, by its installation label
// and the installation holding its data.
type claim int

const (
	// claimOurs: this installation's tenant, to reconcile.
	claimOurs claim = iota
	// claimUnclaimed: no installation's yet; this operator labels it as
	// its own before anything else, and the first to do so has it.
	claimUnclaimed
	// claimOthers: another installation's tenant, never touched (no
	// finalizer, no organization, no partitions, no status).
	claimOthers
	// claimHeld: its data is in this installation's database, but its
	// label names another installation. Still reconciled here, with
	// ConditionInstallationChangeHeld: acting on the label would leave
	// the organization behind and start an empty one.
	claimHeld
	// claimAbandoned: as claimHeld, and v1alpha1.AnnotationAbandonData
	// gives this installation's data up: released to the label's
	// installation.
	claimAbandoned
)

// claimOf decides by the tenant's labels, its annotations and the
// operator's installation. Two operators watching one namespace (two
// installations in a cluster) would both provision a tenant each in its
// own database, and fight over its status and finalizer: exactly one has
// it, the one holding its data when some installation does, else the one
// its label names. An operator without an installation name (one
// installation, as before the label existed) takes the tenants nobody
// claimed and claims none.
func claimOf(labels, annotations map[string]string, installation string) claim {
	owner, data := labels[v1alpha1.LabelInstallation], annotations[v1alpha1.AnnotationDataInstallation]
	switch {
	case data != "" && data != installation:
		return claimOthers
	case data != "" && owner != "" && owner != installation && annotations[v1alpha1.AnnotationAbandonData] == data:
		return claimAbandoned
	case data != "" && owner != "" && owner != installation:
		return claimHeld
	case owner == "" && installation == "":
		return claimOurs
	case owner == "":
		return claimUnclaimed
	case owner == installation:
		return claimOurs
	default:
		return claimOthers
	}
}

// claim labels t as this installation's. The update carries t's resource
// version, so of two operators claiming one tenant at once the second is
// refused with a conflict (false, nil): it reads the tenant again and finds
// it claimed by the first.
func (r *TenantReconciler) claim(ctx context.Context, t *v1alpha1.WorkPulseTenant) (bool, error) {
	patch := client.MergeFromWithOptions(t.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	t.Labels[v1alpha1.LabelInstallation] = r.Config.Installation
	if err := r.Patch(ctx, t, patch); err != nil {
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return false, err
	}
	r.event(t, corev1.EventTypeNormal, "Claimed", "Claim", "reconciled by the installation %s", r.Config.Installation)
	return true, nil
}

// holdInstallationChange reports on t whether its label asks for a move
// this installation, which holds its data, does not make.
func (r *TenantReconciler) holdInstallationChange(t *v1alpha1.WorkPulseTenant, held bool) {
	if !held {
		meta.RemoveStatusCondition(&t.Status.Conditions, v1alpha1.ConditionInstallationChangeHeld)
		return
	}
	to := t.Labels[v1alpha1.LabelInstallation]
	setCondition(t, v1alpha1.ConditionInstallationChangeHeld, metav1.ConditionTrue, "DataInAnotherInstallation", fmt.Sprintf(
		"the label %s names %s, but the organization's data is in the database of %s, which keeps reconciling the tenant: "+
			"set the label back to %s, or annotate %s=%s to start the tenant over, empty, in %s (the data stays behind)",
		v1alpha1.LabelInstallation, to, r.Config.Installation, r.Config.Installation, v1alpha1.AnnotationAbandonData, r.Config.Installation, to))
}

// release gives up a tenant whose data was abandoned: its CronJobs go and
// its organization is deactivated (its rows stay in this installation's
// database, as with deletionPolicy Retain), then its status, the data
// annotation and the finalizer are cleared in that order, so that the
// label's installation starts from nothing. The last patch carries the
// resource version: a tenant changed meanwhile is read again.
func (r *TenantReconciler) release(ctx context.Context, t *v1alpha1.WorkPulseTenant) (ctrl.Result, error) {
	orgID := organizationID(t)
	other, err := r.deleteJobs(ctx, t, orgID)
	if err != nil {
		return ctrl.Result{}, err
	}
	if other == "" && t.Spec.AdoptOrganizationID == "" {
		if err := r.deactivate(ctx, t, orgID); err != nil {
			return ctrl.Result{}, err
		}
	}
	base := t.DeepCopy()
	t.Status = v1alpha1.WorkPulseTenantStatus{}
	if err := r.Status().Patch(ctx, t, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	patch := client.MergeFromWithOptions(t.DeepCopy(), client.MergeFromWithOptimisticLock{})
	delete(t.Annotations, v1alpha1.AnnotationDataInstallation)
	delete(t.Annotations, v1alpha1.AnnotationAbandonData)
	controllerutil.RemoveFinalizer(t, finalizer)
	if err := r.Patch(ctx, t, patch); err != nil {
		if apierrors.IsConflict(err) {
			return ctrl.Result{Requeue: true}, nil
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.metrics.forget(t)
	r.metrics.ready.DeleteLabelValues(t.Namespace, t.Name)
	r.event(t, corev1.EventTypeWarning, "DataAbandoned", "Release", "handed to the installation %s; organization %s deactivated, its data left in the database of %s",
		t.Labels[v1alpha1.LabelInstallation], orgID, r.Config.Installation)
	return ctrl.Result{}, nil
}
