package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestAnAdminRemovesAMemberKeepingOrErasingTheirDataAndTheirTokensStopEverywhere(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, admin := e.register("boss@example.com", "Bossco")
	otherTok, _ := e.register("chief@example.com", "Otherco")
	_, stranger := e.join(otherTok, "stranger@example.com", "employee")
	for _, tc := range []struct {
		name, email, data string
	}{
		{"Keeping the data.", "kept@example.com", "keep"},
		{"Erasing the data.", "erased@example.com", "erase"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, id := e.join(adminTok, tc.email, "employee")
			// A rename waiting for the relay too (user.updated).
			if r := e.do("PATCH", "/api/users/me", tok, map[string]any{"name": "Renamed Member"}); r.Status != 200 {
				t.Fatalf("rename: %d %s", r.Status, r.Raw)
			}
			if r := e.do("DELETE", "/api/users/"+id+"?data="+tc.data, adminTok, nil); r.Status != 204 {
				t.Fatalf("remove: %d %s", r.Status, r.Raw)
			}
			other := e.poll()
			if r := e.do("GET", "/api/organization", tok, nil); r.Status != 403 || r.code() != "AUTH_ACCOUNT_DISABLED" {
				t.Errorf("the removed member's token: %d %s", r.Status, r.Raw)
			}
			if _, err := other.Verify(context.Background(), tok); err == nil {
				t.Error("another service still accepts the removed member's token")
			}
			if r := e.do("POST", "/api/auth/login", "", map[string]any{"email": tc.email, "password": "correct horse"}); r.Status != 401 {
				t.Errorf("the removed member's login: %d %s", r.Status, r.Raw)
			}
			r := e.do("GET", "/api/users?limit=100", adminTok, nil)
			if r.Status != 200 || strings.Contains(r.Raw, id) {
				t.Errorf("the members after the removal: %d %s", r.Status, r.Raw)
			}
			var erase *bool
			if err := e.db.Owner.QueryRow(context.Background(), "SELECT (payload->'data'->>'erase_data')::boolean FROM auth.outbox"+
				" WHERE payload->>'type' = 'user.removed' AND payload->>'key' = $1", id).Scan(&erase); err != nil {
				t.Fatal(err)
			}
			if erase == nil || *erase != (tc.data == "erase") {
				t.Errorf("user.removed carries erase_data %v for data=%s", erase, tc.data)
			}
			// An erasure leaves nothing of the member for the relay but its own
			// event; a removal that keeps the data keeps what was pending.
			var pending int
			if err := e.db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM auth.outbox"+
				" WHERE payload->'data'->>'user_id' = $1 AND payload->>'type' <> 'user.removed'", id).Scan(&pending); err != nil {
				t.Fatal(err)
			}
			if (pending == 0) != (tc.data == "erase") {
				t.Errorf("%d events of the member left in the outbox after data=%s", pending, tc.data)
			}
			// The address is free again: the person may be invited back.
			e.join(adminTok, tc.email, "employee")
		})
	}
	refused := []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"The data choice is required.", "/api/users/" + stranger, otherTok, 400, "VALIDATION_FAILED"},
		{"An unknown data choice is refused.", "/api/users/" + stranger + "?data=archive", otherTok, 400, "VALIDATION_FAILED"},
		{"A member of another organization is not found.", "/api/users/" + stranger + "?data=erase", adminTok, 404, "USER_NOT_FOUND"},
		{"A user who does not exist is not found.", "/api/users/" + uuid.NewString() + "?data=keep", adminTok, 404, "USER_NOT_FOUND"},
		{"The last active admin cannot remove themself.", "/api/users/" + admin["id"].(string) + "?data=keep", adminTok, 409, "USER_LAST_ADMIN"},
		{"An employee may not remove anyone.", "/api/users/" + admin["id"].(string) + "?data=keep", e.login(t, "kept@example.com"), 403, "AUTH_INSUFFICIENT_PERMISSIONS"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.do("DELETE", tc.path, tc.token, nil); r.Status != tc.status || r.code() != tc.code {
				t.Fatalf("%d %s; want %d %s", r.Status, r.Raw, tc.status, tc.code)
			}
		})
	}
	if r := e.do("GET", "/api/users/me", otherTok, nil); r.Status != 200 {
		t.Errorf("the other organization's admin after the refusals: %d %s", r.Status, r.Raw)
	}
}
