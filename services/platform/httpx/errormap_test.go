package httpx_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

func TestAnErrorMapAnswersDomainErrorsWithTheirEnvelopeErrors(t *testing.T) {
	errGone := errors.New("gone")
	errGoneAPI := apierr.New(http.StatusNotFound, "THING_NOT_FOUND", "no such thing")
	m := httpx.ErrorMap{{Domain: errGone, API: errGoneAPI}}
	other := errors.New("disk full")
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"a domain error becomes its envelope error", errGone, errGoneAPI},
		{"a wrapped domain error too", fmt.Errorf("loading: %w", errGone), errGoneAPI},
		{"any other error passes through", other, other},
		{"no error stays none", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Map(tt.err); got != tt.want {
				t.Fatalf("Map(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
	h := httpx.Handle(m.Map, func(http.ResponseWriter, *http.Request) error { return errGone })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("a handler failing with the domain error answered %d, want 404", rec.Code)
	}
}
