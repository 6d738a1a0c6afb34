package httpx

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// NewRouter returns a gorilla/mux router that answers unknown paths and
// methods in the error envelope and applies mws (metrics, typically) to
// every matched route.
func NewRouter(mws ...mux.MiddlewareFunc) *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler = NotFound()
	r.MethodNotAllowedHandler = MethodNotAllowed()
	r.Use(mws...)
	return r
}

// Stack is the middleware every service's API runs behind, outermost first.
// clk is the service's clock, which stamps the error envelope.
func Stack(clk clock.Clock, h http.Handler, maxBody int64, mws ...Middleware) http.Handler {
	return Chain(h, append([]Middleware{WithClock(clk), RequestID, Recover, BodyLimit(maxBody)}, mws...)...)
}
