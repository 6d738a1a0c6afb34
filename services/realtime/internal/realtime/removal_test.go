package realtime

import (
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestAnErasedMemberLeavesTheDirectoryAndAKeptOneStays(t *testing.T) {
	e := newEnv(t)
	r, _ := e.start(t, nil), e.start(t, nil)
	admin := testkit.Member("", authn.RoleAdmin)
	kept := testkit.Member(admin.OrganizationID, authn.RoleEmployee)
	erased := testkit.Member(admin.OrganizationID, authn.RoleEmployee)
	name := func(p authn.Principal) string {
		n, err := r.srv.presence.Name(t.Context(), p.OrganizationID, p.UserID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// One key for every event: one partition, so they are applied in order.
	key := kept.UserID
	for _, p := range []authn.Principal{kept, erased} {
		e.publish(t, events.TypeUserCreated, p.OrganizationID, key, events.UserCreated{UserID: p.UserID, OrganizationID: p.OrganizationID,
			Email: p.Email, Name: "Named " + p.UserID[:8], Role: p.Role})
	}
	waitFor(t, 10*time.Second, "both members named", func() bool { return name(kept) != "" && name(erased) != "" })
	for _, p := range []struct {
		who   authn.Principal
		erase bool
	}{{kept, false}, {erased, true}} {
		e.publish(t, events.TypeUserRemoved, p.who.OrganizationID, key, events.UserRemoved{UserID: p.who.UserID,
			OrganizationID: p.who.OrganizationID, EraseData: p.erase})
	}
	waitFor(t, 10*time.Second, "the erased member's name dropped", func() bool { return name(erased) == "" })
	if got := name(kept); got != "Named "+kept.UserID[:8] {
		t.Errorf("the kept member is named %q", got)
	}
}
