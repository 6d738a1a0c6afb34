// Package httpx is the HTTP plumbing every service shares: JSON responses,
// the error envelope, strict request decoding, middleware and a server with
// graceful shutdown.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/logging"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// JSON writes v as a JSON response with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type envelope struct {
	Success bool      `json:"success"`
	Error   errorBody `json:"error"`
}

type errorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Details   any    `json:"details,omitempty"`
	Timestamp string `json:"timestamp"`
	Path      string `json:"path"`
	RequestID string `json:"requestId"`
}

// Classify maps any error to the client-facing error it is shown as.
// Errors that are not domain errors are internal; their text never reaches
// the client.
func Classify(err error) *apierr.Error {
	var ae *apierr.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, context.DeadlineExceeded), pg.IsUnavailable(err):
		return apierr.ErrUnavailable
	case pg.IsDatabaseError(err):
		return apierr.ErrDatabase
	}
	return apierr.ErrInternal
}

// Error writes err in the error envelope. Server-side errors are logged
// with the request ID.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	ae := Classify(err)
	if ae.Status >= 500 {
		slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "code", ae.Code, "err", err)
	}
	if ae.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	JSON(w, ae.Status, envelope{Error: errorBody{
		Code: ae.Code, Message: ae.Message, Details: ae.Details,
		Timestamp: clockOf(r.Context()).Now().UTC().Format(time.RFC3339Nano),
		Path:      r.URL.Path, RequestID: logging.RequestID(r.Context()),
	}})
}

// Handler is an http.Handler that returns an error; the error is written
// in the envelope.
type Handler func(w http.ResponseWriter, r *http.Request) error

func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		Error(w, r, err)
	}
}

// NotFound and MethodNotAllowed answer in the envelope for unknown routes.
func NotFound() http.Handler {
	return Handler(func(http.ResponseWriter, *http.Request) error { return apierr.ErrNotFound })
}

func MethodNotAllowed() http.Handler {
	return Handler(func(http.ResponseWriter, *http.Request) error { return apierr.ErrMethodNotAllowed })
}
