package chartcheck

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

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

func TestTheFrontDoorRoutingSendsEveryPathToWebWhichKnowsEveryService(t *testing.T) {
	t.Run("By default the Ingress routes for ingress-nginx and web proxies nothing.", func(t *testing.T) {
		objs := render(t, "workpulse")
		if got := envOfEachService(t, objs, "FRONT_DOOR_BACKENDS"); len(got) != 0 {
			t.Fatalf("FRONT_DOOR_BACKENDS set: %v", got)
		}
		if len(find(objs, "HTTPRoute")) != 0 {
			t.Fatal("an HTTPRoute without gateway.enabled")
		}
	})
	t.Run("With frontDoor routing one Ingress has one prefix rule to web.", func(t *testing.T) {
		objs := render(t, "workpulse", "--set", "ingress.routing=frontDoor", "--set", "ingress.className=traefik", "--set", "ingress.host=wp.example.com")
		ings := find(objs, "Ingress")
		if len(ings) != 1 {
			t.Fatalf("%d Ingresses; want 1", len(ings))
		}
		rules, _, _ := unstructured.NestedSlice(ings[0].Object, "spec", "rules")
		paths, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "http", "paths")
		if len(rules) != 1 || len(paths) != 1 {
			t.Fatalf("rules %v", rules)
		}
		p := paths[0].(map[string]any)
		if p["path"] != "/" || p["pathType"] != "Prefix" || nested(p, "backend", "service", "name") != fullname+"-web" ||
			nested(p, "backend", "service", "port", "name") != "http" || rules[0].(map[string]any)["host"] != "wp.example.com" {
			t.Fatalf("path %v", p)
		}
		if cls, _, _ := unstructured.NestedString(ings[0].Object, "spec", "ingressClassName"); cls != "traefik" {
			t.Fatalf("ingressClassName %q", cls)
		}
		if a := ings[0].GetAnnotations(); slices.ContainsFunc(slices.Collect(maps.Keys(a)), func(k string) bool { return strings.HasPrefix(k, "nginx.") }) {
			t.Fatalf("ingress-nginx annotations on a controller-neutral Ingress: %v", a)
		}
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
