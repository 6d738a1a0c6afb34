package systemtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Client speaks the public API through the front door.
type Client struct {
	t    testing.TB
	base string
	http *http.Client
}

func (p *Platform) Client(t testing.TB) *Client {
	return &Client{t: t, base: p.URL, http: &http.Client{Timeout: 30 * time.Second}}
}

// Resp is a decoded response.
type Resp struct {
	Status int
	Raw    []byte
	Header http.Header
}

// Code is the error code of an error envelope.
func (r Resp) Code() string {
	var env struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Raw, &env)
	return env.Error.Code
}

// Into decodes the body into v.
func (r Resp) Into(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Raw, v); err != nil {
		t.Fatalf("decoding %s: %v", r.Raw, err)
	}
}

// Do sends a request; body may be nil, a string (sent as is) or a value.
func (c *Client) Do(method, path, token string, body any) (Resp, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return Resp{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return Resp{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Resp{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return Resp{Status: resp.StatusCode, Raw: raw, Header: resp.Header}, err
}

// Must sends a request that must answer want.
func (c *Client) Must(want int, method, path, token string, body any) Resp {
	c.t.Helper()
	r, err := c.Do(method, path, token, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.Status != want {
		c.t.Fatalf("%s %s: %d %s; want %d", method, path, r.Status, r.Raw, want)
	}
	return r
}

// Member is a logged-in user.
type Member struct {
	Token string
	ID    string
	Org   string
	Email string
	Name  string
	Role  string
}

type authBody struct {
	AccessToken string `json:"access_token"`
	User        struct {
		ID             string `json:"id"`
		Email          string `json:"email"`
		Name           string `json:"name"`
		Role           string `json:"role"`
		OrganizationID string `json:"organization_id"`
	} `json:"user"`
}

func (b authBody) member() Member {
	return Member{Token: b.AccessToken, ID: b.User.ID, Org: b.User.OrganizationID, Email: b.User.Email, Name: b.User.Name, Role: b.User.Role}
}

// Register creates an organization and returns its admin.
func (c *Client) Register(email, name, org string) Member {
	c.t.Helper()
	var b authBody
	c.Must(201, "POST", "/auth/register", "", map[string]any{"email": email, "password": "correct horse battery", "name": name, "organization_name": org}).Into(c.t, &b)
	return b.member()
}

// Invite brings a new member into admin's organization.
func (c *Client) Invite(admin Member, email, name, role string) Member {
	c.t.Helper()
	var inv struct{ Token string }
	c.Must(201, "POST", "/users/invitations", admin.Token, map[string]any{"email": email, "role": role}).Into(c.t, &inv)
	var b authBody
	c.Must(201, "POST", "/auth/register", "", map[string]any{"email": email, "password": "correct horse battery", "name": name, "invitation_token": inv.Token}).Into(c.t, &b)
	return b.member()
}

// Session is the contract's session object.
type Session struct {
	ID                 string     `json:"id"`
	OrganizationID     string     `json:"organization_id"`
	UserID             string     `json:"user_id"`
	Status             string     `json:"status"`
	StartTime          time.Time  `json:"start_time"`
	EndTime            *time.Time `json:"end_time"`
	TotalActiveSeconds int64      `json:"total_active_seconds"`
	TotalIdleSeconds   int64      `json:"total_idle_seconds"`
	Version            int64      `json:"version"`
}

// StartSession starts a session that began at start.
func (c *Client) StartSession(m Member, start time.Time) Session {
	c.t.Helper()
	var s Session
	c.Must(201, "POST", "/sessions/start", m.Token, map[string]any{"start_time": start.UTC().Format(time.RFC3339)}).Into(c.t, &s)
	return s
}

// StopSession stops a session.
func (c *Client) StopSession(m Member, id string) Session {
	c.t.Helper()
	var s Session
	c.Must(200, "POST", "/sessions/"+id+"/stop", m.Token, map[string]any{}).Into(c.t, &s)
	return s
}

// Activity is one heartbeat as a client sends it.
type Activity struct {
	ClientActivityID string    `json:"client_activity_id"`
	Timestamp        time.Time `json:"timestamp"`
	ActivityType     string    `json:"activity_type"`
	DurationSeconds  int       `json:"duration_seconds"`
	URL              string    `json:"url,omitempty"`
}

// BulkResult is the bulk upload's answer.
type BulkResult struct {
	Session    Session `json:"session"`
	Uploaded   int     `json:"uploaded"`
	Duplicates int     `json:"duplicates"`
	Rejected   []struct {
		Index            int    `json:"index"`
		ClientActivityID string `json:"client_activity_id"`
		Code             string `json:"code"`
	} `json:"rejected"`
}

func (c *Client) path(format string, a ...any) string { return fmt.Sprintf(format, a...) }
