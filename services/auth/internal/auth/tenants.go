package auth

import (
	"time"

	"github.com/workpulse/workpulse/api/events"
)

// The operator provisions tenants through this internal API (never routed
// by the front door or the Ingress). It is idempotent: the operator calls
// it on every reconcile that changes the tenant.

// TenantRequest is the body of PUT /internal/tenants/{id}.
type TenantRequest struct {
	events.TenantSettings
	Admin *TenantAdmin `json:"admin,omitempty"`
	// TenantUID is the WorkPulseTenant's metadata.uid. An organization is
	// created only under its resource's own uid, and an existing one
	// managed by another resource (or by none) is taken over only with an
	// AdoptionToken its admin issued.
	TenantUID     string `json:"tenant_uid"`
	AdoptionToken string `json:"adoption_token,omitempty"`
}

// AdoptionToken is what an admin gets back; Token is shown only once.
type AdoptionToken struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	ExpiresAt      time.Time `json:"expires_at"`
	Token          string    `json:"token"`
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
	// ManagedBy is the uid of the WorkPulseTenant that manages the
	// organization, if any.
	ManagedBy string `json:"managed_by,omitempty"`
}
