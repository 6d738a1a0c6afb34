package httpx

import (
	"context"
	"net/http"

	"github.com/workpulse/workpulse/services/platform/clock"
)

type clockKey struct{}

// WithClock makes clk the clock of every request: the error envelope's
// timestamp comes from it, so a test standing on an instant sees it there.
func WithClock(clk clock.Clock) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clockKey{}, clk)))
		})
	}
}

// clockOf is the request's clock; a handler served outside Stack (as some
// unit tests do) stamps its envelope with the wall clock.
func clockOf(ctx context.Context) clock.Clock {
	if c, ok := ctx.Value(clockKey{}).(clock.Clock); ok {
		return c
	}
	return clock.Real
}
