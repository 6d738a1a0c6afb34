package systemtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/api"
)

// operation is one method and path of the API's document.
type operation struct {
	method, path string
	// public operations take no token (security: []).
	public  bool
	pattern *regexp.Regexp
	params  int
}

func (o operation) String() string { return o.method + " " + o.path }

// apiOperations reads every operation of the API's document.
func apiOperations(t *testing.T) []operation {
	t.Helper()
	raw, err := api.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\\\{[^}]*\\\}`)
	var ops []operation
	for path, methods := range spec.Paths {
		for method, op := range methods {
			method = strings.ToUpper(method)
			if !strings.Contains("GET POST PUT PATCH DELETE", method) {
				continue
			}
			var sec struct {
				Security *[]json.RawMessage `json:"security"`
			}
			if err := json.Unmarshal(op, &sec); err != nil {
				t.Fatal(err)
			}
			quoted := regexp.QuoteMeta(path)
			ops = append(ops, operation{method: method, path: path, public: sec.Security != nil && len(*sec.Security) == 0,
				pattern: regexp.MustCompile("^" + param.ReplaceAllString(quoted, "[^/]+") + "$"), params: strings.Count(path, "{")})
		}
	}
	// The most specific first: /users/me before /users/{id}.
	sort.Slice(ops, func(i, j int) bool { return ops[i].params < ops[j].params })
	return ops
}

// operationOf is the document's operation a row's call is, or false.
func operationOf(ops []operation, method, path string) (operation, bool) {
	path, _, _ = strings.Cut(path, "?")
	for _, o := range ops {
		if o.method == method && o.pattern.MatchString(path) {
			return o, true
		}
	}
	return operation{}, false
}

// fingerprint digests what sources hold: each a table (all its rows) or
// a SELECT of one value. The owner connection sees every organization's
// rows.
func fingerprint(t *testing.T, db *pgx.Conn, sources []string) string {
	t.Helper()
	var b strings.Builder
	for _, src := range sources {
		q := src
		if !strings.HasPrefix(src, "SELECT") {
			q = "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM " + src + " t"
		}
		var v string
		if err := db.QueryRow(context.Background(), "SELECT ("+q+")::text").Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		b.WriteString(src + "=" + v + ";")
	}
	return b.String()
}

// settled is the fingerprint once it holds still for a moment: what an
// earlier successful call set going in the background (a relay, a
// delivery) is over before a refused call is checked to change nothing.
func settled(t *testing.T, db *pgx.Conn, sources []string) string {
	t.Helper()
	last := fingerprint(t, db, sources)
	for range 50 {
		time.Sleep(200 * time.Millisecond)
		now := fingerprint(t, db, sources)
		if now == last {
			return now
		}
		last = now
	}
	t.Fatalf("%v keep changing", sources)
	return ""
}

// socketIOConnect opens an Engine.IO session on long polling at base's
// /socket.io/ and sends the Socket.IO CONNECT packet with token in its
// auth (none when empty). It returns the first poll's packets: the
// CONNECT's answer and whatever the server sent at once.
func socketIOConnect(t *testing.T, base, token string) string {
	t.Helper()
	hc := &http.Client{Timeout: 20 * time.Second}
	url := base + "/socket.io/?EIO=4&transport=polling"
	do := func(method, url, body string) string {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s; want 200", method, url, resp.StatusCode, raw)
		}
		return string(raw)
	}
	open := do("GET", url, "")
	var hs struct{ SID string }
	if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &hs) != nil || hs.SID == "" {
		t.Fatalf("the handshake answered %q", open)
	}
	url += "&sid=" + hs.SID
	connect := "40"
	if token != "" {
		auth, _ := json.Marshal(map[string]string{"token": token})
		connect += string(auth)
	}
	if got := do("POST", url, connect); got != "ok" {
		t.Fatalf("posting the CONNECT answered %q", got)
	}
	return do("GET", url, "")
}

// socketIOAnswer is what a poll's first Socket.IO packet says of the
// CONNECT: "connected", or the error code of its CONNECT_ERROR.
func socketIOAnswer(t *testing.T, packets string) string {
	t.Helper()
	first, _, _ := strings.Cut(packets, "\x1e")
	switch {
	case strings.HasPrefix(first, "40"):
		return "connected"
	case strings.HasPrefix(first, "44"):
		var e struct {
			Data struct{ Code string }
		}
		if err := json.NewDecoder(bytes.NewReader([]byte(first[2:]))).Decode(&e); err != nil {
			t.Fatalf("CONNECT_ERROR %q: %v", first, err)
		}
		return e.Data.Code
	}
	t.Fatalf("the poll after the CONNECT answered %q", packets)
	return ""
}
