package chartcheck

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/workpulse/workpulse/api/routes"
)

// ingressPath is one rendered Ingress path.
type ingressPath struct {
	path, service string
	ingress       *unstructured.Unstructured
}

func ingressPaths(t *testing.T, objs []*unstructured.Unstructured) []ingressPath {
	t.Helper()
	var out []ingressPath
	for _, ing := range find(objs, "Ingress") {
		rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
		for _, r := range rules {
			paths, _, _ := unstructured.NestedSlice(r.(map[string]any), "http", "paths")
			for _, p := range paths {
				p := p.(map[string]any)
				if p["pathType"] != "ImplementationSpecific" {
					t.Errorf("%s: path %v has pathType %v; regex paths need ImplementationSpecific", ing.GetName(), p["path"], p["pathType"])
				}
				svc, _ := nested(p, "backend", "service", "name").(string)
				// Only the API's port: the internal one (probes, /metrics) is for
				// the cluster, never published through the Ingress.
				if port := nested(p, "backend", "service", "port", "name"); port != "http" {
					t.Errorf("%s: path %v goes to port %v; want http", ing.GetName(), p["path"], port)
				}
				out = append(out, ingressPath{path: p["path"].(string), service: strings.TrimPrefix(svc, fullname+"-"), ingress: ing})
			}
		}
	}
	return out
}

func TestIngressRoutesEveryPathLikeTheFrontDoorsRoutingTable(t *testing.T) {
	objs := render(t, "workpulse", "--set", "ingress.routing=nginx")
	paths := ingressPaths(t, objs)

	// The same routes: ingress-nginx anchors each regex path with "^" itself.
	var got, want []string
	for _, p := range paths {
		got = append(got, "^"+p.path+" -> "+p.service)
	}
	for _, r := range routes.Table {
		want = append(want, r.Pattern+" -> "+r.Service)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Ingress routes differ from api/routes:\n got %q\nwant %q", got, want)
	}

	// Every route's Ingress turns regex matching on; WebSocket routes get long timeouts.
	for _, p := range paths {
		a := p.ingress.GetAnnotations()
		if a["nginx.ingress.kubernetes.io/use-regex"] != "true" {
			t.Errorf("Ingress %s serves %s without use-regex", p.ingress.GetName(), p.path)
		}
		i := slices.IndexFunc(routes.Table, func(r routes.Route) bool { return r.Pattern == "^"+p.path })
		route := routes.Table[i]
		ws := a["nginx.ingress.kubernetes.io/proxy-read-timeout"] != "" && a["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
		if route.WebSocket != ws {
			t.Errorf("Ingress %s path %s: WebSocket settings %v, routing table says WebSocket %v", p.ingress.GetName(), p.path, ws, route.WebSocket)
		}
	}

	// ingress-nginx tries regex locations longest path first, case-insensitively (~*), and
	// the first match wins; routes.Lookup tries the table in order. Both must pick the same
	// service for every path a client sends.
	nginx := slices.Clone(paths)
	slices.SortStableFunc(nginx, func(a, b ingressPath) int { return len(b.path) - len(a.path) })
	compiled := make([]*regexp.Regexp, len(nginx))
	for i, p := range nginx {
		compiled[i] = regexp.MustCompile("(?i)^" + p.path)
	}
	nginxLookup := func(path string) string {
		for i, re := range compiled {
			if re.MatchString(path) {
				return nginx[i].service
			}
		}
		return ""
	}
	for _, path := range samplePaths() {
		want := ""
		if r, ok := routes.Lookup(path); ok {
			want = r.Service
		}
		if got := nginxLookup(path); got != want {
			t.Errorf("%s: the Ingress sends it to %q, the front door to %q", path, got, want)
		}
	}
}

// samplePaths are the public API's paths, their near misses and paths no route owns.
func samplePaths() []string {
	id := "0f8fad5b-d9cb-469f-a165-70867728950e"
	paths := []string{
		"/api/auth/register", "/api/auth/login", "/api/auth/.well-known/jwks.json", "/api/auth/",
		"/api/auth", "/api/users", "/api/users/", "/api/users/employees", "/api/users/" + id, "/api/users/invitations/accept",
		"/api/teams", "/api/teams/" + id, "/api/teams/" + id + "/members/" + id, "/api/teamsx",
		"/api/organization", "/api/organization/", "/api/organizations", "/api/organization/adoption-tokens", "/api/organization/adoption-tokensx",
		"/api/organization/sso", "/api/organization/ssox", "/api/auth/sso/start", "/api/auth/sso/callback", "/sso/callback",
		"/api/devices", "/api/devices/" + id, "/api/devices/" + id + "/x", "/api/devicesx", "/api/audit", "/api/audit/", "/api/auditx",
		"/api/projects", "/api/projects/" + id,
		"/api/sessions", "/api/sessions/", "/api/sessions/start", "/api/sessions/active", "/api/sessions/" + id,
		"/api/sessions/" + id + "/stop", "/api/sessions/" + id + "/activity", "/api/sessions/" + id + "/activity/bulk",
		"/api/sessions/" + id + "/idle-decisions", "/api/sessions/" + id + "/idle-decisions/x",
		"/api/sessions/" + id + "/activity/", "/api/sessions/" + id + "/activity/bulk/x", "/api/sessions//activity",
		"/api/sessions/a/b/activity", "/api/sessions/start/activity",
		"/api/time-requests", "/api/time-requests/" + id + "/approve", "/api/time-requestsx",
		"/api/reports", "/api/reports/daily", "/api/reports/organization", "/api/alerts", "/api/alerts/" + id + "/resolve",
		"/api/jobs", "/api/jobs/" + id, "/api/jobsx", "/api/reportsx",
		"/api/ws", "/api/ws/", "/api/wsx", "/api/presence", "/api/presence/" + id,
		"/socket.io/", "/socket.io", "/socket.io/x", "/socketxio/", "/api/socket.io/",
		"/api/health", "/api", "/api/", "/", "/metrics", "/livez", "/internal/tenants", "/api/unknown",
		"/api/userss", "/api/projectsx", "/api/sessionsx",
		"/api/docs", "/api/docs/swagger-ui.css", "/api/docs-json", "/api/openapi.yaml", "/api/openapiXyaml", "/api/docsx",
	}
	// Every route's own pattern, reduced to a concrete path, is sampled too.
	for _, r := range routes.Table {
		p := strings.NewReplacer("^", "", "$", "", `(docs(/.*)?|docs-json|openapi\.yaml)`, "openapi.yaml", `\.`, ".", "[^/]+", id,
			"(/bulk)?", "/bulk", "(/.*)?", "/more", ".*", "more", "(reports|alerts|jobs|webhooks|categories)", "webhooks").Replace(r.Pattern)
		paths = append(paths, p)
	}
	return paths
}
