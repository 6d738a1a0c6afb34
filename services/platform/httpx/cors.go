package httpx

import (
	"net/http"
	"strconv"
	"strings"
)

// The methods and headers a browser on another origin may use. Clients
// authenticate with a bearer token in Authorization and may send their own
// X-Request-Id, which every response echoes and scripts may read.
const (
	corsMethods = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
	corsHeaders = "Authorization, Content-Type, X-Request-Id"
	corsExpose  = "X-Request-Id"
	// corsMaxAge is Chromium's ceiling; browsers cache a preflight that long.
	corsMaxAge = 2 * 60 * 60
)

var corsMethodSet = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Split(corsMethods, ", ") {
		m[s] = true
	}
	return m
}()

// CORSHeaders are the response headers CORS sets; a proxy in front of
// services that set them too removes theirs so that each appears once.
var CORSHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
}

// CORS lets browsers on origins call the API: it answers preflight
// requests itself (204) and marks the responses of allowed origins.
// origins come from config.Env.Origins: ["*"] allows any origin without
// credentials; a list allows exactly those origins, with credentials, and
// responses then vary by Origin. A request from another origin is served
// without CORS headers, so the browser withholds the response from it.
func CORS(origins []string) Middleware {
	anyOrigin := len(origins) == 1 && origins[0] == "*"
	allowed := map[string]bool{}
	for _, o := range origins {
		allowed[o] = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			h := w.Header()
			if !anyOrigin {
				h.Add("Vary", "Origin")
			}
			preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
			ok := origin != "" && (anyOrigin || allowed[strings.ToLower(origin)])
			if ok {
				if anyOrigin {
					h.Set("Access-Control-Allow-Origin", "*")
				} else {
					h.Set("Access-Control-Allow-Origin", origin)
					h.Set("Access-Control-Allow-Credentials", "true")
				}
			}
			if !preflight {
				if ok {
					h.Set("Access-Control-Expose-Headers", corsExpose)
				}
				next.ServeHTTP(w, r)
				return
			}
			if ok && corsMethodSet[r.Header.Get("Access-Control-Request-Method")] {
				h.Set("Access-Control-Allow-Methods", corsMethods)
				h.Set("Access-Control-Allow-Headers", corsHeaders)
				h.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
			}
			w.WriteHeader(http.StatusNoContent)
		})
	}
}
