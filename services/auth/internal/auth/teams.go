package auth

import (
	"context"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/page"
	"github.com/workpulse/workpulse/services/platform/validate"
)

type teamRequest struct {
	Name string `json:"name"`
}

// Validate trims and checks the name.
func (req *teamRequest) Validate() error {
	req.Name = strings.TrimSpace(req.Name)
	var v validate.Fields
	v.Length("name", req.Name, 1, 200, true)
	return v.Err()
}

// createTeam serves POST /api/teams (admin).
func (s *server) createTeam(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[teamRequest](r)
	if err != nil {
		return err
	}
	t := Team{ID: newID(), OrganizationID: authn.MustFromContext(r.Context()).OrganizationID, Name: req.Name}
	if err := s.store.CreateTeam(r.Context(), &t); err != nil {
		return err
	}
	httpx.JSON(w, http.StatusCreated, t)
	return nil
}

// teamViewer is the manager whose teams the caller sees, or "" for an
// admin, who sees every team.
func teamViewer(p authn.Principal) string {
	if p.IsAdmin() {
		return ""
	}
	return p.UserID
}

// listTeams serves GET /api/teams: every team for an admin, the teams
// they manage for a manager.
func (s *server) listTeams(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	return page.Serve(w, r, p.OrganizationID, func(ctx context.Context, org string, req page.Request) ([]Team, *page.Cursor, error) {
		return s.store.ListTeams(ctx, org, teamViewer(p), req)
	})
}

// teamID is the {id} of a team route; one that is not a UUID names no team.
func teamID(r *http.Request) (string, error) {
	id := mux.Vars(r)["id"]
	if _, err := uuid.Parse(id); err != nil {
		return "", ErrTeamNotFound
	}
	return id, nil
}

// getTeam serves GET /api/teams/{id}.
func (s *server) getTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := teamID(r)
	if err != nil {
		return err
	}
	p := authn.MustFromContext(r.Context())
	t, err := s.store.GetTeam(r.Context(), p.OrganizationID, id, teamViewer(p))
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, t)
	return nil
}

// renameTeam serves PATCH /api/teams/{id} (admin).
func (s *server) renameTeam(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[teamRequest](r)
	if err != nil {
		return err
	}
	id, err := teamID(r)
	if err != nil {
		return err
	}
	t, err := s.store.RenameTeam(r.Context(), authn.MustFromContext(r.Context()).OrganizationID, id, req.Name)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, t)
	return nil
}

// deleteTeam serves DELETE /api/teams/{id} (admin): the members stay
// members of the organization, with everything stored of them.
func (s *server) deleteTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := teamID(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteTeam(r.Context(), authn.MustFromContext(r.Context()).OrganizationID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listTeamMembers serves GET /api/teams/{id}/members.
func (s *server) listTeamMembers(w http.ResponseWriter, r *http.Request) error {
	id, err := teamID(r)
	if err != nil {
		return err
	}
	p := authn.MustFromContext(r.Context())
	return page.Serve(w, r, p.OrganizationID, func(ctx context.Context, org string, req page.Request) ([]TeamMember, *page.Cursor, error) {
		return s.store.ListTeamMembers(ctx, org, id, teamViewer(p), req)
	})
}

type teamMemberRequest struct {
	Role string `json:"role"`
}

// Validate defaults the role to member and checks it.
func (req *teamMemberRequest) Validate() error {
	if req.Role == "" {
		req.Role = TeamRoleMember
	}
	var v validate.Fields
	v.OneOf("role", req.Role, TeamRoleMember, TeamRoleManager)
	return v.Err()
}

// memberRoute is a team member route's team id and user id.
func memberRoute(r *http.Request) (team, user string, err error) {
	if team, err = teamID(r); err != nil {
		return "", "", err
	}
	user = mux.Vars(r)["userId"]
	if _, err := uuid.Parse(user); err != nil {
		return "", "", ErrUserNotFound
	}
	return team, user, nil
}

// putTeamMember serves PUT /api/teams/{id}/members/{userId} (admin): it
// adds the member, or changes their role in the team.
func (s *server) putTeamMember(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[teamMemberRequest](r)
	if err != nil {
		return err
	}
	team, user, err := memberRoute(r)
	if err != nil {
		return err
	}
	m, err := s.store.PutTeamMember(r.Context(), authn.MustFromContext(r.Context()).OrganizationID, team, user, req.Role)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, m)
	return nil
}

// removeTeamMember serves DELETE /api/teams/{id}/members/{userId} (admin).
func (s *server) removeTeamMember(w http.ResponseWriter, r *http.Request) error {
	team, user, err := memberRoute(r)
	if err != nil {
		return err
	}
	if err := s.store.RemoveTeamMember(r.Context(), authn.MustFromContext(r.Context()).OrganizationID, team, user); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
