package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/outbox"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/platform/validate"
)

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

var errTenantNotFound = apierr.New(http.StatusNotFound, "TENANT_NOT_FOUND", "no such organization")

func (s *server) requireOperator(next http.Handler) http.Handler {
	return httpx.Handler(func(w http.ResponseWriter, r *http.Request) error {
		tok := []byte(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if s.cfg.OperatorToken == "" || subtle.ConstantTimeCompare(tok, []byte(s.cfg.OperatorToken)) != 1 {
			return apierr.ErrInvalidToken
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

func (s *server) getTenant(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	var resp TenantResponse
	err := pg.InOrg(r.Context(), s.store.db, id, func(tx pgx.Tx) error {
		return tx.QueryRow(r.Context(), "SELECT id, name, plan_type, active, tenant_generation FROM auth.organizations WHERE id = $1", id).
			Scan(&resp.Organization.ID, &resp.Organization.Name, &resp.Organization.PlanType, &resp.Active, &resp.Generation)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return errTenantNotFound
	}
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, resp)
	return nil
}

func (s *server) putTenant(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	var req TenantRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	var v validate.Fields
	v.UUID("id", id)
	v.Length("name", req.Name, 1, 200, true)
	v.OneOf("plan_type", req.PlanType, "free", "pro", "enterprise")
	if req.Admin != nil {
		v.Email("admin.email", req.Admin.Email)
		v.Length("admin.name", req.Admin.Name, 2, 200, true)
		v.Length("admin.password", req.Admin.Password, 8, 128, false)
	}
	if err := v.Err(); err != nil {
		return err
	}
	var hash string
	if req.Admin != nil {
		var err error
		if hash, err = HashPassword(req.Admin.Password); err != nil {
			return err
		}
	}
	resp, err := s.store.UpsertTenant(r.Context(), id, req, hash)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, resp)
	return nil
}

// UpsertTenant creates or updates the organization, creates the bootstrap
// admin once, and emits tenant.updated when the generation is newer than
// the one already applied.
func (s *Store) UpsertTenant(ctx context.Context, id string, req TenantRequest, adminHash string) (TenantResponse, error) {
	resp := TenantResponse{Organization: Organization{ID: id, Name: req.Name, PlanType: req.PlanType}, Active: req.Active}
	err := pg.InOrg(ctx, s.db, id, func(tx pgx.Tx) error {
		var gen int64
		err := tx.QueryRow(ctx, "SELECT tenant_generation FROM auth.organizations WHERE id = $1 FOR UPDATE", id).Scan(&gen)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			resp.Created = true
			if err := insertOrganization(ctx, tx, resp.Organization); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if req.Admin != nil {
			err := tx.QueryRow(ctx, "SELECT id FROM auth.users WHERE lower(email) = lower($1)", req.Admin.Email).Scan(&resp.AdminID)
			if errors.Is(err, pgx.ErrNoRows) {
				resp.AdminID, resp.AdminCreated = newID(), true
				err = insertUser(ctx, tx, User{ID: resp.AdminID, Email: req.Admin.Email, Name: req.Admin.Name,
					Role: "admin", OrganizationID: id}, adminHash)
			}
			if err != nil {
				return err
			}
		}
		resp.Generation = max(gen, req.Generation)
		if req.Generation <= gen && !resp.Created {
			return nil
		}
		settings := events.TenantUpdated{OrganizationID: id, TenantSettings: req.TenantSettings}
		raw, err := json.Marshal(settings)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE auth.organizations SET name = $2, plan_type = $3, active = $4, tenant_settings = $5, tenant_generation = $6, updated_at = now() WHERE id = $1",
			id, req.Name, req.PlanType, req.Active, raw, resp.Generation); err != nil {
			return err
		}
		ev, err := events.New(source, events.TypeTenantUpdated, id, id, settings)
		if err != nil {
			return err
		}
		return outbox.Enqueue(ctx, tx, OutboxTable, ev)
	})
	return resp, err
}
