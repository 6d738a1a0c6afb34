package auth_test

import (
	"context"
	"net/url"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/page"
)

// team creates a team named name with the admin's token; it returns its id.
func (e *env) team(adminTok, name string) string {
	e.t.Helper()
	r := e.do("POST", "/api/teams", adminTok, map[string]any{"name": name})
	if r.Status != 201 {
		e.t.Fatalf("create team %s: %d %s", name, r.Status, r.Raw)
	}
	return r.Body["id"].(string)
}

// putMember puts user into team with role, failing the test otherwise.
func (e *env) putMember(adminTok, team, user, role string) {
	e.t.Helper()
	if r := e.do("PUT", "/api/teams/"+team+"/members/"+user, adminTok, map[string]any{"role": role}); r.Status != 200 {
		e.t.Fatalf("put %s into %s as %s: %d %s", user, team, role, r.Status, r.Raw)
	}
}

// scopes is what another service knows of the team scopes after a poll,
// read as its own role does: a verifier that hands them to its callers.
func (e *env) scopes() *authn.Verifier {
	e.t.Helper()
	teams := authn.NewTeams(authn.PGTeamScopes{DB: e.db.Pool(e.t, "workpulse_report")})
	if err := teams.Poll(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return authn.NewVerifier(e.keys, "workpulse", e.clock).WithTeams(teams)
}

func (e *env) principal(v *authn.Verifier, token string) authn.Principal {
	e.t.Helper()
	p, err := v.Verify(context.Background(), token)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func TestAnAdminCreatesRenamesListsAndDeletesTeams(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, _ := e.register("boss@example.com", "Bossco")
	workerTok, worker := e.join(adminTok, "worker@example.com", "employee")
	outsiderTok, _ := e.register("other@example.com", "Otherco")

	for _, name := range []string{"Delta", "alpha", "Charlie", "bravo"} {
		e.team(adminTok, name)
	}
	var names []string
	q := url.Values{"limit": {"3"}}
	for pages := 0; ; pages++ {
		r := e.do("GET", "/api/teams?"+q.Encode(), adminTok, nil)
		if r.Status != 200 || pages > 2 {
			t.Fatalf("list: %d %s", r.Status, r.Raw)
		}
		for _, tm := range r.List {
			names = append(names, tm["name"].(string))
		}
		next := r.Header.Get(page.NextHeader)
		if next == "" {
			break
		}
		q.Set("cursor", next)
	}
	if want := []string{"alpha", "bravo", "Charlie", "Delta"}; !slices.Equal(names, want) {
		t.Fatalf("teams by name, a page at a time: %v; want %v", names, want)
	}

	id := e.team(adminTok, "Support")
	if r := e.do("PATCH", "/api/teams/"+id, adminTok, map[string]any{"name": "  Customer care "}); r.Status != 200 || r.Body["name"] != "Customer care" {
		t.Fatalf("rename: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/teams/"+id, adminTok, nil); r.Status != 200 || r.Body["name"] != "Customer care" {
		t.Fatalf("get: %d %s", r.Status, r.Raw)
	}
	e.putMember(adminTok, id, worker, "member")
	refused := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
	}{
		{"A second team of the same name, in another case, is refused.", "POST", "/api/teams", adminTok, map[string]any{"name": "ALPHA"}, 409, "TEAM_NAME_TAKEN"},
		{"A rename onto another team's name is refused.", "PATCH", "/api/teams/" + id, adminTok, map[string]any{"name": "Delta"}, 409, "TEAM_NAME_TAKEN"},
		{"A team without a name is refused.", "POST", "/api/teams", adminTok, map[string]any{"name": "  "}, 400, "VALIDATION_FAILED"},
		{"An unknown field is refused.", "POST", "/api/teams", adminTok, map[string]any{"name": "x", "organization_id": uuid.NewString()}, 400, "VALIDATION_FAILED"},
		{"An unknown team is not found.", "GET", "/api/teams/" + uuid.NewString(), adminTok, nil, 404, "TEAM_NOT_FOUND"},
		{"A team id that is not a UUID is not found.", "PATCH", "/api/teams/x", adminTok, map[string]any{"name": "y"}, 404, "TEAM_NOT_FOUND"},
		{"Another organization's team is not found.", "GET", "/api/teams/" + id, outsiderTok, nil, 404, "TEAM_NOT_FOUND"},
		{"Another organization's admin cannot delete the team.", "DELETE", "/api/teams/" + id, outsiderTok, nil, 404, "TEAM_NOT_FOUND"},
		{"An employee cannot list teams.", "GET", "/api/teams", workerTok, nil, 403, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"An employee cannot create a team.", "POST", "/api/teams", workerTok, map[string]any{"name": "Mine"}, 403, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"An employee cannot add themself to a team.", "PUT", "/api/teams/" + id + "/members/" + worker, workerTok, map[string]any{"role": "manager"}, 403, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"An employee cannot be a team's manager.", "PUT", "/api/teams/" + id + "/members/" + worker, adminTok, map[string]any{"role": "manager"}, 409, "TEAM_MANAGER_ROLE_REQUIRED"},
		{"An unknown role in a team is refused.", "PUT", "/api/teams/" + id + "/members/" + worker, adminTok, map[string]any{"role": "owner"}, 400, "VALIDATION_FAILED"},
		{"An unknown user cannot join a team.", "PUT", "/api/teams/" + id + "/members/" + uuid.NewString(), adminTok, map[string]any{}, 404, "USER_NOT_FOUND"},
		{"Removing someone who is not in the team is not found.", "DELETE", "/api/teams/" + id + "/members/" + uuid.NewString(), adminTok, nil, 404, "TEAM_MEMBER_NOT_FOUND"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.do(tc.method, tc.path, tc.token, tc.body); r.Status != tc.status || r.code() != tc.code {
				t.Fatalf("%d %s; want %d %s", r.Status, r.Raw, tc.status, tc.code)
			}
		})
	}

	if r := e.do("DELETE", "/api/teams/"+id, adminTok, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/teams/"+id, adminTok, nil); r.Status != 404 {
		t.Fatalf("a deleted team: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/users/me", workerTok, nil); r.Status != 200 {
		t.Fatalf("a member of a deleted team stays a member of the organization: %d %s", r.Status, r.Raw)
	}
}

func TestAManagerSeesTheMembersOfTheTeamsTheyManageFromTheNextPoll(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, admin := e.register("boss@example.com", "Bossco")
	leadTok, lead := e.join(adminTok, "lead@example.com", "manager")
	otherLeadTok, otherLead := e.join(adminTok, "otherlead@example.com", "manager")
	_, ann := e.join(adminTok, "ann@example.com", "employee")
	_, bob := e.join(adminTok, "bob@example.com", "employee")
	_, cat := e.join(adminTok, "cat@example.com", "employee")

	red, blue := e.team(adminTok, "Red"), e.team(adminTok, "Blue")
	e.putMember(adminTok, red, lead, "manager")
	e.putMember(adminTok, red, ann, "member")
	e.putMember(adminTok, red, bob, "member")
	e.putMember(adminTok, blue, otherLead, "manager")
	e.putMember(adminTok, blue, cat, "member")
	e.putMember(adminTok, blue, bob, "member")

	v := e.scopes()
	sees := []struct {
		name   string
		token  string
		userID string
		want   bool
	}{
		{"A manager sees a member of their team.", leadTok, ann, true},
		{"A manager sees a member of two teams through the one they manage.", leadTok, bob, true},
		{"A manager sees themself.", leadTok, lead, true},
		{"A manager does not see a member of another manager's team.", leadTok, cat, false},
		{"A manager does not see the other team's manager.", leadTok, otherLead, false},
		{"A manager does not see an admin who is in no team of theirs.", leadTok, admin["id"].(string), false},
		{"The other manager sees their own team's member.", otherLeadTok, cat, true},
		{"The other manager does not see the first team's member.", otherLeadTok, ann, false},
		{"An admin sees everyone.", adminTok, cat, true},
	}
	for _, tc := range sees {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.principal(v, tc.token).Sees(tc.userID); got != tc.want {
				t.Fatalf("Sees = %v; want %v", got, tc.want)
			}
		})
	}
	visible, all := e.principal(v, leadTok).Visible()
	slices.Sort(visible)
	want := []string{lead, ann, bob}
	slices.Sort(want)
	if all || !slices.Equal(visible, want) {
		t.Fatalf("the manager's visible users: %v (all %v); want %v", visible, all, want)
	}

	r := e.do("GET", "/api/teams", leadTok, nil)
	if r.Status != 200 || len(r.List) != 1 || r.List[0]["id"] != red {
		t.Fatalf("a manager lists the teams they manage: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/teams/"+blue, leadTok, nil); r.Status != 404 || r.code() != "TEAM_NOT_FOUND" {
		t.Fatalf("a manager reads a team they do not manage: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/teams/"+blue+"/members", leadTok, nil); r.Status != 404 || r.code() != "TEAM_NOT_FOUND" {
		t.Fatalf("a manager lists the members of a team they do not manage: %d %s", r.Status, r.Raw)
	}
	r = e.do("GET", "/api/teams/"+red+"/members?limit=2", leadTok, nil)
	if r.Status != 200 || len(r.List) != 2 || r.Header.Get(page.NextHeader) == "" {
		t.Fatalf("a manager lists their team's members a page at a time: %d %s", r.Status, r.Raw)
	}
	r = e.do("GET", "/api/users/employees", leadTok, nil)
	var people []string
	for _, u := range r.List {
		people = append(people, u["id"].(string))
	}
	slices.Sort(people)
	if r.Status != 200 || !slices.Equal(people, want) {
		t.Fatalf("a manager's people: %d %v; want themself and their team's members %v", r.Status, people, want)
	}
	if r := e.do("PUT", "/api/teams/"+red+"/members/"+cat, leadTok, map[string]any{}); r.Status != 403 {
		t.Fatalf("a manager adds a member to their own team: %d %s", r.Status, r.Raw)
	}

	// The other service keeps what it read until its next poll.
	if r := e.do("DELETE", "/api/teams/"+red+"/members/"+ann, adminTok, nil); r.Status != 204 {
		t.Fatalf("remove: %d %s", r.Status, r.Raw)
	}
	if !e.principal(v, leadTok).Sees(ann) {
		t.Fatal("a verifier that has not polled already forgot the member")
	}
	v = e.scopes()
	if e.principal(v, leadTok).Sees(ann) {
		t.Fatal("a manager still sees a member removed from their team after a poll")
	}
	e.putMember(adminTok, blue, lead, "manager")
	if p := e.principal(e.scopes(), leadTok); !p.Sees(cat) || !p.Sees(otherLead) {
		t.Fatal("a manager added to a second team does not see its members")
	}
	if r := e.do("DELETE", "/api/teams/"+blue, adminTok, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	p := e.principal(e.scopes(), leadTok)
	if p.Sees(cat) || !p.Sees(bob) {
		t.Fatalf("after the second team's deletion the manager sees cat %v, bob %v; want false, true", p.Sees(cat), p.Sees(bob))
	}
	if visible, _ := e.principal(e.scopes(), otherLeadTok).Visible(); !slices.Equal(visible, []string{otherLead}) {
		t.Fatalf("a manager of no team sees %v; want only themself", visible)
	}
	if r := e.do("DELETE", "/api/users/"+bob+"?data=keep", adminTok, nil); r.Status != 204 {
		t.Fatalf("remove bob: %d %s", r.Status, r.Raw)
	}
	if e.principal(e.scopes(), leadTok).Sees(bob) {
		t.Fatal("a manager still sees, with what is kept of their data, a member removed from the organization")
	}
}

func TestAnEmployeeSeesOnlyThemselfEvenWhenNamedATeamsManagerBeforeADemotion(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, _ := e.register("boss@example.com", "Bossco")
	_, lead := e.join(adminTok, "lead@example.com", "manager")
	_, ann := e.join(adminTok, "ann@example.com", "employee")
	red := e.team(adminTok, "Red")
	e.putMember(adminTok, red, lead, "manager")
	e.putMember(adminTok, red, ann, "member")
	if r := e.do("PATCH", "/api/users/"+lead, adminTok, map[string]any{"role": "employee"}); r.Status != 200 {
		t.Fatalf("demote: %d %s", r.Status, r.Raw)
	}
	p := e.principal(e.scopes(), e.login(t, "lead@example.com"))
	if p.Sees(ann) {
		t.Fatal("a demoted manager's new token still sees their former team")
	}
	if visible, all := p.Visible(); all || !slices.Equal(visible, []string{lead}) {
		t.Fatalf("a demoted manager sees %v (all %v); want only themself", visible, all)
	}
}
