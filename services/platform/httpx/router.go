package httpx

import (
	"net/http"

	"github.com/gorilla/mux"
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
func Stack(h http.Handler, maxBody int64, mws ...Middleware) http.Handler {
	return Chain(h, append([]Middleware{RequestID, Recover, BodyLimit(maxBody)}, mws...)...)
}
