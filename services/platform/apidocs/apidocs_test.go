package apidocs_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"go.yaml.in/yaml/v3"

	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/services/platform/apidocs"
)

func serve(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestBothSpecPathsServeTheSameDocument(t *testing.T) {
	h, err := apidocs.Handler(nil)
	if err != nil {
		t.Fatal(err)
	}
	jsonResp, jsonBody := serve(t, h, apidocs.JSONPath)
	yamlResp, yamlBody := serve(t, h, apidocs.YAMLPath)
	if jsonResp.StatusCode != 200 || !strings.HasPrefix(jsonResp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s: %d %s", apidocs.JSONPath, jsonResp.StatusCode, jsonResp.Header.Get("Content-Type"))
	}
	if yamlResp.StatusCode != 200 || !strings.HasPrefix(yamlResp.Header.Get("Content-Type"), "application/yaml") {
		t.Fatalf("%s: %d %s", apidocs.YAMLPath, yamlResp.StatusCode, yamlResp.Header.Get("Content-Type"))
	}
	var fromJSON, fromYAML any
	if err := json.Unmarshal([]byte(jsonBody), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(yamlBody), &fromYAML); err != nil {
		t.Fatal(err)
	}
	// JSON numbers decode as float64 and YAML's as int: compare both as JSON.
	normal, _ := json.Marshal(fromYAML)
	var fromYAMLNormal any
	_ = json.Unmarshal(normal, &fromYAMLNormal)
	if !reflect.DeepEqual(fromJSON, fromYAMLNormal) {
		t.Fatal("the JSON and YAML documents differ")
	}
	if doc := fromJSON.(map[string]any); doc["openapi"] == nil || len(doc["paths"].(map[string]any)) == 0 {
		t.Fatalf("not an OpenAPI document with paths: %.200s", jsonBody)
	}
}

func TestTheDocsPageLoadsItsAssets(t *testing.T) {
	assets := apidocs.Built()
	if assets == nil {
		// A binary built without npm: the page is still wired the same way,
		// so it is checked on stand-ins of the package's files.
		assets = fstest.MapFS{
			apidocs.BundleJS: {Data: []byte("window.SwaggerUIBundle = function () {};\n")},
			apidocs.StyleCSS: {Data: []byte(".swagger-ui {}\n")},
		}
	}
	h, err := apidocs.Handler(assets)
	if err != nil {
		t.Fatal(err)
	}
	resp, page := serve(t, h, apidocs.PagePath)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", resp.StatusCode, page)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) != 3 {
		t.Fatalf("the page references %d files; want the bundle, the style sheet and the initializer: %s", len(refs), page)
	}
	for _, ref := range refs {
		t.Run("The page's "+ref[1]+" loads.", func(t *testing.T) {
			resp, body := serve(t, h, ref[1])
			want := "text/javascript"
			if strings.HasSuffix(ref[1], ".css") {
				want = "text/css"
			}
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), want) || body == "" {
				t.Fatalf("%d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
			}
			if route, _ := routes.Lookup(ref[1]); route.Service != routes.Web {
				t.Fatalf("%s is routed to %s, not to the web service that serves the page", ref[1], route.Service)
			}
		})
	}
	if _, init := serve(t, h, apidocs.PagePath+"/init.js"); !strings.Contains(init, apidocs.JSONPath) {
		t.Fatalf("the initializer does not load the spec: %s", init)
	}
}

func TestWithoutItsAssetsTheDocsPageSaysHowToBuildIt(t *testing.T) {
	h, err := apidocs.Handler(nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, page := serve(t, h, apidocs.PagePath)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "make build") || !strings.Contains(page, apidocs.JSONPath) {
		t.Fatalf("%d %s", resp.StatusCode, page)
	}
}

func TestEveryPathIsRoutedToTheWebService(t *testing.T) {
	for _, p := range apidocs.Paths() {
		if route, _ := routes.Lookup(p); route.Service != routes.Web {
			t.Errorf("%s is routed to %s", p, route.Service)
		}
	}
}
