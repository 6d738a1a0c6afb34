package web

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/workpulse/workpulse/services/platform/apidocs"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// routes lists every route of the web service. It is the Ingress's and the
// front door's catch-all, so paths under /api that no service owns reach it
// and answer 404 in the API's envelope, never the app's HTML.
func (s *Server) routes(m *metrics.HTTP) http.Handler {
	r := httpx.NewRouter(m.Middleware)
	if s.front != nil {
		// As the front door: every path the routing table gives to another
		// service, before the catch-all below.
		r.MatcherFunc(func(req *http.Request, _ *mux.RouteMatch) bool { return s.front.Has(req.URL.Path) }).Handler(s.front)
	}
	for _, p := range apidocs.Paths() {
		r.Path(p).Methods(http.MethodGet, http.MethodHead).Handler(s.docs)
	}
	r.Path("/api").Handler(httpx.NotFound())
	r.PathPrefix("/api/").Handler(httpx.NotFound())
	r.PathPrefix("/assets/").Methods(http.MethodGet, http.MethodHead).HandlerFunc(s.asset)
	r.PathPrefix("/").Methods(http.MethodGet, http.MethodHead).HandlerFunc(s.page)
	return r
}
