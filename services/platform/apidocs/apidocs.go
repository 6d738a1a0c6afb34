// Package apidocs serves the API's documentation where the replaced service
// did: the OpenAPI document at /api/docs-json (JSON) and /api/openapi.yaml
// (as written), and an interactive page (Swagger UI) at /api/docs whose
// assets come from the swagger-ui-dist npm package, embedded at build time.
package apidocs

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/workpulse/workpulse/api"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// embedded holds dist/swagger-ui once hack/docs-build.sh has run; a fresh
// clone has only the placeholder beside it.
//
//go:embed all:dist
var embedded embed.FS

// Built returns the embedded Swagger UI assets, or nil when the binary was
// compiled without them.
func Built() fs.FS {
	assets, err := fs.Sub(embedded, "dist/swagger-ui")
	if err != nil {
		return nil
	}
	if _, err := fs.Stat(assets, BundleJS); err != nil {
		return nil
	}
	return assets
}

// The swagger-ui-dist files the page loads.
const (
	BundleJS = "swagger-ui-bundle.js"
	StyleCSS = "swagger-ui.css"
)

// Paths the handler answers; the routing table sends them to the service
// that mounts it.
const (
	PagePath = "/api/docs"
	JSONPath = "/api/docs-json"
	YAMLPath = "/api/openapi.yaml"
)

// Paths are every path Handler answers (GET and HEAD).
func Paths() []string {
	return []string{PagePath, PagePath + "/init.js", path.Join(PagePath, BundleJS), path.Join(PagePath, StyleCSS), JSONPath, YAMLPath}
}

// Handler serves the spec and the page. assets is Built(), or nil: the page
// is then a 503 notice saying how to build it.
func Handler(assets fs.FS) (http.Handler, error) {
	specJSON, err := api.OpenAPIJSON()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+JSONPath, func(w http.ResponseWriter, r *http.Request) {
		// The document is no API result: tools read it as it is.
		httpx.SkipEnvelope(w)
		write(w, "application/json; charset=utf-8", specJSON)
	})
	mux.HandleFunc("GET "+YAMLPath, func(w http.ResponseWriter, r *http.Request) {
		write(w, "application/yaml; charset=utf-8", api.OpenAPIYAML)
	})
	mux.HandleFunc("GET "+PagePath+"/init.js", func(w http.ResponseWriter, r *http.Request) {
		write(w, "text/javascript; charset=utf-8", []byte(initJS))
	})
	if assets == nil {
		mux.HandleFunc("GET "+PagePath, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(notBuiltPage))
		})
		return mux, nil
	}
	mux.HandleFunc("GET "+PagePath, func(w http.ResponseWriter, r *http.Request) {
		// Swagger UI sets inline styles; its scripts are all files of this origin.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
			"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
		write(w, "text/html; charset=utf-8", []byte(page))
	})
	for _, name := range []string{BundleJS, StyleCSS} {
		body, err := fs.ReadFile(assets, name)
		if err != nil {
			return nil, err
		}
		kind := "text/javascript; charset=utf-8"
		if strings.HasSuffix(name, ".css") {
			kind = "text/css; charset=utf-8"
		}
		mux.HandleFunc("GET "+path.Join(PagePath, name), func(w http.ResponseWriter, r *http.Request) {
			write(w, kind, body)
		})
	}
	return mux, nil
}

func write(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// The documents change only with a deploy; revalidating is cheap.
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WorkPulse API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>
`

// initJS starts Swagger UI on the JSON spec; a file of its own because the
// page's Content-Security-Policy allows no inline script.
const initJS = `window.ui = SwaggerUIBundle({ url: "/api/docs-json", dom_id: "#swagger-ui", deepLinking: true });
`

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WorkPulse API: the docs page is not built</title></head>
<body><main><h1>The API docs page is not built</h1>
<p>This binary was compiled without the docs page's assets. Run <code>make build</code> (or <code>make dev</code>),
which installs them with npm before compiling the services, then start the service again.</p>
<p>The OpenAPI document is served all the same: <a href="/api/docs-json">/api/docs-json</a> and
<a href="/api/openapi.yaml">/api/openapi.yaml</a>.</p></main></body></html>
`
