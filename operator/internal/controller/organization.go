package controller

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/workpulse/workpulse/api/events"
	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
)

// organizationID is the tenant's organization: the adopted one, or else
// the resource's UID, which is already a UUID, unique, and known before
// anything is written, so retries and racing replicas agree on it without
// storing it first.
func organizationID(t *v1alpha1.WorkPulseTenant) string {
	if t.Spec.AdoptOrganizationID != "" {
		return t.Spec.AdoptOrganizationID
	}
	return string(t.UID)
}

// settings is the request carrying the tenant's settings to auth. Auth
// publishes them as tenant.updated when generation is newer than the one
// it applied, which is how every service learns of a plan, time zone,
// threshold or suspension change.
func settings(t *v1alpha1.WorkPulseTenant, active bool, generation int64) tenantRequest {
	s := events.TenantSettings{
		Name:                     t.Spec.DisplayName,
		PlanType:                 string(t.Spec.Plan),
		TimeZone:                 t.Spec.TimeZone,
		Suspended:                t.Spec.Suspend,
		Active:                   active,
		InactiveThresholdSeconds: int(t.Spec.Thresholds.InactiveSeconds),
		IdleThresholdSeconds:     int(t.Spec.Thresholds.IdleSeconds),
		OvertimeThresholdHours:   int(t.Spec.Thresholds.OvertimeHours),
		Generation:               generation,
	}
	// A Dedicated tenant's retention is its organization's: the
	// installation's retention pass then deletes the summaries, dedup keys
	// and sessions of the months the tenant's tree drops, as it does for an
	// organization whose admin set one.
	if t.Spec.Storage == v1alpha1.StorageDedicated {
		s.RetentionMonths = int(t.Spec.RetentionMonths)
	}
	return tenantRequest{TenantSettings: s, TenantUID: string(t.UID)}
}

// reconcileOrganization creates or adopts the organization and its
// bootstrap admin through auth's internal API and brings its settings up
// to date. It calls auth only when the spec changed since the last
// success: a steady-state pass costs nothing.
func (r *TenantReconciler) reconcileOrganization(ctx context.Context, t *v1alpha1.WorkPulseTenant) error {
	orgID := organizationID(t)
	t.Status.OrganizationID = orgID
	needAdmin := t.Spec.Admin != nil && t.Status.AdminCredentialsSecret == nil
	if c := meta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionOrganizationProvisioned); c != nil &&
		c.Status == metav1.ConditionTrue && c.ObservedGeneration == t.Generation && !needAdmin {
		return nil
	}
	req := settings(t, true, t.Generation)
	if t.Spec.AdoptOrganizationID != "" {
		// Before anything of the organization changes: another resource
		// managing it, or a missing one, leaves it as it is.
		if _, other, err := r.dailySummaryJob(ctx, t, orgID); err != nil {
			return transient("CronJobFailed", err, "could not read the organization's CronJob")
		} else if other != "" {
			return permanent("OrganizationInUse", "organization %s is managed by tenant %s: delete one of the two resources", orgID, other)
		}
		_, err := r.auth.Get(ctx, orgID)
		if errors.Is(err, errTenantNotFound) {
			return permanent("OrganizationNotFound", "adoptOrganizationID %s names no organization in WorkPulse: check the ID, or delete this resource and create it without adoptOrganizationID", orgID)
		}
		if err != nil {
			return authFailure(err)
		}
		if req.AdoptionToken, err = r.adoptionToken(ctx, t); err != nil {
			return err
		}
	}
	var secretName string
	if needAdmin {
		password, name, err := r.adminCredentials(ctx, t, orgID)
		var se *stepError
		if errors.As(err, &se) {
			return se
		}
		if err != nil {
			return transient("SecretFailed", err, "could not store the bootstrap admin's credentials")
		}
		req.Admin = &tenantAdmin{Email: t.Spec.Admin.Email, Name: t.Spec.Admin.Name, Password: password}
		secretName = name
	}
	resp, err := r.auth.Put(ctx, orgID, req)
	if err != nil {
		return authFailure(err)
	}
	switch {
	case resp.Created:
		r.event(t, corev1.EventTypeNormal, "OrganizationCreated", "Provision", "created organization %s", orgID)
	case t.Spec.AdoptOrganizationID != "" && !isTrue(t, v1alpha1.ConditionOrganizationProvisioned):
		r.event(t, corev1.EventTypeNormal, "OrganizationAdopted", "Provision", "adopted organization %s", orgID)
	default:
		r.event(t, corev1.EventTypeNormal, "SettingsUpdated", "Provision", "sent generation %d of the settings (suspended=%t)", t.Generation, t.Spec.Suspend)
	}
	if needAdmin {
		t.Status.AdminCredentialsSecret = &v1alpha1.SecretReference{Name: secretName}
		if resp.AdminCreated {
			r.event(t, corev1.EventTypeNormal, "AdminCreated", "Provision", "created the bootstrap admin %s; initial password in Secret %s", t.Spec.Admin.Email, secretName)
		}
	}
	reason, msg := "Provisioned", fmt.Sprintf("organization %s is active with generation %d of the settings", orgID, t.Generation)
	if t.Spec.AdoptOrganizationID != "" {
		reason = "Adopted"
	}
	if t.Spec.Suspend {
		msg = fmt.Sprintf("organization %s is suspended (generation %d)", orgID, t.Generation)
	}
	setCondition(t, v1alpha1.ConditionOrganizationProvisioned, metav1.ConditionTrue, reason, msg)
	return nil
}

func isTrue(t *v1alpha1.WorkPulseTenant, typ string) bool {
	return meta.IsStatusConditionTrue(t.Status.Conditions, typ)
}

func authFailure(err error) error {
	var ae *authError
	if errors.As(err, &ae) && ae.adoptionRefused() {
		return permanent("AdoptionRefused", "auth refused the adoption (%s: %s): have an admin of the organization issue a token (POST /api/organization/adoption-tokens) and put it in the Secret adoptionTokenSecretRef names, then change the resource (an annotation will do) to retry", ae.Code, ae.Message)
	}
	if errors.As(err, &ae) && ae.permanent() {
		return permanent("AuthRejected", "the auth service refused the organization (%s: %s); fix the spec", ae.Code, ae.Message)
	}
	return transient("AuthUnavailable", err, "could not reach the auth service's tenant API")
}

// adoptionToken reads the adoption token from the Secret the spec names.
// A missing Secret or key sends none: once this resource has adopted the
// organization auth needs no token, and before that it refuses the call
// with ADOPTION_TOKEN_REQUIRED, which says what to do.
func (r *TenantReconciler) adoptionToken(ctx context.Context, t *v1alpha1.WorkPulseTenant) (string, error) {
	ref := t.Spec.AdoptionTokenSecretRef
	if ref == nil {
		return "", nil
	}
	var s corev1.Secret
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: t.Namespace, Name: ref.Name}, &s)
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", transient("SecretFailed", err, "could not read the adoption token's Secret")
	}
	return strings.TrimSpace(string(s.Data[cmp.Or(ref.Key, "token")])), nil
}

// adminCredentials returns the bootstrap admin's initial password, stored
// once in a Secret owned by the tenant: the password is generated only
// when the Secret does not exist, so retries and racing replicas send
// auth the same one.
func (r *TenantReconciler) adminCredentials(ctx context.Context, t *v1alpha1.WorkPulseTenant, orgID string) (password, name string, err error) {
	name = specs.AdminSecretName(t)
	key := types.NamespacedName{Namespace: t.Namespace, Name: name}
	var s corev1.Secret
	// Secrets are read from the API server, never cached: the operator
	// has no business watching every Secret of the cluster.
	err = r.APIReader.Get(ctx, key, &s)
	if apierrors.IsNotFound(err) {
		buf := make([]byte, 18)
		if _, err := rand.Read(buf); err != nil {
			return "", "", err
		}
		password = base64.RawURLEncoding.EncodeToString(buf)
		s = *specs.AdminSecret(t, orgID, password)
		// Create replaces s with the stored object, whose StringData is
		// gone: the password is returned from the local copy.
		err = r.Create(ctx, &s)
		if err == nil {
			return password, name, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return "", "", err
		}
		err = r.APIReader.Get(ctx, key, &s)
	}
	if err != nil {
		return "", "", err
	}
	if !metav1.IsControlledBy(&s, t) {
		return "", "", permanent("SecretConflict", "Secret %s/%s exists and does not belong to this tenant: delete or rename it", t.Namespace, name)
	}
	return string(s.Data["password"]), name, nil
}
