package specs_test

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
)

const org = "0b6f1c1e-9c1b-4c61-9d5e-3a5f7f0d2a11"

var jobs = specs.Jobs{
	Namespace: "workpulse", Image: "workpulse/report:1.2.3", ImagePullPolicy: corev1.PullIfNotPresent,
	DatabaseSecret: "report-db", DatabaseSecretKey: "url", DatabaseUser: "wp_prod_report", DatabasePasswordSecret: "report-db-password",
	Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
	},
	ServiceAccount: "report-jobs",
}

func tenant(mutate func(*v1alpha1.WorkPulseTenant)) *v1alpha1.WorkPulseTenant {
	t := &v1alpha1.WorkPulseTenant{
		ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: "acme", UID: org},
		Spec: v1alpha1.WorkPulseTenantSpec{
			TimeZone:     "Europe/Paris",
			DailySummary: v1alpha1.DailySummary{Schedule: "15 1 * * *"},
			Admin:        &v1alpha1.BootstrapAdmin{Email: "boss@acme.example", Name: "Boss"},
		},
		Status: v1alpha1.WorkPulseTenantStatus{OrganizationID: org},
	}
	if mutate != nil {
		mutate(t)
	}
	return t
}

// Every CronJob runs one hardened pod of the report image at a time, with
// the report role's database URL from the Secret and bounded resources.
func checkCommon(t *testing.T, cj *batchv1.CronJob) {
	t.Helper()
	if cj.Namespace != "workpulse" || cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent ||
		*cj.Spec.SuccessfulJobsHistoryLimit != 1 || *cj.Spec.FailedJobsHistoryLimit != 3 {
		t.Errorf("CronJob %s: namespace %q, policy %s", cj.Name, cj.Namespace, cj.Spec.ConcurrencyPolicy)
	}
	if l := cj.Labels; l[specs.LabelManagedBy] != specs.ManagedBy || l["app.kubernetes.io/name"] != "workpulse-report" {
		t.Errorf("CronJob %s labels %v", cj.Name, l)
	}
	js := cj.Spec.JobTemplate.Spec
	if *js.BackoffLimit != 2 || *js.TTLSecondsAfterFinished != 86400 {
		t.Errorf("job template %+v", js)
	}
	pod := js.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever || pod.ServiceAccountName != "report-jobs" ||
		*pod.AutomountServiceAccountToken || *pod.EnableServiceLinks || !*pod.SecurityContext.RunAsNonRoot ||
		*pod.SecurityContext.RunAsUser != 65532 || pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod spec %+v", pod)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != "workpulse/report:1.2.3" || c.ImagePullPolicy != corev1.PullIfNotPresent || len(c.Command) != 0 {
		t.Errorf("container image %s %s, command %v", c.Image, c.ImagePullPolicy, c.Command)
	}
	wantEnv := []corev1.EnvVar{
		{Name: "DATABASE_URL", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "report-db"}, Key: "url"}}},
		{Name: "DATABASE_USER", Value: "wp_prod_report"},
		{Name: "DATABASE_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "report-db-password"}, Key: "password"}}},
		{Name: "LOG_LEVEL", Value: "info"},
	}
	if !equality.Semantic.DeepEqual(c.Env, wantEnv) {
		t.Errorf("env %+v", c.Env)
	}
	if !equality.Semantic.DeepEqual(c.Resources, jobs.Resources) {
		t.Errorf("resources %+v", c.Resources)
	}
	sc := c.SecurityContext
	if *sc.AllowPrivilegeEscalation || !*sc.ReadOnlyRootFilesystem || *sc.Privileged || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("container security context %+v", sc)
	}
}

func TestDailySummaryIsTheTenantsCronJob(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*v1alpha1.WorkPulseTenant)
		suspend bool
	}{
		{"An active tenant's job runs on its schedule in its zone.", nil, false},
		{"A suspended tenant's job is suspended.", func(t *v1alpha1.WorkPulseTenant) { t.Spec.Suspend = true }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cj := jobs.DailySummary(tenant(tt.mutate))
			checkCommon(t, cj)
			if cj.Name != "daily-summary-"+org || cj.Spec.Schedule != "15 1 * * *" || ptr.Deref(cj.Spec.TimeZone, "") != "Europe/Paris" {
				t.Errorf("name %s schedule %q zone %v", cj.Name, cj.Spec.Schedule, cj.Spec.TimeZone)
			}
			if *cj.Spec.Suspend != tt.suspend {
				t.Errorf("suspend %t, want %t", *cj.Spec.Suspend, tt.suspend)
			}
			if *cj.Spec.StartingDeadlineSeconds != 6*3600 || *cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds != 30*60 {
				t.Errorf("deadlines %d %d", *cj.Spec.StartingDeadlineSeconds, *cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds)
			}
			// No --date: the catch-up summarizes every day not yet done.
			if args := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args; !equality.Semantic.DeepEqual(args, []string{"daily-summary", "--org", org}) {
				t.Errorf("args %v", args)
			}
			l := cj.Spec.JobTemplate.Spec.Template.Labels
			if l[specs.LabelTenantNamespace] != "acme" || l[specs.LabelTenantName] != "acme" || l[specs.LabelOrganization] != org || l[specs.LabelComponent] != "daily-summary" {
				t.Errorf("pod labels %v", l)
			}
			if len(cj.OwnerReferences) != 0 {
				t.Errorf("a tenant's CronJob in another namespace cannot be owned by it: %v", cj.OwnerReferences)
			}
		})
	}
}

func TestInstallJobsCoverEveryTenantAndGoWithTheInstallation(t *testing.T) {
	owner := &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "workpulse-operator", UID: "d3b07384"}
	tests := []struct {
		name  string
		owner *metav1.OwnerReference
	}{
		{"Without an install owner the jobs are nobody's.", nil},
		{"With an install owner the jobs are the Deployment's.", owner},
	}
	want := []struct {
		name, component, schedule string
		args                      []string
		deadline, starting        int64
	}{
		{specs.IdleDetectionJob, "idle-detection", "*/2 * * * *", []string{"idle-detection"}, 110, 60},
		{specs.OvertimeCheckJob, "overtime-check", "*/30 * * * *", []string{"overtime-check"}, 25 * 60, 10 * 60},
		{specs.DueSummaryJob, "daily-summary-due", "*/15 * * * *", []string{"daily-summary", "--due"}, 14 * 60, 10 * 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := jobs.Install(tt.owner)
			if len(got) != len(want) {
				t.Fatalf("%d jobs, want %d", len(got), len(want))
			}
			for i, w := range want {
				cj := got[i]
				checkCommon(t, cj)
				if cj.Name != w.name || cj.Labels[specs.LabelComponent] != w.component || cj.Spec.Schedule != w.schedule ||
					ptr.Deref(cj.Spec.TimeZone, "") != "UTC" || *cj.Spec.Suspend {
					t.Errorf("CronJob %s: component %s schedule %q zone %v", cj.Name, cj.Labels[specs.LabelComponent], cj.Spec.Schedule, cj.Spec.TimeZone)
				}
				if args := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args; !equality.Semantic.DeepEqual(args, w.args) {
					t.Errorf("%s args %v", cj.Name, args)
				}
				if *cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds != w.deadline || *cj.Spec.StartingDeadlineSeconds != w.starting {
					t.Errorf("%s deadlines %d %d", cj.Name, *cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds, *cj.Spec.StartingDeadlineSeconds)
				}
				if _, ok := cj.Labels[specs.LabelTenantName]; ok {
					t.Errorf("%s carries a tenant label", cj.Name)
				}
				switch {
				case tt.owner == nil && len(cj.OwnerReferences) != 0:
					t.Errorf("%s owners %v", cj.Name, cj.OwnerReferences)
				case tt.owner != nil && (len(cj.OwnerReferences) != 1 || cj.OwnerReferences[0] != *tt.owner):
					t.Errorf("%s owners %v, want %v", cj.Name, cj.OwnerReferences, *tt.owner)
				}
			}
		})
	}
}

func TestAdminSecretIsTheTenantsAndHoldsTheCredentials(t *testing.T) {
	tests := []struct {
		name   string
		tenant *v1alpha1.WorkPulseTenant
		want   string
	}{
		{"The Secret is named after the tenant.", tenant(nil), "acme-admin-credentials"},
		{"Another tenant's Secret has its own name.", tenant(func(t *v1alpha1.WorkPulseTenant) { t.Name = "globex" }), "globex-admin-credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := specs.AdminSecret(tt.tenant, org, "s3cret")
			if s.Name != tt.want || specs.AdminSecretName(tt.tenant) != tt.want || s.Namespace != "acme" || s.Type != corev1.SecretTypeOpaque {
				t.Errorf("Secret %s/%s type %s", s.Namespace, s.Name, s.Type)
			}
			if !equality.Semantic.DeepEqual(s.Labels, specs.TenantLabels(tt.tenant)) || s.Labels[specs.LabelTenantName] != tt.tenant.Name {
				t.Errorf("labels %v", s.Labels)
			}
			if !metav1.IsControlledBy(s, tt.tenant) || !*s.OwnerReferences[0].BlockOwnerDeletion ||
				s.OwnerReferences[0].APIVersion != "workpulse.io/v1alpha1" || s.OwnerReferences[0].Kind != "WorkPulseTenant" {
				t.Errorf("owners %+v", s.OwnerReferences)
			}
			want := map[string]string{"email": "boss@acme.example", "password": "s3cret", "organization-id": org}
			if !equality.Semantic.DeepEqual(s.StringData, want) {
				t.Errorf("data %v", s.StringData)
			}
		})
	}
}
