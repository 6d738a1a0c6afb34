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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// operatorUser is the chart's operator ServiceAccount as the API server sees it.
var operatorUser = serviceAccountUser(fullname + "-operator")

func serviceAccountUser(name string) string { return "system:serviceaccount:" + namespace + ":" + name }

// installOperatorRBAC creates (for real) the chart's ServiceAccounts and RBAC objects,
// rendered with args, and the namespaces they name.
func installOperatorRBAC(t *testing.T, c *cluster, args ...string) []*unstructured.Unstructured {
	t.Helper()
	ctx := context.Background()
	objs := render(t, "workpulse", args...)
	c.ensureNamespaces(t, objs)
	for _, o := range objs {
		switch o.GetKind() {
		case "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
			if err := c.apply(ctx, o, false); err != nil {
				t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
			}
		}
	}
	return objs
}

// allowed asks the API server's RBAC authorizer whether user may do attrs.
func allowed(t *testing.T, c *cluster, user string, attrs authorizationv1.ResourceAttributes) bool {
	t.Helper()
	sar, err := c.kube.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User:               user,
			Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
			ResourceAttributes: &attrs,
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sar.Status.Allowed
}

// installRule tells the rules needed in the release namespace only (the CronJobs and
// their owner Deployment) from those needed where tenants are.
func installRule(r rbacv1.PolicyRule) bool {
	return slices.Contains(r.Resources, "cronjobs") || slices.Contains(r.Resources, "deployments")
}

// TestChartsOperatorRBACGrantsEachGeneratedRuleOnlyWhereItIsNeeded installs the chart's
// RBAC in both modes (every namespace watched, and watchNamespaces set, under another
// fullname so the two do not grant each other's ServiceAccount anything) and asks the API
// server's authorizer about every verb of every generated rule in every namespace.
func TestChartsOperatorRBACGrantsEachGeneratedRuleOnlyWhereItIsNeeded(t *testing.T) {
	c := startCluster(t)
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
	modes := []struct {
		name     string
		fullname string
		args     []string
		// tenants are namespaces where the tenant rules must hold; others where nothing may.
		tenants, others []string
		clusterWide     bool
	}{
		{"Watching every namespace, the tenants' rules are cluster-wide and the CronJobs' stay in the release namespace.",
			fullname, nil, []string{"acme", namespace}, nil, true},
		{"With watchNamespaces set, the tenants' rules hold in those namespaces only.",
			"wp-scoped", []string{"--set", "fullnameOverride=wp-scoped", "--set", "operator.watchNamespaces={acme,beta}"},
			[]string{"acme", "beta"}, []string{"gamma"}, false},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			objs := installOperatorRBAC(t, c, m.args...)
			user := serviceAccountUser(m.fullname + "-operator")
			checked := 0
			check := func(want bool, a authorizationv1.ResourceAttributes) {
				t.Helper()
				if got := allowed(t, c, user, a); got != want {
					t.Errorf("allowed %s %s/%s/%s in %q: %t, want %t", a.Verb, a.Group, a.Resource, a.Subresource, a.Namespace, got, want)
				}
				checked++
			}
			for _, r := range role.Rules {
				for _, group := range r.APIGroups {
					for _, res := range r.Resources {
						resource, sub, _ := strings.Cut(res, "/")
						for _, verb := range r.Verbs {
							at := func(ns string) authorizationv1.ResourceAttributes {
								return authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource, Subresource: sub}
							}
							// Cluster-wide list and watch are what informers use.
							listing := verb == "list" || verb == "watch"
							if installRule(r) {
								check(true, at(namespace))
								check(false, at("acme"))
								if listing {
									check(false, at(""))
								}
								continue
							}
							for _, ns := range m.tenants {
								check(true, at(ns))
							}
							for _, ns := range m.others {
								check(false, at(ns))
							}
							if listing {
								check(m.clusterWide, at(""))
							}
						}
					}
				}
			}
			// Leader election works in the release namespace only.
			check(true, authorizationv1.ResourceAttributes{Namespace: namespace, Verb: "update", Group: "coordination.k8s.io", Resource: "leases"})
			// Least privilege: nothing the generated role does not list, and Secrets are never listed or watched.
			for _, a := range []authorizationv1.ResourceAttributes{
				{Namespace: "acme", Verb: "update", Group: "coordination.k8s.io", Resource: "leases"},
				{Namespace: "acme", Verb: "list", Resource: "pods"},
				{Namespace: "acme", Verb: "delete", Resource: "namespaces"},
				{Namespace: "acme", Verb: "list", Resource: "secrets"},
				{Namespace: "acme", Verb: "update", Resource: "secrets"},
				{Verb: "watch", Resource: "secrets"},
				{Namespace: namespace, Verb: "get", Resource: "secrets"},
				{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
				{Namespace: namespace, Verb: "create", Group: "apps", Resource: "deployments"},
				{Verb: "update", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
			} {
				if m.clusterWide && a.Resource == "secrets" && a.Verb == "get" {
					continue // tenants may be in any namespace, the release's included
				}
				check(false, a)
			}
			// The CronJobs' pods run as a ServiceAccount without a token or any permission.
			jobs := m.fullname + "-jobs"
			for _, o := range objs {
				if o.GetKind() == "ServiceAccount" && o.GetName() == jobs {
					if v, found, _ := unstructured.NestedBool(o.Object, "automountServiceAccountToken"); !found || v {
						t.Errorf("ServiceAccount %s mounts a token", jobs)
					}
				}
				if k := o.GetKind(); k == "RoleBinding" || k == "ClusterRoleBinding" {
					subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
					for _, s := range subjects {
						if s.(map[string]any)["name"] == jobs {
							t.Errorf("%s %s binds the jobs' ServiceAccount", k, o.GetName())
						}
					}
				}
			}
			for _, a := range []authorizationv1.ResourceAttributes{
				{Namespace: namespace, Verb: "get", Resource: "secrets"},
				{Namespace: namespace, Verb: "list", Resource: "pods"},
				{Namespace: namespace, Verb: "get", Group: "batch", Resource: "cronjobs"},
				{Namespace: "acme", Verb: "get", Group: "workpulse.io", Resource: "workpulsetenants"},
			} {
				if allowed(t, c, serviceAccountUser(jobs), a) {
					t.Errorf("the jobs' ServiceAccount may %s %s/%s in %q", a.Verb, a.Group, a.Resource, a.Namespace)
				}
			}
			t.Logf("%d permissions checked for %s", checked, user)
		})
	}
}
