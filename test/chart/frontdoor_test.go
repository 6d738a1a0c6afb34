package chartcheck

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/workpulse/workpulse/api/routes"
)

// frontDoorBackends checks that web's FRONT_DOOR_BACKENDS names every other
// service of the routing table at its rendered Service's API port.
func frontDoorBackends(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	ports := map[string]string{}
	for _, svc := range find(objs, "Service") {
		ps, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
		for _, p := range ps {
			if p := p.(map[string]any); p["name"] == "http" {
				ports[svc.GetName()] = fmt.Sprint(p["port"])
			}
		}
	}
	var want []string
	for _, s := range routes.Services {
		if s.Name != routes.Web {
			name := fullname + "-" + s.Name
			if _, ok := ports[name]; !ok {
				t.Fatalf("no Service %s", name)
			}
			want = append(want, fmt.Sprintf("%s=http://%s:%s", s.Name, name, ports[name]))
		}
	}
	got := strings.Split(envOfEachService(t, objs, "FRONT_DOOR_BACKENDS")[routes.Web], ",")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("web's FRONT_DOOR_BACKENDS %q; want %q", got, want)
	}
}

// frontDoorIngress checks that objs hold one Ingress, of class (none: the cluster's default), with
// one prefix rule "/" to web for host, and none of ingress-nginx's annotations.
func frontDoorIngress(t *testing.T, objs []*unstructured.Unstructured, class, host string) {
	t.Helper()
	ings := find(objs, "Ingress")
	if len(ings) != 1 {
		t.Fatalf("%d Ingresses; want 1", len(ings))
	}
	rules, _, _ := unstructured.NestedSlice(ings[0].Object, "spec", "rules")
	if len(rules) != 1 {
		t.Fatalf("rules %v", rules)
	}
	paths, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "http", "paths")
	if len(paths) != 1 {
		t.Fatalf("rules %v", rules)
	}
	p := paths[0].(map[string]any)
	gotHost, _ := rules[0].(map[string]any)["host"].(string)
	if p["path"] != "/" || p["pathType"] != "Prefix" || nested(p, "backend", "service", "name") != fullname+"-web" ||
		nested(p, "backend", "service", "port", "name") != "http" || gotHost != host {
		t.Fatalf("path %v, host %q", p, gotHost)
	}
	if cls, _, _ := unstructured.NestedString(ings[0].Object, "spec", "ingressClassName"); cls != class {
		t.Fatalf("ingressClassName %q; want %q", cls, class)
	}
	if a := ings[0].GetAnnotations(); slices.ContainsFunc(slices.Collect(maps.Keys(a)), func(k string) bool { return strings.HasPrefix(k, "nginx.") }) {
		t.Fatalf("ingress-nginx annotations on a controller-neutral Ingress: %v", a)
	}
}

func TestTheFrontDoorRoutingSendsEveryPathToWebWhichKnowsEveryService(t *testing.T) {
	t.Run("By default one Ingress of the cluster's default class has one prefix rule to web, and no HTTPRoute is rendered.", func(t *testing.T) {
		objs := render(t, "workpulse")
		frontDoorIngress(t, objs, "", "")
		frontDoorBackends(t, objs)
		if len(find(objs, "HTTPRoute")) != 0 {
			t.Fatal("an HTTPRoute without gateway.enabled")
		}
	})
	t.Run("With nginx routing the Ingresses route for ingress-nginx and web proxies nothing.", func(t *testing.T) {
		objs := render(t, "workpulse", "--set", "ingress.routing=nginx")
		if got := envOfEachService(t, objs, "FRONT_DOOR_BACKENDS"); len(got) != 0 {
			t.Fatalf("FRONT_DOOR_BACKENDS set: %v", got)
		}
		ings := find(objs, "Ingress")
		if len(ings) != 3 {
			t.Fatalf("%d Ingresses; want the -api, -ws and -socketio ones", len(ings))
		}
		for _, ing := range ings {
			if cls, _, _ := unstructured.NestedString(ing.Object, "spec", "ingressClassName"); cls != "nginx" {
				t.Errorf("Ingress %s: ingressClassName %q; the regex paths need nginx", ing.GetName(), cls)
			}
		}
	})
	t.Run("With frontDoor routing one Ingress has one prefix rule to web.", func(t *testing.T) {
		objs := render(t, "workpulse", "--set", "ingress.routing=frontDoor", "--set", "ingress.className=traefik", "--set", "ingress.host=wp.example.com")
		frontDoorIngress(t, objs, "traefik", "wp.example.com")
		frontDoorBackends(t, objs)
	})
	t.Run("With the gateway an HTTPRoute attaches to the parents given and sends every path to web.", func(t *testing.T) {
		objs := render(t, "workpulse", "--set", "ingress.enabled=false", "--set", "gateway.enabled=true",
			"--set", "gateway.parentRefs[0].name=public", "--set", "gateway.parentRefs[0].namespace=gateway-system",
			"--set", "gateway.parentRefs[0].sectionName=https", "--set", "gateway.hostnames[0]=wp.example.com")
		if len(find(objs, "Ingress")) != 0 {
			t.Fatal("an Ingress with ingress.enabled=false")
		}
		routesObjs := find(objs, "HTTPRoute")
		if len(routesObjs) != 1 {
			t.Fatalf("%d HTTPRoutes; want 1", len(routesObjs))
		}
		spec := routesObjs[0].Object["spec"].(map[string]any)
		parents := spec["parentRefs"].([]any)
		if len(parents) != 1 || fmt.Sprint(parents[0]) != "map[name:public namespace:gateway-system sectionName:https]" {
			t.Fatalf("parentRefs %v", parents)
		}
		if fmt.Sprint(spec["hostnames"]) != "[wp.example.com]" {
			t.Fatalf("hostnames %v", spec["hostnames"])
		}
		rules := spec["rules"].([]any)
		if fmt.Sprint(rules) != fmt.Sprintf("[map[backendRefs:[map[name:%s-web port:3006]] matches:[map[path:map[type:PathPrefix value:/]]]]]", fullname) {
			t.Fatalf("rules %v", rules)
		}
		frontDoorBackends(t, objs)
	})
	t.Run("The gateway without a parent is refused.", func(t *testing.T) {
		_, err := helm(t, "template", release, "charts/workpulse", "--set", "gateway.enabled=true")
		if err == nil || !strings.Contains(err.Error(), "gateway.parentRefs") {
			t.Fatalf("got %v", err)
		}
	})
}

// The HTTPRoute is checked by the Gateway API's own CRDs (their OpenAPI schema and CEL
// rules) in a real API server: created for real, then read back as stored.
func TestTheHTTPRouteIsAcceptedByAnAPIServerWithTheGatewayAPI(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	gateway := []string{"--set", "gateway.enabled=true", "--set", "gateway.parentRefs[0].name=public"}
	for i, v := range []struct {
		name   string
		args   []string
		refuse string
	}{
		{"The HTTPRoute of one Gateway is stored as rendered.", nil, ""},
		{"One attached to a listener of a Gateway in another namespace, for two host names, too.", []string{
			"--set", "gateway.parentRefs[0].namespace=gateway-system", "--set", "gateway.parentRefs[0].sectionName=https",
			"--set", "gateway.parentRefs[1].name=internal", "--set", "gateway.parentRefs[1].port=8443",
			"--set", "gateway.hostnames[0]=wp.example.com", "--set", "gateway.hostnames[1]=*.wp.example.com"}, ""},
		{"A host name the Gateway API does not allow is refused: the API server checks the schema.", []string{
			"--set", "gateway.hostnames[0]=WP_Example"}, "hostnames[0]"},
	} {
		t.Run(v.name, func(t *testing.T) {
			objs := find(render(t, "workpulse", append(append([]string{"--set", "ingress.enabled=false"}, gateway...), v.args...)...), "HTTPRoute")
			if len(objs) != 1 {
				t.Fatalf("%d HTTPRoutes", len(objs))
			}
			route := objs[0]
			// One object per case: each is created, not applied over the one before.
			route.SetName(fmt.Sprintf("%s-%d", route.GetName(), i))
			err := c.apply(ctx, route, false)
			if v.refuse != "" {
				if err == nil || !strings.Contains(err.Error(), v.refuse) {
					t.Fatalf("got %v; want a refusal naming %s", err, v.refuse)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gvr := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
			stored, err := c.dyn.Resource(gvr).Namespace(namespace).Get(ctx, route.GetName(), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// The server fills in the defaults (parentRef group and kind, the backend's
			// kind and weight, the rule's name-less match): each rendered field must stay.
			for _, path := range [][]string{{"spec", "hostnames"}, {"spec", "rules"}} {
				if want := nested(route.Object, path...); want != nil && !contains(nested(stored.Object, path...), want) {
					t.Errorf("%v stored %v; rendered %v", path, nested(stored.Object, path...), want)
				}
			}
			parents := nested(stored.Object, "spec", "parentRefs").([]any)
			if p := parents[0].(map[string]any); p["name"] != "public" || p["kind"] != "Gateway" {
				t.Errorf("parentRefs stored %v", parents)
			}
		})
	}
}

// contains tells whether got holds every field of want, recursively (lists item by item).
func contains(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !contains(g[k], v) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !contains(g[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return fmt.Sprint(got) == fmt.Sprint(want)
	}
}

// An installation made when ingress-nginx routing was the default keeps it on an upgrade that
// leaves ingress.routing unset: the chart finds its -api Ingress. Swapping its three Ingresses for
// one of the cluster's default class would leave it unreachable wherever that class is not
// ingress-nginx, or there is none.
func TestAnUpgradeKeepsTheIngressRoutingOfItsInstallation(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	kubeconfig := adminKubeconfig(t, c, "chartcheck-routing")
	// running creates an Ingress as an older chart made it for rel.
	running := func(t *testing.T, name, class string) {
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, DefaultBackend: &networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Name: "http"}}}}}
		if _, err := c.kube.NetworkingV1().Ingresses(namespace).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	upgrade := func(t *testing.T, rel string, set ...string) (routing string, classes []string, frontDoor bool) {
		args := []string{"template", rel, filepath.Join("charts", "workpulse"), "--namespace", namespace, "--dry-run=server",
			"--kubeconfig", kubeconfig, "--set", "database.serviceURL=postgres://db:5432/workpulse"}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		objs := decode(t, mustHelm(t, args...))
		ings := find(objs, "Ingress")
		routing = "frontDoor"
		for _, ing := range ings {
			cls, _, _ := unstructured.NestedString(ing.Object, "spec", "ingressClassName")
			classes = append(classes, cls)
			if strings.HasSuffix(ing.GetName(), "-api") {
				routing = "nginx"
			}
		}
		if routing == "frontDoor" && len(ings) != 1 || routing == "nginx" && len(ings) != 3 {
			t.Fatalf("%d Ingresses in %s routing", len(ings), routing)
		}
		// Another release's Deployments keep their whole name.
		return routing, classes, envOfEachService(t, objs, "FRONT_DOOR_BACKENDS")[rel+"-workpulse-"+routes.Web] != ""
	}
	for _, tc := range []struct {
		name, rel, running, class string
		set                       []string
		routing                   string
		classes                   []string
	}{
		{"A new installation gets the front door, of the cluster's default class.", "fresh", "", "", nil, "frontDoor", []string{""}},
		{"One that runs the ingress-nginx Ingresses keeps them, of the class they have.", "older", "older-workpulse-api", "nginx", nil,
			"nginx", []string{"nginx", "nginx", "nginx"}},
		{"One whose front door an older chart gave the class nginx keeps that class.", "door", "door-workpulse", "nginx", []string{"ingress.routing=frontDoor"},
			"frontDoor", []string{"nginx"}},
		{"Values win: routing frontDoor set moves an nginx installation to the front door.", "moving", "moving-workpulse-api", "nginx",
			[]string{"ingress.routing=frontDoor", "ingress.className=traefik"}, "frontDoor", []string{"traefik"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.running != "" {
				running(t, tc.running, tc.class)
			}
			routing, classes, frontDoor := upgrade(t, tc.rel, tc.set...)
			if routing != tc.routing || !slices.Equal(classes, tc.classes) {
				t.Fatalf("routing %s, classes %q; want %s, %q", routing, classes, tc.routing, tc.classes)
			}
			if frontDoor != (routing == "frontDoor") {
				t.Fatalf("web's FRONT_DOOR_BACKENDS set %v in %s routing", frontDoor, routing)
			}
		})
	}
}
