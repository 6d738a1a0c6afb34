package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/logging"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies mws so that the first is outermost.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// validRequestID tells whether a client's request ID is 1 to 128 of
// A-Z, a-z, 0-9 and ._:- (what a log line can carry unquoted). A loop
// rather than a regular expression: it runs on every request of every
// service, and the expression's matcher was a few per cent of ingest's CPU.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// RequestID echoes the client's X-Request-Id when it is well-formed, makes
// one otherwise, and puts it in the request context for logs and errors.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		// A proxy (the local front door) forwards the same ID to the
		// service behind it, so that one request has one ID end to end.
		r.Header.Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(logging.WithRequestID(r.Context(), id)))
	})
}

// Recover turns a panic into a 500 in the envelope and logs the stack.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				slog.ErrorContext(r.Context(), "panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				Error(w, r, apierr.ErrInternal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// BodyLimit caps request bodies; reading past the cap fails and Decode
// answers 413.
func BodyLimit(max int64) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > max {
				Error(w, r, apierr.ErrBodyTooLarge.WithMessage(fmt.Sprintf("request body exceeds %d bytes", max)))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}

// StatusRecorder remembers the status written through it.
type StatusRecorder struct {
	http.ResponseWriter
	Status int
	Bytes  int
}

func (s *StatusRecorder) WriteHeader(code int) {
	if s.Status == 0 {
		s.Status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *StatusRecorder) Write(b []byte) (int, error) {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.Bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (s *StatusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// AccessLog logs one line per request with its request ID.
func AccessLog(logger *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			watch := clock.Start()
			rec := &StatusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			level := slog.LevelInfo
			if rec.Status >= 500 {
				level = slog.LevelError
			} else if r.URL.Path == "/livez" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
				level = slog.LevelDebug
			}
			logger.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path,
				"status", rec.Status, "bytes", rec.Bytes, "duration_ms", watch.Elapsed().Milliseconds())
		})
	}
}

// CloseWhile answers every request with "Connection: close" while draining
// says so, so that a client's kept-alive connection to a process that is
// shutting down ends after a complete response and its next request opens a
// new connection, to a pod that stays. Closing idle connections from the
// server's side instead races a request already on its way (an EOF to the
// client). Upgrades (WebSockets) are left alone: they need their own
// Connection header.
func CloseWhile(draining func() bool) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if draining() && r.Header.Get("Upgrade") == "" {
				w.Header().Set("Connection", "close")
			}
			next.ServeHTTP(w, r)
		})
	}
}
