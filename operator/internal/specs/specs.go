// Package specs builds the Kubernetes objects the operator creates, the
// tenants' and the installation's CronJobs and the bootstrap admin's
// Secret, as pure functions of the tenant and the settings: what an
// object looks like is tested by its output, apart from how it is applied.
package specs

import (
	"maps"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
)

// Labels on everything the operator creates.
const (
	LabelManagedBy       = "app.kubernetes.io/managed-by"
	ManagedBy            = "workpulse-operator"
	LabelComponent       = "app.kubernetes.io/component"
	LabelTenantNamespace = "workpulse.io/tenant-namespace"
	LabelTenantName      = "workpulse.io/tenant-name"
	LabelOrganization    = "workpulse.io/organization-id"
)

// The install-wide jobs each cover every tenant, so the number of pods
// does not grow with the number of tenants.
const (
	IdleDetectionJob = "workpulse-idle-detection"
	OvertimeCheckJob = "workpulse-overtime-check"
	// DueSummaryJob summarizes every organization's ended days, tenants
	// or not: most organizations register themselves and have no tenant.
	DueSummaryJob = "workpulse-daily-summary"
)

// TenantLabels mark an object as the operator's, made for tenant t.
func TenantLabels(t *v1alpha1.WorkPulseTenant) map[string]string {
	return map[string]string{
		LabelManagedBy:       ManagedBy,
		LabelTenantNamespace: t.Namespace,
		LabelTenantName:      t.Name,
	}
}

// DailySummaryName is the tenant's CronJob: the organization ID keeps it
// unique across the namespaces tenants live in and within the 52
// characters a CronJob name may have.
func DailySummaryName(orgID string) string { return "daily-summary-" + orgID }

// Jobs is what every CronJob of the operator shares.
type Jobs struct {
	// Namespace holds every CronJob, next to the report database Secret.
	Namespace       string
	Image           string
	ImagePullPolicy corev1.PullPolicy
	// DatabaseSecret holds the connection string under DatabaseSecretKey;
	// the jobs log in as DatabaseUser, the report service's own role, with
	// the password under "password" in DatabasePasswordSecret.
	DatabaseSecret         string
	DatabaseSecretKey      string
	DatabaseUser           string
	DatabasePasswordSecret string
	Resources              corev1.ResourceRequirements
	// ServiceAccount runs the jobs' pods; its token is not mounted.
	ServiceAccount string
}

// job describes one of the CronJobs the operator runs.
type job struct {
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

// DailySummary is the tenant's daily-summary CronJob, on the tenant's
// schedule in its time zone, suspended with the tenant.
func (j Jobs) DailySummary(t *v1alpha1.WorkPulseTenant) *batchv1.CronJob {
	labels := TenantLabels(t)
	labels[LabelOrganization] = t.Status.OrganizationID
	return j.cronJob(job{
		name: DailySummaryName(t.Status.OrganizationID), component: "daily-summary",
		schedule: t.Spec.DailySummary.Schedule, timeZone: t.Spec.TimeZone,
		// No --date: the command summarizes every day not yet summarized,
		// so a run missed while the cluster was down catches up.
		args:    []string{"daily-summary", "--org", t.Status.OrganizationID},
		suspend: t.Spec.Suspend, deadline: 30 * time.Minute, startingDeadline: 6 * time.Hour,
		labels: labels,
	})
}

// Install are the install-wide CronJobs. owner, the installation's
// operator Deployment when one is configured, owns them: no tenant does,
// and they must go with the installation.
func (j Jobs) Install(owner *metav1.OwnerReference) []*batchv1.CronJob {
	jobs := []*batchv1.CronJob{
		j.cronJob(job{name: IdleDetectionJob, component: "idle-detection", schedule: "*/2 * * * *", timeZone: "UTC",
			args: []string{"idle-detection"}, deadline: 110 * time.Second, startingDeadline: time.Minute}),
		j.cronJob(job{name: OvertimeCheckJob, component: "overtime-check", schedule: "*/30 * * * *", timeZone: "UTC",
			args: []string{"overtime-check"}, deadline: 25 * time.Minute, startingDeadline: 10 * time.Minute}),
		// Every 15 minutes: each organization's day is summarized within 15
		// minutes of its local midnight, whatever its zone (offsets of 30
		// and 45 minutes included). The command stops starting work after
		// its budget (10 minutes), well inside the run's deadline.
		j.cronJob(job{name: DueSummaryJob, component: "daily-summary-due", schedule: "*/15 * * * *", timeZone: "UTC",
			args: []string{"daily-summary", "--due"}, deadline: 14 * time.Minute, startingDeadline: 10 * time.Minute}),
	}
	if owner != nil {
		for _, cj := range jobs {
			cj.OwnerReferences = []metav1.OwnerReference{*owner}
		}
	}
	return jobs
}

// cronJob builds the CronJob for s: one pod at a time, a short history,
// bounded runs, modest resources and the services' hardened security
// context. The container runs the report image's entrypoint (the report
// binary) with the job's arguments and the report role's database URL.
func (j Jobs) cronJob(s job) *batchv1.CronJob {
	labels := map[string]string{
		"app.kubernetes.io/name": "workpulse-report",
		LabelComponent:           s.component,
		LabelManagedBy:           ManagedBy,
	}
	maps.Copy(labels, s.labels)
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: j.Namespace, Labels: labels},
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
							ServiceAccountName:           j.ServiceAccount,
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
								Image:           j.Image,
								ImagePullPolicy: j.ImagePullPolicy,
								// The report image's entrypoint is the report
								// binary (/report, in the Dockerfile and in
								// hack/images alike): only its arguments are set.
								Args: s.args,
								Env: []corev1.EnvVar{
									{Name: "DATABASE_URL", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
										LocalObjectReference: corev1.LocalObjectReference{Name: j.DatabaseSecret},
										Key:                  j.DatabaseSecretKey,
									}}},
									{Name: "DATABASE_USER", Value: j.DatabaseUser},
									{Name: "DATABASE_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
										LocalObjectReference: corev1.LocalObjectReference{Name: j.DatabasePasswordSecret},
										Key:                  "password",
									}}},
									{Name: "LOG_LEVEL", Value: "info"},
								},
								Resources: j.Resources,
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

// AdminSecretName is the Secret holding tenant t's bootstrap admin
// credentials, in the tenant's namespace.
func AdminSecretName(t *v1alpha1.WorkPulseTenant) string { return t.Name + "-admin-credentials" }

// AdminSecret holds the bootstrap admin's initial credentials, owned by
// the tenant so that it goes with it.
func AdminSecret(t *v1alpha1.WorkPulseTenant, orgID, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: t.Namespace, Name: AdminSecretName(t), Labels: TenantLabels(t),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(t, v1alpha1.GroupVersion.WithKind("WorkPulseTenant"))},
		},
		Type: corev1.SecretTypeOpaque,
		StringData: map[string]string{
			"email":           t.Spec.Admin.Email,
			"password":        password,
			"organization-id": orgID,
		},
	}
}
