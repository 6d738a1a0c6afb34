package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/workpulse/workpulse/api/events"
)

// tenantRequest is the body of auth's PUT /internal/tenants/{id}: the
// settings type auth decodes and publishes, and the bootstrap admin.
type tenantRequest struct {
	events.TenantSettings
	Admin *tenantAdmin `json:"admin,omitempty"`
	// TenantUID is the resource's metadata.uid: auth creates an
	// organization only under it, and lets another resource's manage an
	// existing one only with an AdoptionToken.
	TenantUID     string `json:"tenant_uid"`
	AdoptionToken string `json:"adoption_token,omitempty"`
}

type tenantAdmin struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

type tenantResponse struct {
	Organization struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"organization"`
	Active       bool   `json:"active"`
	Created      bool   `json:"created"`
	AdminID      string `json:"admin_id"`
	AdminCreated bool   `json:"admin_created"`
	Generation   int64  `json:"generation"`
	// ManagedBy is the uid of the resource that manages the organization.
	ManagedBy string `json:"managed_by"`
}

// authError is an answer of the auth service other than success. A 4xx
// means the request itself is wrong (retrying the same spec cannot help);
// anything else is worth retrying.
type authError struct {
	Status  int
	Code    string
	Message string
}

func (e *authError) Error() string {
	return fmt.Sprintf("auth service answered %d %s: %s", e.Status, e.Code, e.Message)
}

// adoptionRefused is auth refusing to let this resource take an existing
// organization over: the token is missing, wrong, spent or expired.
func (e *authError) adoptionRefused() bool { return strings.HasPrefix(e.Code, "ADOPTION_TOKEN_") }

func (e *authError) permanent() bool { return e.Status >= 400 && e.Status < 500 && e.Status != 429 }

var errTenantNotFound = errors.New("organization not found in the auth service")

// authClient calls auth's internal tenant API with the operator token.
type authClient struct {
	base  string
	token string
	http  *http.Client
}

func newAuthClient(base, token string, timeout time.Duration) *authClient {
	return &authClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: timeout}}
}

// Get returns the organization, or errTenantNotFound.
func (c *authClient) Get(ctx context.Context, orgID string) (tenantResponse, error) {
	var out tenantResponse
	err := c.do(ctx, http.MethodGet, orgID, nil, &out)
	return out, err
}

// Put creates or updates the organization. Auth applies the settings only
// when req.Generation is above the one it holds; when it holds a newer one
// (an adopted organization, managed before by another resource), the
// settings are sent again just above it, so the spec always wins.
func (c *authClient) Put(ctx context.Context, orgID string, req tenantRequest) (tenantResponse, error) {
	var out tenantResponse
	if err := c.do(ctx, http.MethodPut, orgID, req, &out); err != nil {
		return out, err
	}
	if out.Generation > req.Generation {
		req.Generation = out.Generation + 1
		req.Admin = nil
		created, adminID, adminCreated := out.Created, out.AdminID, out.AdminCreated
		if err := c.do(ctx, http.MethodPut, orgID, req, &out); err != nil {
			return out, err
		}
		out.Created, out.AdminID, out.AdminCreated = created, adminID, adminCreated
	}
	return out, nil
}

func (c *authClient) do(ctx context.Context, method, orgID string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/internal/tenants/"+orgID, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("auth service unreachable: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusNotFound && method == http.MethodGet {
		return errTenantNotFound
	}
	if resp.StatusCode/100 != 2 {
		// The platform's error envelope: {"error": {"code", "message"}}.
		var env struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
				Details []struct {
					Field       string   `json:"field"`
					Constraints []string `json:"constraints"`
				} `json:"details"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &env)
		msg := env.Error.Message
		// Field names and constraints only: values may be secrets.
		for _, d := range env.Error.Details {
			msg += fmt.Sprintf("; %s %s", d.Field, strings.Join(d.Constraints, ", "))
		}
		return &authError{Status: resp.StatusCode, Code: env.Error.Code, Message: msg}
	}
	return json.Unmarshal(raw, out)
}
