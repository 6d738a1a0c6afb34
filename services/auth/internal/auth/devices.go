package auth

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/page"
	"github.com/workpulse/workpulse/services/platform/validate"
)

// Device is a desktop agent a user registered. Token is shown once, when
// it is registered.
type Device struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Token      string     `json:"token,omitempty"`
}

type deviceRequest struct {
	Name string `json:"name"`
}

// Validate trims and checks the name.
func (req *deviceRequest) Validate() error {
	req.Name = strings.TrimSpace(req.Name)
	var v validate.Fields
	v.Length("name", req.Name, 1, 100, true)
	return v.Err()
}

// createDevice serves POST /api/devices: the caller registers a desktop
// agent and gets its device token. The token carries the employee role
// whatever the caller's: it tracks its holder's own work, and a role
// change does not have to reach it.
func (s *server) createDevice(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	req, err := httpx.DecodeBody[deviceRequest](r)
	if err != nil {
		return err
	}
	signer, err := s.keys.Signer(s.cfg.Issuer)
	if err != nil {
		return err
	}
	signer.TTL = s.cfg.DeviceTokenTTL
	now := s.clock.Now().UTC().Truncate(time.Second)
	d := Device{ID: newID(), UserID: p.UserID, Name: req.Name, CreatedAt: now, ExpiresAt: now.Add(signer.TTL)}
	d.Token, err = signer.Sign(deviceHolder(p, d.ID, 0), now)
	if err != nil {
		return err
	}
	if err := s.store.CreateDevice(r.Context(), p.OrganizationID, d); err != nil {
		return err
	}
	httpx.JSON(w, http.StatusCreated, d)
	return nil
}

// deviceHolder is who a device token of p's device id stands for, at
// version (how often the device was renewed).
func deviceHolder(p authn.Principal, id string, version int) authn.Principal {
	return authn.Principal{UserID: p.UserID, Email: p.Email, OrganizationID: p.OrganizationID,
		Role: authn.RoleEmployee, DeviceID: id, TokenVersion: version}
}

// DeviceRenewGrace is how long after its expiry a device token may still
// renew itself: an agent on a laptop that stayed shut over a holiday
// renews when it starts again, with no password. Past it, the agent's
// user signs in and registers it again.
const DeviceRenewGrace = 14 * 24 * time.Hour

// renewDevice serves POST /api/devices/{id}/renew: the device's agent,
// with its current device token (up to DeviceRenewGrace past its expiry),
// or its user, gets a new token lasting DEVICE_TOKEN_TTL. The old token
// is refused everywhere from the next poll of the revocation list.
func (s *server) renewDevice(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	id := mux.Vars(r)["id"]
	if _, err := uuid.Parse(id); err != nil || (p.IsDevice() && p.DeviceID != id) {
		return ErrDeviceNotFound
	}
	signer, err := s.keys.Signer(s.cfg.Issuer)
	if err != nil {
		return err
	}
	signer.TTL = s.cfg.DeviceTokenTTL
	now := s.clock.Now().UTC().Truncate(time.Second)
	d, err := s.store.RenewDevice(r.Context(), p, id, now.Add(-DeviceRenewGrace), now.Add(signer.TTL), func(version int) (string, error) {
		return signer.Sign(deviceHolder(p, id, version), now)
	})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, d)
	return nil
}

// listDevices serves GET /api/devices: the caller's live devices, or an
// admin's whole organization's (narrowed by ?user_id=), by name, a page
// at a time.
func (s *server) listDevices(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	owner := p.UserID
	if p.IsAdmin() {
		if owner = r.URL.Query().Get("user_id"); owner != "" {
			var v validate.Fields
			if v.UUID("user_id", owner); v.Err() != nil {
				return v.Err()
			}
		}
	}
	return page.Serve(w, r, p.OrganizationID, func(ctx context.Context, org string, req page.Request) ([]Device, *page.Cursor, error) {
		return s.store.ListDevices(ctx, org, owner, req)
	})
}

// revokeDevice serves DELETE /api/devices/{id}: its user, or an admin,
// revokes a device; every service refuses its token within a poll.
func (s *server) revokeDevice(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	id := mux.Vars(r)["id"]
	if _, err := uuid.Parse(id); err != nil {
		return ErrDeviceNotFound
	}
	if err := s.store.RevokeDevice(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
