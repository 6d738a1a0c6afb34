package httpx

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/workpulse/workpulse/services/platform/logging"
)

// Envelopes a service can answer success bodies in (API_ENVELOPE).
const (
	// EnvelopeNone answers the body itself.
	EnvelopeNone = "none"
	// EnvelopeLegacy wraps it as the replaced service did:
	// {"success": true, "data": <body>, "timestamp": ..., "requestId": ...}.
	EnvelopeLegacy = "legacy"
)

// Envelope wraps every successful JSON response of next in the legacy
// envelope when mode is EnvelopeLegacy; errors keep their own envelope,
// which already matches the replaced service's. The body streams through
// (a long report is not held in memory): the opening is written before
// the first byte of the body and the closing after the handler returns.
func Envelope(mode string) Middleware {
	return func(next http.Handler) http.Handler {
		if mode != EnvelopeLegacy {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Only API results: the internal tenant API the operator reads
			// and the probes stay as they are.
			if r.Method == http.MethodHead || !strings.HasPrefix(r.URL.Path, "/api/") {
				next.ServeHTTP(w, r)
				return
			}
			lw := &legacyWriter{ResponseWriter: w, ctx: r.Context()}
			next.ServeHTTP(lw, r)
			lw.finish()
		})
	}
}

// SkipEnvelope answers this response unwrapped whatever the mode, for
// documents that are not API results (the OpenAPI document). It must be
// called before the response's header is written.
func SkipEnvelope(w http.ResponseWriter) {
	for {
		if lw, ok := w.(*legacyWriter); ok {
			lw.skip = true
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

type legacyWriter struct {
	http.ResponseWriter
	ctx         context.Context
	skip        bool
	wroteHeader bool
	wrapping    bool
	wroteData   bool
	// newlines held back from the end of the body so far: the closing
	// follows the value directly, as the replaced service's bodies did.
	newlines int
}

func (lw *legacyWriter) WriteHeader(code int) {
	if lw.wroteHeader {
		lw.ResponseWriter.WriteHeader(code)
		return
	}
	lw.wroteHeader = true
	mt, _, _ := mime.ParseMediaType(lw.Header().Get("Content-Type"))
	if !lw.skip && code >= 200 && code < 300 && code != http.StatusNoContent && mt == "application/json" {
		lw.wrapping = true
		lw.Header().Del("Content-Length")
		lw.ResponseWriter.WriteHeader(code)
		_, _ = lw.ResponseWriter.Write([]byte(`{"success":true,"data":`))
		return
	}
	lw.ResponseWriter.WriteHeader(code)
}

func (lw *legacyWriter) Write(b []byte) (int, error) {
	if !lw.wroteHeader {
		lw.WriteHeader(http.StatusOK)
	}
	if !lw.wrapping || len(b) == 0 {
		return lw.ResponseWriter.Write(b)
	}
	if lw.newlines > 0 {
		if _, err := lw.ResponseWriter.Write(bytes.Repeat([]byte("\n"), lw.newlines)); err != nil {
			return 0, err
		}
		lw.newlines = 0
	}
	body := bytes.TrimRight(b, "\n")
	lw.newlines = len(b) - len(body)
	if len(body) > 0 {
		lw.wroteData = true
		if _, err := lw.ResponseWriter.Write(body); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

func (lw *legacyWriter) finish() {
	if !lw.wrapping {
		return
	}
	tail := make([]byte, 0, 128)
	if !lw.wroteData {
		tail = append(tail, "null"...)
	}
	tail = append(tail, `,"timestamp":"`...)
	tail = clockOf(lw.ctx).Now().UTC().AppendFormat(tail, legacyTime)
	tail = append(tail, `","requestId":`...)
	tail = strconv.AppendQuote(tail, logging.RequestID(lw.ctx))
	tail = append(tail, "}\n"...)
	_, _ = lw.ResponseWriter.Write(tail)
}

// legacyTime is JavaScript's Date.toISOString, which the replaced service
// stamped its envelope with.
const legacyTime = "2006-01-02T15:04:05.000Z"

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (lw *legacyWriter) Unwrap() http.ResponseWriter { return lw.ResponseWriter }
