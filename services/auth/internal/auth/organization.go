package auth

import (
	"net/http"
	"strings"

	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/validate"
)

// memberOrganization is what every member may read of the organization:
// enough to show times in its zone.
type memberOrganization struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TimeZone string `json:"time_zone"`
}

func (s *server) getOrganization(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	o, err := s.store.OrganizationSettings(r.Context(), p.OrganizationID)
	if err != nil {
		return err
	}
	if !p.IsAdmin() {
		httpx.JSON(w, http.StatusOK, memberOrganization{ID: o.ID, Name: o.Name, TimeZone: o.TimeZone})
		return nil
	}
	httpx.JSON(w, http.StatusOK, o)
	return nil
}

// organizationPatch is the body of PATCH /api/organization: the fields
// it names change, 0 returns a number to the installation's default.
type organizationPatch struct {
	TimeZone                 *string `json:"time_zone"`
	InactiveThresholdSeconds *int    `json:"inactive_threshold_seconds"`
	IdleThresholdSeconds     *int    `json:"idle_threshold_seconds"`
	OvertimeThresholdHours   *int    `json:"overtime_threshold_hours"`
	ActivityWindowDays       *int    `json:"activity_window_days"`
	RetentionMonths          *int    `json:"retention_months"`
}

// Validate trims the zone and checks every field it names; whether the
// zone exists is the store's to tell.
func (req *organizationPatch) Validate() error {
	var v validate.Fields
	if req.TimeZone != nil {
		*req.TimeZone = strings.TrimSpace(*req.TimeZone)
		v.Length("time_zone", *req.TimeZone, 1, 64, true)
	}
	optional := func(field string, n *int, min, max int) {
		if n != nil && *n != 0 {
			v.IntRange(field, *n, min, max)
		}
	}
	optional("inactive_threshold_seconds", req.InactiveThresholdSeconds, 60, 86400)
	optional("idle_threshold_seconds", req.IdleThresholdSeconds, 60, 86400)
	optional("overtime_threshold_hours", req.OvertimeThresholdHours, 1, 24)
	optional("activity_window_days", req.ActivityWindowDays, 1, storage.MaxWindowDays)
	optional("retention_months", req.RetentionMonths, 1, 120)
	return v.Err()
}

// apply writes the fields the patch names into o.
func (req *organizationPatch) apply(o *OrganizationSettings) {
	set := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	if req.TimeZone != nil {
		o.TimeZone = *req.TimeZone
	}
	set(&o.InactiveThresholdSeconds, req.InactiveThresholdSeconds)
	set(&o.IdleThresholdSeconds, req.IdleThresholdSeconds)
	set(&o.OvertimeThresholdHours, req.OvertimeThresholdHours)
	set(&o.ActivityWindowDays, req.ActivityWindowDays)
	set(&o.RetentionMonths, req.RetentionMonths)
}

func (s *server) patchOrganization(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	req, err := httpx.DecodeBody[organizationPatch](r)
	if err != nil {
		return err
	}
	o, err := s.store.UpdateOrganizationSettings(r.Context(), p.OrganizationID, req.apply)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, o)
	return nil
}
