package chartcheck

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

	// The generated role, not the chart's copy: the copy test checks they are equal.
	source := "operator/config/rbac/role.yaml"
	b, err := os.ReadFile(filepath.Join(repo, source))
	if err != nil {
		t.Fatal(err)
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
