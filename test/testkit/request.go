package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Request sends body (nil, raw []byte, or a value sent as JSON) to url
// with a bearer token, as an agent or a dashboard would, and returns the
// status and the raw answer. It does not fail the test, so it can run off
// the test goroutine.
func Request(client *http.Client, method, url, token string, body any) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// Do is Request on the test goroutine: a failed round trip fails the test,
// and the answer is decoded into out when out is not nil.
func Do(t testing.TB, client *http.Client, method, url, token string, body, out any) (int, []byte) {
	t.Helper()
	status, raw, err := Request(client, method, url, token, body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
	}
	return status, raw
}
