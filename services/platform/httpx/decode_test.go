package httpx_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

type sample struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func TestDecodeRefusesBadBodiesWithAClearError(t *testing.T) {
	cases := []struct {
		name        string
		contentType string
		body        string
		limit       int64
		wantCode    string
		wantStatus  int
	}{
		{"A well-formed body decodes.", "application/json", `{"name":"a","count":2}`, 1 << 10, "", 0},
		{"An empty body decodes as an empty object.", "", ``, 1 << 10, "", 0},
		{"Malformed JSON is a validation failure.", "application/json", `{"name":`, 1 << 10, "VALIDATION_FAILED", 400},
		{"A field of the wrong type is a validation failure.", "application/json", `{"count":"two"}`, 1 << 10, "VALIDATION_FAILED", 400},
		{"An unknown field is refused.", "application/json", `{"nmae":"typo"}`, 1 << 10, "VALIDATION_FAILED", 400},
		{"Two JSON values in one body are refused.", "application/json", `{} {}`, 1 << 10, "VALIDATION_FAILED", 400},
		{"A body over the size limit is 413.", "application/json", `{"name":"` + strings.Repeat("x", 2000) + `"}`, 1 << 10, "REQUEST_TOO_LARGE", 413},
		{"Deeply nested JSON is refused before decoding.", "application/json", strings.Repeat("[", 100) + strings.Repeat("]", 100), 1 << 10, "VALIDATION_FAILED", 400},
		{"Invalid UTF-8 is refused.", "application/json", "{\"name\":\"\xff\xfe\"}", 1 << 10, "VALIDATION_FAILED", 400},
		{"A form-encoded body is an unsupported media type.", "application/x-www-form-urlencoded", `name=a`, 1 << 10, "UNSUPPORTED_MEDIA_TYPE", 415},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got error
			h := httpx.BodyLimit(c.limit)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var s sample
				got = httpx.Decode(r, &s)
			}))
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
			req.ContentLength = -1 // make the handler meet the limit while reading
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if c.wantCode == "" {
				if got != nil {
					t.Fatalf("decode failed: %v", got)
				}
				return
			}
			var ae *apierr.Error
			if !errors.As(got, &ae) || ae.Code != c.wantCode || ae.Status != c.wantStatus {
				t.Fatalf("got %v; want %s (%d)", got, c.wantCode, c.wantStatus)
			}
		})
	}
}

func TestErrorsAreRenderedInTheEnvelopeWithoutInternalDetail(t *testing.T) {
	h := httpx.Stack(clock.Real, httpx.Handler(func(w http.ResponseWriter, r *http.Request) error {
		return errors.New("pq: password authentication failed for user secret")
	}), 1<<10)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/x", nil)
	req.Header.Set("X-Request-Id", "client-chosen-id")
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != 500 || !strings.Contains(body, `"code":"SYSTEM_INTERNAL_ERROR"`) || !strings.Contains(body, `"success":false`) {
		t.Fatalf("got %d %s; want 500 in the envelope", rec.Code, body)
	}
	if strings.Contains(body, "secret") {
		t.Fatalf("the internal error leaked to the client: %s", body)
	}
	if rec.Header().Get("X-Request-Id") != "client-chosen-id" || !strings.Contains(body, `"requestId":"client-chosen-id"`) {
		t.Fatalf("the client's request id was not echoed: header %q body %s", rec.Header().Get("X-Request-Id"), body)
	}
}

func TestAPanicBecomesA500InTheEnvelope(t *testing.T) {
	h := httpx.Stack(clock.Real, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), 1<<10)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/x", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "SYSTEM_INTERNAL_ERROR") {
		t.Fatalf("got %d %s; want a 500 envelope", rec.Code, rec.Body.String())
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"name":"a","count":1}`, `{`, `[]`, `{"count":1e400}`, strings.Repeat("{", 40)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var s sample
		err := httpx.DecodeBytes(body, &s)
		var ae *apierr.Error
		if err != nil && !errors.As(err, &ae) {
			t.Fatalf("decode returned a non-client error: %v", err)
		}
	})
}
