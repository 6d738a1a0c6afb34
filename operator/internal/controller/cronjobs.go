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
)

// Labels on everything the operator creates.
const (
	labelManagedBy       = "app.kubernetes.io/managed-by"
	managedBy            = "workpulse-operator"
	labelComponent       = "app.kubernetes.io/component"
	labelTenantNamespace = "workpulse.io/tenant-namespace"
	labelTenantName      = "workpulse.io/tenant-name"
	labelOrganization    = "workpulse.io/organization-id"
)

// The install-wide jobs each cover every tenant, so the number of pods
// does not grow with the number of tenants.
const (
	idleDetectionJob = "workpulse-idle-detection"
	overtimeCheckJob = "workpulse-overtime-check"
)

func tenantLabels(t *v1alpha1.WorkPulseTenant) map[string]string {
	return map[string]string{
		labelManagedBy:       managedBy,
		labelTenantNamespace: t.Namespace,
		labelTenantName:      t.Name,
	}
}

// dailySummaryName is the tenant's CronJob: the organization ID keeps it
// unique across the namespaces tenants live in and within the 52
// characters a CronJob name may have.
func dailySummaryName(orgID string) string { return "daily-summary-" + orgID }

// jobSpec describes one of the CronJobs the operator runs.
type jobSpec struct {
	name, component string
	schedule        string
	timeZone        string
	args            []string
	suspend         bool
	// deadline bounds one run; startingDeadline is how late a missed run
	// may still start.
	deadline, startingDeadline time.Duration
	labels                     map[string]string
}

// cronJob builds the CronJob for spec: one pod at a time, a short
// history, bounded runs, modest resources and the services' hardened
// security context. The container runs the report image's entrypoint (the
// report binary) with the job's arguments and the report role's database
// URL.
func (r *TenantReconciler) cronJob(s jobSpec) *batchv1.CronJob {
	labels := map[string]string{
		"app.kubernetes.io/name": "workpulse-report",
		labelComponent:           s.component,
		labelManagedBy:           managedBy,
	}
	for k, v := range s.labels {
		labels[k] = v
	}
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: r.Config.JobsNamespace, Labels: labels},
		Spec: batchv1.CronJobSpec{
			Schedule:                   s.schedule,
			ConcurrencyPolicy:          batchv1.ForbidConcurrent,
			Suspend:                    ptr.To(s.suspend),
			StartingDeadlineSeconds:    ptr.To(int64(s.startingDeadline.Seconds())),
			SuccessfulJobsHistoryLimit: ptr.To(int32(1)),
			FailedJobsHistoryLimit:     ptr.To(int32(3)),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: batchv1.JobSpec{
					BackoffLimit:            ptr.To(int32(2)),
					ActiveDeadlineSeconds:   ptr.To(int64(s.deadline.Seconds())),
					TTLSecondsAfterFinished: ptr.To(int32(86400)),
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: labels},
						Spec: corev1.PodSpec{
							RestartPolicy:                corev1.RestartPolicyNever,
							ServiceAccountName:           r.Config.JobServiceAccount,
							AutomountServiceAccountToken: ptr.To(false),
							EnableServiceLinks:           ptr.To(false),
							SecurityContext: &corev1.PodSecurityContext{
								RunAsNonRoot:   ptr.To(true),
								RunAsUser:      ptr.To(int64(65532)),
								RunAsGroup:     ptr.To(int64(65532)),
								SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
							},
							Containers: []corev1.Container{{
								Name:            "report",
								Image:           r.Config.ReportImage,
								ImagePullPolicy: corev1.PullPolicy(r.Config.ReportImagePullPolicy),
								// The report image's entrypoint is the report
								// binary (/report, in the Dockerfile and in
								// hack/images alike): only its arguments are set.
								Args: s.args,
								Env: []corev1.EnvVar{
									{Name: "DATABASE_URL", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
										LocalObjectReference: corev1.LocalObjectReference{Name: r.Config.ReportDatabaseSecret},
										Key:                  r.Config.ReportDatabaseSecretKey,
									}}},
									{Name: "LOG_LEVEL", Value: "info"},
								},
								Resources: corev1.ResourceRequirements{
									Requests: corev1.ResourceList{corev1.ResourceCPU: r.Config.JobCPURequest, corev1.ResourceMemory: r.Config.JobMemoryRequest},
									Limits:   corev1.ResourceList{corev1.ResourceCPU: r.Config.JobCPULimit, corev1.ResourceMemory: r.Config.JobMemoryLimit},
								},
								SecurityContext: &corev1.SecurityContext{
									AllowPrivilegeEscalation: ptr.To(false),
									ReadOnlyRootFilesystem:   ptr.To(true),
									Privileged:               ptr.To(false),
									Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
								},
								TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
							}},
						},
					},
				},
			},
		},
	}
	if s.timeZone != "" {
		cj.Spec.TimeZone = ptr.To(s.timeZone)
	}
	return cj
}

func (r *TenantReconciler) dailySummary(t *v1alpha1.WorkPulseTenant) *batchv1.CronJob {
	labels := tenantLabels(t)
	labels[labelOrganization] = t.Status.OrganizationID
	return r.cronJob(jobSpec{
		name: dailySummaryName(t.Status.OrganizationID), component: "daily-summary",
		schedule: t.Spec.DailySummary.Schedule, timeZone: t.Spec.TimeZone,
		// No --date: the command summarizes every day not yet summarized,
		// so a run missed while the cluster was down catches up.
		args:    []string{"daily-summary", "--org", t.Status.OrganizationID},
		suspend: t.Spec.Suspend, deadline: 30 * time.Minute, startingDeadline: 6 * time.Hour,
		labels: labels,
	})
}

// installJobs are owned by the installation's operator Deployment when
// one is configured: no tenant owns them, and they must go with the
// installation.
func (r *TenantReconciler) installJobs(ctx context.Context) ([]*batchv1.CronJob, error) {
	jobs := []*batchv1.CronJob{
		r.cronJob(jobSpec{name: idleDetectionJob, component: "idle-detection", schedule: "*/2 * * * *", timeZone: "UTC",
			args: []string{"idle-detection"}, deadline: 110 * time.Second, startingDeadline: time.Minute}),
		r.cronJob(jobSpec{name: overtimeCheckJob, component: "overtime-check", schedule: "*/30 * * * *", timeZone: "UTC",
			args: []string{"overtime-check"}, deadline: 25 * time.Minute, startingDeadline: 10 * time.Minute}),
	}
	if r.Config.InstallOwner == "" {
		return jobs, nil
	}
	var owner appsv1.Deployment
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: r.Config.JobsNamespace, Name: r.Config.InstallOwner}, &owner); err != nil {
		return nil, transient("InstallOwnerMissing", err, "could not read Deployment %s/%s, the owner of the install-wide CronJobs",
			r.Config.JobsNamespace, r.Config.InstallOwner)
	}
	for _, cj := range jobs {
		cj.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: owner.Name, UID: owner.UID}}
	}
	return jobs, nil
}

// reconcileJobs keeps the tenant's daily-summary CronJob (suspended with
// the tenant) and the install-wide CronJobs as specified.
func (r *TenantReconciler) reconcileJobs(ctx context.Context, t *v1alpha1.WorkPulseTenant) error {
	if _, err := time.LoadLocation(t.Spec.TimeZone); err != nil || t.Spec.TimeZone == "Local" {
		return permanent("InvalidTimeZone", "timeZone %q is not an IANA time zone known to the operator; use a name such as UTC or Europe/Paris", t.Spec.TimeZone)
	}
	install, err := r.installJobs(ctx)
	if err != nil {
		return err
	}
	for _, cj := range append(install, r.dailySummary(t)) {
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
		fmt.Sprintf("daily-summary CronJob %s/%s %s at %q in %s", r.Config.JobsNamespace, dailySummaryName(t.Status.OrganizationID), state, t.Spec.DailySummary.Schedule, t.Spec.TimeZone))
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
	for _, k := range []string{labelTenantNamespace, labelTenantName} {
		if v, ok := have.Labels[k]; ok && want.Labels[k] != "" && v != want.Labels[k] {
			return "", permanent("OrganizationInUse", "CronJob %s/%s belongs to tenant %s/%s, which manages the same organization: delete one of the two resources",
				have.Namespace, have.Name, have.Labels[labelTenantNamespace], have.Labels[labelTenantName])
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
