package chartcheck

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/workpulse/workpulse/api/routes"
)

// A Socket.IO session lives on one realtime replica, so its long polls
// must come back to it: through the Ingress by cookie, through the
// Service by client IP.
func TestSocketIOSessionsStayOnTheirReplica(t *testing.T) {
	for _, c := range []struct {
		name         string
		args         []string
		cookie       bool
		realtimeMode string
	}{
		{"With nginx routing the Ingress pins Socket.IO by cookie and the realtime Service by client IP.", []string{"--set", "ingress.routing=nginx"}, true, "ClientIP"},
		{"Both can be turned off.", []string{"--set", "ingress.routing=nginx", "--set", "ingress.socketIOAffinity=false", "--set", "services.realtime.sessionAffinity=None"}, false, "None"},
	} {
		t.Run(c.name, func(t *testing.T) {
			objs := render(t, "workpulse", c.args...)
			for _, p := range ingressPaths(t, objs) {
				a := p.ingress.GetAnnotations()
				socketIO := strings.HasPrefix(p.path, "/socket")
				wantCookie := socketIO && c.cookie
				if got := a["nginx.ingress.kubernetes.io/affinity"] == "cookie"; got != wantCookie {
					t.Errorf("Ingress %s path %s: cookie affinity %v, want %v", p.ingress.GetName(), p.path, got, wantCookie)
				}
				// ingress-nginx needs the cookie path of a regex path.
				if wantCookie && a["nginx.ingress.kubernetes.io/session-cookie-path"] != "/socket.io/" {
					t.Errorf("Ingress %s: session-cookie-path %q", p.ingress.GetName(), a["nginx.ingress.kubernetes.io/session-cookie-path"])
				}
			}
			for _, s := range find(objs, "Service") {
				name := strings.TrimPrefix(s.GetName(), fullname+"-")
				got, _ := nested(s.Object, "spec", "sessionAffinity").(string)
				want := ""
				if name == "realtime" {
					want = c.realtimeMode
				}
				if got != want {
					t.Errorf("Service %s: sessionAffinity %q, want %q", name, got, want)
				}
			}
		})
	}
}

// As the front door, web pins each Socket.IO session to a realtime pod
// itself: a headless Service lists the pods, and web resolves its name.
func TestTheFrontDoorPinsSocketIOSessionsToThePodsOfAHeadlessRealtimeService(t *testing.T) {
	headless := fullname + "-realtime-pods"
	for _, c := range []struct {
		name string
		args []string
		want bool
	}{
		{"By default (the front door) web resolves the headless Service's name at realtime's pod port.", nil, true},
		{"With frontDoor routing set, too.", []string{"--set", "ingress.routing=frontDoor"}, true},
		{"With the gateway too.", []string{"--set", "ingress.enabled=false", "--set", "gateway.enabled=true", "--set", "gateway.parentRefs[0].name=public"}, true},
		{"It can be turned off, and Socket.IO goes through the realtime Service.", []string{"--set", "ingress.routing=frontDoor", "--set", "services.web.socketIOAffinity=false"}, false},
		{"With nginx routing ingress-nginx keeps the affinity, and there is no headless Service.", []string{"--set", "ingress.routing=nginx"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			objs := render(t, "workpulse", c.args...)
			var svc map[string]any
			var deploy *unstructured.Unstructured
			for _, o := range objs {
				switch o.GetKind() + "/" + o.GetName() {
				case "Service/" + headless:
					svc = o.Object
				case "Deployment/" + fullname + "-realtime":
					deploy = o
				}
			}
			env := envOfEachService(t, objs, "FRONT_DOOR_AFFINITY")
			if !c.want {
				if svc != nil || len(env) != 0 {
					t.Fatalf("headless Service %v, FRONT_DOOR_AFFINITY %v; want neither", svc != nil, env)
				}
				return
			}
			if svc == nil || deploy == nil {
				t.Fatalf("no Service %s or no realtime Deployment", headless)
			}
			if ip := nested(svc, "spec", "clusterIP"); ip != "None" {
				t.Fatalf("clusterIP %v; want None (headless: one address per pod)", ip)
			}
			if got, want := fmt.Sprint(nested(svc, "spec", "selector")), fmt.Sprint(nested(deploy.Object, "spec", "selector", "matchLabels")); got != want {
				t.Fatalf("selector %s; want the realtime pods' %s", got, want)
			}
			if l := nested(svc, "metadata", "labels").(map[string]any); l["workpulse.io/metrics"] != nil {
				t.Fatal("the headless Service carries the metrics label: its pods would be scraped twice")
			}
			// DNS gives pod addresses: web must dial the container's port.
			var podPort any
			for _, p := range podSpec(deploy)["containers"].([]any)[0].(map[string]any)["ports"].([]any) {
				if p := p.(map[string]any); p["name"] == "http" {
					podPort = p["containerPort"]
				}
			}
			want := fmt.Sprintf("realtime=http://%s:%v", headless, podPort)
			if env[routes.Web] != want || len(env) != 1 {
				t.Fatalf("FRONT_DOOR_AFFINITY %v; want web's %q", env, want)
			}
		})
	}
}
