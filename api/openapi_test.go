package api_test

import (
	"os"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"

	"github.com/workpulse/workpulse/api/routes"
)

// TestOpenAPIDescribesExactlyTheRoutedAPI keeps the spec and the routing
// table together: every path of the spec is routed to a service, every
// route of the table is described, and every $ref resolves.
func TestOpenAPIDescribesExactlyTheRoutedAPI(t *testing.T) {
	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths      map[string]map[string]any `yaml:"paths"`
		Components map[string]map[string]any `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	described := map[int]bool{}
	for path, item := range spec.Paths {
		// Paths are under the spec's /api server, unless a path names its own.
		concrete := "/api" + strings.ReplaceAll(path, "{id}", "0f8fad5b-d9cb-469f-a165-70867728950e")
		if _, own := item["servers"]; own {
			concrete = path
		}
		if path == "/health" {
			continue // the front door or auth answers it; it is in the table too
		}
		route, ok := routes.Lookup(concrete)
		if !ok || route.Service == routes.Web {
			t.Errorf("the spec describes %s, which no service is routed for", path)
			continue
		}
		for i, r := range routes.Table {
			if r == route {
				described[i] = true
			}
		}
	}
	for i, r := range routes.Table {
		// The web app's catch-all serves pages, not API operations.
		if !described[i] && r.Pattern != `^/api/health$` && r.Service != routes.Web {
			t.Errorf("route %s (%s) is not described in the spec", r.Pattern, r.Service)
		}
	}
	var missing []string
	for _, ref := range strings.Split(string(raw), "$ref: '")[1:] {
		target := ref[:strings.Index(ref, "'")]
		parts := strings.Split(strings.TrimPrefix(target, "#/components/"), "/")
		if len(parts) != 2 || spec.Components[parts[0]][parts[1]] == nil {
			missing = append(missing, target)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("unresolved references: %v", missing)
	}
}

// TestEveryOperationDocumentsItsErrors: every operation points to the
// error envelope for the errors any endpoint can answer (default), and
// every operation that needs a token documents the 401 of a bad one.
func TestEveryOperationDocumentsItsErrors(t *testing.T) {
	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type operation struct {
		Security  *[]map[string][]string `yaml:"security"`
		Responses map[string]any         `yaml:"responses"`
	}
	var spec struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	for path, item := range spec.Paths {
		for method, body := range item {
			if method == "parameters" || method == "servers" {
				continue
			}
			b, err := yaml.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			var op operation
			if err := yaml.Unmarshal(b, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			// A comma in an unquoted flow-style description splits it into
			// a stray key: only the Response Object's own fields may appear.
			for status, resp := range op.Responses {
				fields, _ := resp.(map[any]any)
				for k := range fields {
					switch k {
					case "description", "headers", "content", "links", "$ref":
					default:
						t.Errorf("%s %s: response %s has a stray field %q (quote its description)", method, path, status, k)
					}
				}
			}
			if _, ok := op.Responses["default"]; !ok {
				t.Errorf("%s %s has no default error response", method, path)
			}
			open := op.Security != nil && len(*op.Security) == 0
			if _, ok := op.Responses["401"]; !open && !ok {
				t.Errorf("%s %s needs a token but documents no 401", method, path)
			}
		}
	}
}
