package chartcheck

import (
	"encoding/json"
	"reflect"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// networkPolicies renders the chart with args and returns its NetworkPolicies by name.
func networkPolicies(t *testing.T, args ...string) map[string]networkingv1.NetworkPolicy {
	t.Helper()
	out := map[string]networkingv1.NetworkPolicy{}
	for _, o := range find(render(t, "workpulse", args...), "NetworkPolicy") {
		var np networkingv1.NetworkPolicy
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &np); err != nil {
			t.Fatal(err)
		}
		out[np.Name] = np
	}
	return out
}

// peers lists, for each port name of a policy, who may reach it, as JSON of the peers.
func peers(np networkingv1.NetworkPolicy) map[string][]string {
	out := map[string][]string{}
	for _, rule := range np.Spec.Ingress {
		for _, p := range rule.Ports {
			for _, from := range rule.From {
				b, _ := json.Marshal(from)
				out[p.Port.String()] = append(out[p.Port.String()], string(b))
			}
		}
	}
	return out
}

const (
	ingressControllerPeer = `{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"ingress-nginx"}}}`
	monitoringPeer        = `{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}}}`
	releasePodsPeer       = `{"podSelector":{"matchLabels":{"app.kubernetes.io/instance":"wp","app.kubernetes.io/part-of":"workpulse"}}}`
	operatorPeer          = `{"podSelector":{"matchLabels":{"app.kubernetes.io/component":"operator","app.kubernetes.io/instance":"wp","app.kubernetes.io/name":"workpulse"}}}`
	cronJobPodsPeer       = `{"podSelector":{"matchLabels":{"app.kubernetes.io/managed-by":"workpulse-operator"}}}`
)

// TestNetworkPoliciesAreOnByDefaultAndOpenEachPortOnlyToWhoNeedsIt reads the default
// render: every service's API port opens to the Ingress controller, monitoring and the
// release's own pods only, its probes' port to monitoring and the release; auth's tenant API
// port, where the /internal/ routes alone are served, to the operator only; the operator's metrics to monitoring only; an in-cluster datastore to
// the release's pods and the CronJobs' only.
func TestNetworkPoliciesAreOnByDefaultAndOpenEachPortOnlyToWhoNeedsIt(t *testing.T) {
	public := []string{ingressControllerPeer, monitoringPeer, releasePodsPeer}
	// Probes and /metrics: monitoring and the release (auth's /api/health asks every /readyz).
	probes := []string{monitoringPeer, releasePodsPeer}
	cases := []struct {
		name, policy string
		args         []string
		want         map[string][]string
	}{
		{"Auth's public port opens to the front door and the release; its internal port to the operator alone.",
			fullname + "-auth", nil, map[string][]string{"http": public, "internal": probes, "tenant-api": {operatorPeer}}},
		{"Ingest's port opens to the front door and the release.", fullname + "-ingest", nil, map[string][]string{"http": public, "internal": probes}},
		{"The web app's port opens to the front door and the release.", fullname + "-web", nil, map[string][]string{"http": public, "internal": probes}},
		{"The operator opens its metrics to monitoring alone.", fullname + "-operator", nil, map[string][]string{"metrics": {monitoringPeer}}},
		{"An in-cluster PostgreSQL opens to the release's pods and the CronJobs' alone.", fullname + "-datastore-postgres",
			[]string{"--set", "networkPolicy.datastores[0].name=postgres", "--set", "networkPolicy.datastores[0].podSelector.matchLabels.app=postgres",
				"--set", "networkPolicy.datastores[0].ports[0].port=5432"},
			map[string][]string{"5432": {releasePodsPeer, cronJobPodsPeer}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			np, ok := networkPolicies(t, c.args...)[c.policy]
			if !ok {
				t.Fatalf("no NetworkPolicy %s", c.policy)
			}
			if got := peers(np); !reflect.DeepEqual(got, c.want) {
				t.Errorf("who reaches which port: %v\nwant %v", got, c.want)
			}
		})
	}
	t.Run("Every service has one, and disabling them renders none.", func(t *testing.T) {
		nps := networkPolicies(t)
		for _, svc := range []string{"auth", "session", "ingest", "report", "realtime", "web"} {
			if _, ok := nps[fullname+"-"+svc]; !ok {
				t.Errorf("no NetworkPolicy for %s", svc)
			}
		}
		if n := len(networkPolicies(t, "--set", "networkPolicy.enabled=false")); n != 0 {
			t.Errorf("%d NetworkPolicies with networkPolicy.enabled=false", n)
		}
	})
}

// TestAuthServesTheTenantAPIOnItsOwnPortWhichTheOperatorCalls: the port the policy opens
// to the operator is the one auth serves /internal/ on and the operator's AUTH_URL names.
func TestAuthServesTheTenantAPIOnItsOwnPortWhichTheOperatorCalls(t *testing.T) {
	objs := render(t, "workpulse")
	env := func(dep string) map[string]string {
		out := map[string]string{}
		for _, o := range find(objs, "Deployment") {
			if o.GetName() != dep {
				continue
			}
			containers, _, _ := unstructured.NestedSlice(podSpec(o), "containers")
			for _, e := range containers[0].(map[string]any)["env"].([]any) {
				e := e.(map[string]any)
				if v, ok := e["value"].(string); ok {
					out[e["name"].(string)] = v
				}
			}
		}
		return out
	}
	if got := env(fullname + "-auth")["TENANT_API_ADDR"]; got != ":3011" {
		t.Errorf("auth's TENANT_API_ADDR = %q, want :3011", got)
	}
	if got := env(fullname + "-operator")["AUTH_URL"]; got != "http://"+fullname+"-auth:3011" {
		t.Errorf("the operator's AUTH_URL = %q, want auth's internal port", got)
	}
	for _, o := range find(objs, "Service") {
		if o.GetName() != fullname+"-auth" {
			continue
		}
		ports, _, _ := unstructured.NestedSlice(o.Object, "spec", "ports")
		var names []string
		for _, p := range ports {
			names = append(names, p.(map[string]any)["name"].(string))
		}
		if !reflect.DeepEqual(names, []string{"http", "internal", "tenant-api"}) {
			t.Errorf("auth's Service ports %v, want http, internal and tenant-api", names)
		}
	}
}
