package plugin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/hack/repo"
	"github.com/workpulse/workpulse/operator/internal/controller"
	"github.com/workpulse/workpulse/operator/internal/specs"
	"github.com/workpulse/workpulse/test/testkit"
	"github.com/workpulse/workpulse/test/testkit/testenv"
)

// The commands run against one real kube-apiserver with the WorkPulseTenant CRD (envtest), through
// a kubeconfig file as kubectl hands a plugin; each test has its own namespace.
var apiServer struct {
	kubeconfig string
	client     client.Client
}

func TestMain(m *testing.M) { os.Exit(runWithAPIServer(m)) }

func runWithAPIServer(m *testing.M) int {
	root, err := repo.Root()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env, err := testenv.Start(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	admin, err := env.AddUser(envtest.User{Name: "plugin-test", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kubeconfig, err := admin.KubeConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "kubectl-workpulse-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	apiServer.kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(apiServer.kubeconfig, kubeconfig, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if apiServer.client, err = client.New(env.Config, client.Options{Scheme: controller.Scheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// namespace makes a namespace of the test's own.
func namespace(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ns := "plugin-" + hex.EncodeToString(b)
	if err := apiServer.client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	return ns
}

// operator puts the chart's operator Deployment of installation in ns, watching the namespaces
// watches: what `tenant create` reads to choose a tenant's installation. Tests share the API
// server, so each operator watches only namespaces of its own test.
func operator(t *testing.T, ns, installation string, watches ...string) {
	t.Helper()
	labels := map[string]string{labelPartOf: "workpulse", labelInstance: "wp", specs.LabelComponent: "operator"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "wp-operator", Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "operator", Image: "workpulse/operator",
					Env: []corev1.EnvVar{{Name: "INSTALLATION", Value: installation}, {Name: "WATCH_NAMESPACES", Value: strings.Join(watches, ",")}}}}}}},
	}
	if err := apiServer.client.Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// kubectlWorkpulse runs the plugin as kubectl would, with the test's kubeconfig and namespace.
func kubectlWorkpulse(t *testing.T, ns string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut strings.Builder
	// The connection flags go after the command, where each command's flag set reads them.
	cmd := len(args)
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			cmd = i
			break
		}
	}
	full := append(append(append([]string{}, args[:cmd]...), "--kubeconfig", apiServer.kubeconfig, "-n", ns), args[cmd:]...)
	err := Main(context.Background(), full, IO{Out: &out, Err: &errOut}, testkit.NewClock(tuesdayEvening))
	return out.String(), errOut.String(), err
}

func TestTenantCreatePrintsAManifestTheAPIServerAccepted(t *testing.T) {
	ns := namespace(t)
	operator(t, ns, ns+".wp", ns)
	out, _, err := kubectlWorkpulse(t, ns, "tenant", "create", "acme", "--admin-email", "it@acme.example",
		"--time-zone", "Europe/Paris", "--plan", "pro", "--storage", "Dedicated", "--retention-months", "12")
	if err != nil {
		t.Fatal(err)
	}
	var printed v1alpha1.WorkPulseTenant
	if err := yaml.UnmarshalStrict([]byte(out), &printed); err != nil {
		t.Fatalf("printed manifest: %v\n%s", err, out)
	}
	if printed.Namespace != ns || printed.Spec.TimeZone != "Europe/Paris" || printed.Spec.RetentionMonths != 12 ||
		printed.Labels[v1alpha1.LabelInstallation] != ns+".wp" {
		t.Fatalf("printed manifest = %+v", printed)
	}
	// A server-side dry run stores nothing.
	var stored v1alpha1.WorkPulseTenantList
	if err := apiServer.client.List(context.Background(), &stored, client.InNamespace(ns)); err != nil || len(stored.Items) != 0 {
		t.Fatalf("tenants after a dry run = %d (err %v), want none", len(stored.Items), err)
	}
	// What it printed is a manifest kubectl apply takes as it is.
	if err := apiServer.client.Create(context.Background(), &printed); err != nil {
		t.Fatalf("creating the printed manifest: %v", err)
	}
}

func TestTenantCreateSaysWhatTheAPIServerRefused(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"retention beyond the CRD's range is refused by the API server", []string{"--retention-months", "500", "--storage", "Dedicated"},
			"the API server refused the tenant"},
		{"a premake longer than the retention is refused by the CRD's rule", []string{"--storage", "Dedicated", "--retention-months", "2", "--premake-months", "6"},
			"the API server refused the tenant"},
		{"a plan that does not exist is refused", []string{"--plan", "platinum"}, "platinum"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := namespace(t)
			operator(t, ns, ns+".wp", ns)
			args := append([]string{"tenant", "create", "acme", "--admin-email", "it@acme.example"}, c.args...)
			_, _, err := kubectlWorkpulse(t, ns, args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one saying %q", err, c.want)
			}
		})
	}
}

func TestTenantsListsCreatedTenantsWithTheirNextJobs(t *testing.T) {
	ns := namespace(t)
	operator(t, ns, ns+".wp", ns)
	if _, _, err := kubectlWorkpulse(t, ns, "tenant", "create", "acme", "--admin-email", "it@acme.example", "--dry-run", "none"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var acme v1alpha1.WorkPulseTenant
	if err := apiServer.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "acme"}, &acme); err != nil {
		t.Fatal(err)
	}
	// The status and CronJob the operator would write.
	acme.Status = v1alpha1.WorkPulseTenantStatus{OrganizationID: "7d8c0f9e-0000-4000-8000-000000000001", Storage: v1alpha1.StorageShared,
		Partitions: &v1alpha1.PartitionStatus{MonthsAhead: 4},
		Conditions: []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Ready",
			ObservedGeneration: acme.Generation, LastTransitionTime: metav1.NewTime(tuesdayEvening)}}}
	if err := apiServer.client.Status().Update(ctx, &acme); err != nil {
		t.Fatal(err)
	}
	job := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "daily-summary-acme", Namespace: ns, Labels: map[string]string{specs.LabelManagedBy: specs.ManagedBy,
			specs.LabelComponent: "daily-summary", specs.LabelTenantNamespace: ns, specs.LabelTenantName: "acme"}},
		Spec: batchv1.CronJobSpec{Schedule: "0 0 * * *", TimeZone: ptr.To("Asia/Tokyo"), JobTemplate: batchv1.JobTemplateSpec{
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "report", Image: "workpulse/report"}}}}}}},
	}
	if err := apiServer.client.Create(ctx, job); err != nil {
		t.Fatal(err)
	}
	out, _, err := kubectlWorkpulse(t, ns, "tenants")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{ns, "acme", ns + ".wp", "7d8c0f9e-0000-4000-8000-000000000001", "True", "Shared", "daily-summary 00:00 JST (in 17h30m)"} {
		if !strings.Contains(out, want) {
			t.Fatalf("tenants output lacks %q:\n%s", want, out)
		}
	}
}

// Two installations whose operators both watch the tenant's namespace, each installed in a
// namespace of its own: the plugin asks which, rather than guessing, and writes the one named.
func TestTenantCreateLabelsTheTenantForTheInstallationItIsFor(t *testing.T) {
	tenants, eu, us := namespace(t), namespace(t), namespace(t)
	operator(t, eu, eu+".wp", tenants, eu)
	operator(t, us, us+".wp", tenants, us)
	create := []string{"tenant", "create", "acme", "--admin-email", "it@acme.example"}
	if _, _, err := kubectlWorkpulse(t, tenants, create...); err == nil || !strings.Contains(err.Error(), "pass --installation with one of: ") ||
		!strings.Contains(err.Error(), eu+".wp") || !strings.Contains(err.Error(), us+".wp") {
		t.Fatalf("two installations, none named: err = %v", err)
	}
	// In an installation's own namespace that installation is the default.
	out, _, err := kubectlWorkpulse(t, eu, create...)
	if err != nil || !strings.Contains(out, v1alpha1.LabelInstallation+": "+eu+".wp") {
		t.Fatalf("in %s: err %v, manifest\n%s", eu, err, out)
	}
	_, errOut, err := kubectlWorkpulse(t, tenants, append(create, "--installation", "elsewhere.wp")...)
	if err != nil || !strings.Contains(errOut, "no operator of installation elsewhere.wp watches namespace "+tenants) {
		t.Fatalf("an installation no operator has: err %v, stderr %q", err, errOut)
	}
	if _, _, err := kubectlWorkpulse(t, tenants, append(create, "--installation", us+".wp", "--dry-run", "none")...); err != nil {
		t.Fatal(err)
	}
	var stored v1alpha1.WorkPulseTenant
	if err := apiServer.client.Get(context.Background(), client.ObjectKey{Namespace: tenants, Name: "acme"}, &stored); err != nil {
		t.Fatal(err)
	}
	if got := stored.Labels[v1alpha1.LabelInstallation]; got != us+".wp" {
		t.Fatalf("stored tenant's installation %q; want %s.wp", got, us)
	}
	out, _, err = kubectlWorkpulse(t, tenants, "tenants")
	if err != nil || !strings.Contains(out, "acme  "+us+".wp") {
		t.Fatalf("tenants: err %v\n%s", err, out)
	}
}

func TestUsageErrorsExitWithStatusTwo(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"an unknown command", []string{"frobnicate"}},
		{"tenant create without a name", []string{"tenant", "create", "--admin-email", "it@acme.example"}},
		{"an unknown flag", []string{"tenants", "--colour"}},
		{"a dry-run mode kubectl does not have", []string{"tenant", "create", "acme", "--admin-email", "a@b.example", "--dry-run", "maybe"}},
		{"a client-side manifest without its installation", []string{"tenant", "create", "acme", "--admin-email", "a@b.example", "--dry-run", "client"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut strings.Builder
			err := Main(context.Background(), c.args, IO{Out: &out, Err: &errOut}, testkit.NewClock(tuesdayEvening))
			coded, ok := err.(interface{ ExitCode() int })
			if !ok || coded.ExitCode() != 2 {
				t.Fatalf("err = %v, want a usage error (exit status 2)", err)
			}
		})
	}
}
