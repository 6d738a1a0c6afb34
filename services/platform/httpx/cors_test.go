package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/workpulse/workpulse/services/platform/httpx"
)

func TestCORSAnswersPreflightsAndMarksResponsesOfAllowedOrigins(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-1")
		w.WriteHeader(http.StatusTeapot)
	})
	anyOrigin := []string{"*"}
	listed := []string{"https://app.example.com", "http://localhost:5173"}
	cases := []struct {
		name                       string
		origins                    []string
		method, origin, wantMethod string
		wantStatus                 int
		wantAllowOrigin, wantCreds string
		wantAllowMethods, wantVary bool
		wantExpose                 bool
	}{
		{name: "Any origin's preflight is answered 204 with every header, without credentials.",
			origins: anyOrigin, method: "OPTIONS", origin: "https://elsewhere.example", wantMethod: "DELETE",
			wantStatus: 204, wantAllowOrigin: "*", wantAllowMethods: true},
		{name: "Any origin's request reaches the API and may read X-Request-Id.",
			origins: anyOrigin, method: "GET", origin: "https://elsewhere.example",
			wantStatus: 418, wantAllowOrigin: "*", wantExpose: true},
		{name: "A request without Origin is a same-origin or non-browser call and gets no CORS headers.",
			origins: anyOrigin, method: "GET", wantStatus: 418},
		{name: "A plain OPTIONS that is no preflight reaches the API.",
			origins: anyOrigin, method: "OPTIONS", origin: "https://elsewhere.example",
			wantStatus: 418, wantAllowOrigin: "*", wantExpose: true},
		{name: "A listed origin's preflight is echoed with credentials and varies by Origin.",
			origins: listed, method: "OPTIONS", origin: "https://app.example.com", wantMethod: "POST",
			wantStatus: 204, wantAllowOrigin: "https://app.example.com", wantCreds: "true", wantAllowMethods: true, wantVary: true},
		{name: "A listed origin's request is echoed with credentials.",
			origins: listed, method: "PATCH", origin: "http://localhost:5173",
			wantStatus: 418, wantAllowOrigin: "http://localhost:5173", wantCreds: "true", wantVary: true, wantExpose: true},
		{name: "An origin matches whatever its case.",
			origins: listed, method: "GET", origin: "HTTPS://APP.example.com",
			wantStatus: 418, wantAllowOrigin: "HTTPS://APP.example.com", wantCreds: "true", wantVary: true, wantExpose: true},
		{name: "An unlisted origin's preflight is answered without CORS headers, so the browser refuses.",
			origins: listed, method: "OPTIONS", origin: "https://evil.example", wantMethod: "GET",
			wantStatus: 204, wantVary: true},
		{name: "An unlisted origin's request is served without CORS headers, so its script cannot read it.",
			origins: listed, method: "GET", origin: "https://evil.example",
			wantStatus: 418, wantVary: true},
		{name: "Another port of a listed host is another origin.",
			origins: listed, method: "GET", origin: "http://localhost:3000",
			wantStatus: 418, wantVary: true},
		{name: "A preflight for a method the API does not use lists no methods.",
			origins: anyOrigin, method: "OPTIONS", origin: "https://elsewhere.example", wantMethod: "TRACE",
			wantStatus: 204, wantAllowOrigin: "*"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, "/api/projects", nil)
			if c.origin != "" {
				r.Header.Set("Origin", c.origin)
			}
			if c.wantMethod != "" {
				r.Header.Set("Access-Control-Request-Method", c.wantMethod)
				r.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
			}
			rec := httptest.NewRecorder()
			httpx.CORS(c.origins)(api).ServeHTTP(rec, r)
			h := rec.Header()
			if rec.Code != c.wantStatus {
				t.Fatalf("status %d; want %d", rec.Code, c.wantStatus)
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != c.wantAllowOrigin {
				t.Errorf("Allow-Origin %q; want %q", got, c.wantAllowOrigin)
			}
			if got := h.Get("Access-Control-Allow-Credentials"); got != c.wantCreds {
				t.Errorf("Allow-Credentials %q; want %q", got, c.wantCreds)
			}
			wantMethods, wantHeaders, wantMaxAge := "", "", ""
			if c.wantAllowMethods {
				wantMethods, wantHeaders, wantMaxAge = "GET, POST, PUT, PATCH, DELETE, OPTIONS", "Authorization, Content-Type, X-Request-Id", "7200"
			}
			if got := h.Get("Access-Control-Allow-Methods"); got != wantMethods {
				t.Errorf("Allow-Methods %q; want %q", got, wantMethods)
			}
			if got := h.Get("Access-Control-Allow-Headers"); got != wantHeaders {
				t.Errorf("Allow-Headers %q; want %q", got, wantHeaders)
			}
			if got := h.Get("Access-Control-Max-Age"); got != wantMaxAge {
				t.Errorf("Max-Age %q; want %q", got, wantMaxAge)
			}
			if got := h.Get("Vary") == "Origin"; got != c.wantVary {
				t.Errorf("Vary %q; want Origin: %v", h.Get("Vary"), c.wantVary)
			}
			if got := h.Get("Access-Control-Expose-Headers") == "X-Request-Id"; got != c.wantExpose {
				t.Errorf("Expose-Headers %q; want X-Request-Id: %v", h.Get("Access-Control-Expose-Headers"), c.wantExpose)
			}
		})
	}
}
