package auth

import "github.com/workpulse/workpulse/api/events"

// The operator provisions tenants through this internal API (never routed
// by the front door or the Ingress). It is idempotent: the operator calls
// it on every reconcile that changes the tenant.

// TenantRequest is the body of PUT /internal/tenants/{id}.
type TenantRequest struct {
	events.TenantSettings
	Admin *TenantAdmin `json:"admin,omitempty"`
}

// TenantAdmin is the bootstrap admin created with a new tenant.
type TenantAdmin struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// TenantResponse reports the tenant after the call.
type TenantResponse struct {
	Organization Organization `json:"organization"`
	Active       bool         `json:"active"`
	Created      bool         `json:"created"`
	AdminID      string       `json:"admin_id,omitempty"`
	AdminCreated bool         `json:"admin_created"`
	Generation   int64        `json:"generation"`
}
