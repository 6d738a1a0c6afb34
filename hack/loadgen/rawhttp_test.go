package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

func TestTheLeanClientSpeaksHTTPWithGoServers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/api/length":
			w.WriteHeader(http.StatusCreated)
			w.Write(body)
		case "/api/chunked":
			w.WriteHeader(http.StatusOK)
			for _, part := range strings.SplitAfter(string(body), ",") {
				w.Write([]byte(part))
				w.(http.Flusher).Flush()
			}
		case "/api/close":
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte("bye"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	// Real sockets time out by the wall clock.
	c, err := newRawClient(srv.URL+"/api", 5*time.Second, clock.Real)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"A response with a length comes back whole.", "/length", `{"a":1}`, 201, `{"a":1}`},
		{"A chunked response is put back together.", "/chunked", `1,22,333`, 200, `1,22,333`},
		{"A response that closes the connection is read, and the next request reconnects.", "/close", `x`, 409, `bye`},
		{"After the close the client still works.", "/length", `again`, 201, `again`},
		{"An unknown path is the server's 404.", "/nowhere", `x`, 404, "404 page not found\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, err := c.post(tc.path, "tok", []byte(tc.body))
			if err != nil || status != tc.status || string(body) != tc.want {
				t.Errorf("status %d, body %q, err %v; want %d %q", status, body, err, tc.status, tc.want)
			}
		})
	}
	if _, err := newRawClient("https://example.com/api", time.Second, clock.Real); err == nil {
		t.Error("the lean client accepted an https target")
	}
}
