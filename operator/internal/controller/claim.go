package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
)

// claim is what an operator makes of a tenant, by its installation label.
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
)

// claimOf decides by the tenant's labels and the operator's installation.
// Two operators watching one namespace (two installations in a cluster)
// would both provision a tenant each in its own database, and fight over
// its status and finalizer: exactly one has it. An operator without an
// installation name (one installation, as before the label existed) takes
// the tenants nobody claimed and claims none.
func claimOf(labels map[string]string, installation string) claim {
	switch owner := labels[v1alpha1.LabelInstallation]; {
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
