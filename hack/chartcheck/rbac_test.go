package chartcheck

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// operatorUser is the chart's operator ServiceAccount as the API server sees it.
var operatorUser = "system:serviceaccount:" + namespace + ":" + fullname + "-operator"

// installOperatorRBAC creates (for real) the chart's ServiceAccounts and RBAC objects.
func installOperatorRBAC(t *testing.T, c *cluster) {
	t.Helper()
	ctx := context.Background()
	for _, o := range render(t, "workpulse") {
		switch o.GetKind() {
		case "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
			if err := c.apply(ctx, o, false); err != nil {
				t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
			}
		}
	}
}

// allowed asks the API server's RBAC authorizer whether the operator may do attrs.
func allowed(t *testing.T, c *cluster, attrs authorizationv1.ResourceAttributes) bool {
	t.Helper()
	sar, err := c.kube.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User:               operatorUser,
			Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
			ResourceAttributes: &attrs,
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sar.Status.Allowed
}

func TestChartsOperatorRBACGrantsEveryRuleOfTheGeneratedRoleAndNoMore(t *testing.T) {
	c := startCluster(t)
	installOperatorRBAC(t, c)

	source := "operator/config/rbac/role.yaml"
	b, err := os.ReadFile(filepath.Join(repo, source))
	if err != nil {
		// The copy-is-current test fails meanwhile; the chart's copy is what is installed.
		source = "charts/workpulse/files/operator-role.yaml"
		t.Logf("operator/config/rbac/role.yaml is not generated yet; checking %s", source)
		if b, err = os.ReadFile(filepath.Join(repo, source)); err != nil {
			t.Fatal(err)
		}
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(b, &role); err != nil {
		t.Fatal(err)
	}
	if len(role.Rules) == 0 {
		t.Fatalf("%s has no rules", source)
	}
	checked := 0
	for _, r := range role.Rules {
		for _, group := range r.APIGroups {
			for _, res := range r.Resources {
				resource, sub, _ := strings.Cut(res, "/")
				for _, verb := range r.Verbs {
					// Tenants live in their own namespaces, jobs in the release's; cluster-wide
					// list and watch are what the informers use.
					for _, ns := range []string{"acme", namespace, ""} {
						if ns == "" && verb != "list" && verb != "watch" {
							continue
						}
						a := authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource, Subresource: sub}
						if !allowed(t, c, a) {
							t.Errorf("the chart's RBAC denies %s %s/%s in %q, which %s grants", verb, group, res, ns, source)
						}
						checked++
					}
				}
			}
		}
	}
	// Leader election works in the release namespace only.
	lease := authorizationv1.ResourceAttributes{Namespace: namespace, Verb: "update", Group: "coordination.k8s.io", Resource: "leases"}
	if !allowed(t, c, lease) {
		t.Error("the operator cannot update its leader election Lease")
	}
	// Least privilege: nothing the generated role does not list.
	for _, a := range []authorizationv1.ResourceAttributes{
		{Namespace: "acme", Verb: "update", Group: "coordination.k8s.io", Resource: "leases"},
		{Namespace: "acme", Verb: "list", Resource: "pods"},
		{Namespace: "acme", Verb: "delete", Resource: "namespaces"},
		{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
		{Namespace: namespace, Verb: "create", Group: "apps", Resource: "deployments"},
		{Verb: "update", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
	} {
		if allowed(t, c, a) && !grants(role, a) {
			t.Errorf("the operator may %s %s/%s in %q, beyond its generated role", a.Verb, a.Group, a.Resource, a.Namespace)
		}
	}
	t.Logf("%d permissions of %s granted to %s", checked, source, operatorUser)
}

// grants reports whether role grants a (exact names, no wildcards: controller-gen writes none).
func grants(role rbacv1.ClusterRole, a authorizationv1.ResourceAttributes) bool {
	res := a.Resource
	if a.Subresource != "" {
		res += "/" + a.Subresource
	}
	for _, r := range role.Rules {
		if slices.Contains(r.APIGroups, a.Group) && slices.Contains(r.Resources, res) && slices.Contains(r.Verbs, a.Verb) {
			return true
		}
	}
	return false
}

// impersonating returns clients that act as the chart's operator ServiceAccount.
func impersonating(c *cluster) (kubernetes.Interface, dynamic.Interface, error) {
	cfg := rest.CopyConfig(c.cfg)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: operatorUser,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	return kube, dyn, err
}

// TestTheOperatorsReconcileStepsSucceedAsTheChartsServiceAccount performs, impersonating the
// chart's operator ServiceAccount, every API call a tenant's reconcile makes: watch tenants
// everywhere, add the finalizer, write status, create the bootstrap admin's Secret in the
// tenant's namespace, manage CronJobs in the release namespace, record events, hold the
// leader election Lease.
func TestTheOperatorsReconcileStepsSucceedAsTheChartsServiceAccount(t *testing.T) {
	c := startCluster(t)
	installOperatorRBAC(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kube, dyn, err := impersonating(c)
	if err != nil {
		t.Fatal(err)
	}

	// An administrator creates the tenant.
	tenants := schema.GroupVersionResource{Group: "workpulse.io", Version: "v1alpha1", Resource: "workpulsetenants"}
	var tenant unstructured.Unstructured
	b, err := os.ReadFile(filepath.Join(repo, "hack/samples/tenant.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range decode(t, string(b)) {
		if o.GetKind() == "WorkPulseTenant" {
			tenant = *o
		}
	}
	if _, err := c.dyn.Resource(tenants).Namespace(tenant.GetNamespace()).Create(ctx, &tenant, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating the sample tenant: %v", err)
	}
	// Nothing reconciles this tenant: remove it, finalizer and all, for the next test.
	t.Cleanup(func() {
		ctx := context.Background()
		res := c.dyn.Resource(tenants).Namespace(tenant.GetNamespace())
		_, _ = res.Patch(ctx, tenant.GetName(), types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		_ = res.Delete(ctx, tenant.GetName(), metav1.DeleteOptions{})
	})

	step := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s as %s: %v", name, operatorUser, err)
		}
	}
	_, err = dyn.Resource(tenants).List(ctx, metav1.ListOptions{})
	step("list tenants in every namespace", err)
	w, err := dyn.Resource(tenants).Watch(ctx, metav1.ListOptions{})
	step("watch tenants in every namespace", err)
	if w != nil {
		w.Stop()
	}
	_, err = dyn.Resource(tenants).Namespace("acme").Patch(ctx, "acme", types.MergePatchType,
		[]byte(`{"metadata":{"finalizers":["workpulse.io/tenant"]}}`), metav1.PatchOptions{})
	step("add the finalizer", err)
	_, err = dyn.Resource(tenants).Namespace("acme").Patch(ctx, "acme", types.MergePatchType,
		[]byte(`{"status":{"organizationID":"0f8fad5b-d9cb-469f-a165-70867728950e","observedGeneration":1}}`), metav1.PatchOptions{}, "status")
	step("write the tenant's status", err)
	_, err = kube.CoreV1().Secrets("acme").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "acme-admin-credentials"},
		StringData: map[string]string{"password": "x"}}, metav1.CreateOptions{})
	step("create the bootstrap admin's Secret", err)
	_, err = kube.CoreV1().Secrets("acme").Get(ctx, "acme-admin-credentials", metav1.GetOptions{})
	step("read the bootstrap admin's Secret", err)

	cron := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "acme-daily-summary"},
		Spec: batchv1.CronJobSpec{Schedule: "0 0 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "report", Image: "workpulse/report:" + appVersion(t), Args: []string{"daily-summary", "--all"}}}}},
		}}},
	}
	created, err := kube.BatchV1().CronJobs(namespace).Create(ctx, cron, metav1.CreateOptions{})
	step("create a CronJob", err)
	if err == nil {
		created.Spec.Suspend = ptrTo(true)
		_, err = kube.BatchV1().CronJobs(namespace).Update(ctx, created, metav1.UpdateOptions{})
		step("suspend the CronJob", err)
		_, err = kube.BatchV1().CronJobs(namespace).List(ctx, metav1.ListOptions{})
		step("list CronJobs", err)
		step("delete the CronJob", kube.BatchV1().CronJobs(namespace).Delete(ctx, cron.Name, metav1.DeleteOptions{}))
	}
	_, err = kube.EventsV1().Events("acme").Create(ctx, &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: "acme.provisioned"}, EventTime: metav1.NowMicro(),
		ReportingController: "workpulse.io/operator", ReportingInstance: "operator-0", Action: "Provision", Reason: "Provisioned",
		Regarding: corev1.ObjectReference{APIVersion: "workpulse.io/v1alpha1", Kind: "WorkPulseTenant", Namespace: "acme", Name: "acme"},
		Type:      corev1.EventTypeNormal,
	}, metav1.CreateOptions{})
	step("record an event on the tenant", err)
	_, err = kube.CoordinationV1().Leases(namespace).Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "chartcheck-leader-election"},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptrTo("operator-0"), LeaseDurationSeconds: ptrTo(int32(15))},
	}, metav1.CreateOptions{})
	step("take the leader election Lease", err)

	// What the role does not list stays denied.
	if _, err := kube.CoreV1().Pods("acme").List(ctx, metav1.ListOptions{}); err == nil {
		t.Error("the operator can list pods, which it never needs")
	}
}

func ptrTo[T any](v T) *T { return &v }
