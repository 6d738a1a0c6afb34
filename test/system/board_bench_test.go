package systemtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// TestTheBoardOf1000PeopleOnlineFollowsTheirAgentsPosts measures the team
// board against the real services: 1,000 members each with a running
// session, the admin's board in headless Chromium, and the agents' posts
// going through ingest, Kafka and realtime to the page. It fails when a
// post is refused or its update never reaches the board, and prints the
// figures docs/benchmarks.md quotes. Seeding 1,000 members costs 1,000
// password hashes, so it runs only when WORKPULSE_BOARD_BENCH is set
// (BOARD_PEOPLE, BOARD_RATE and BOARD_SECONDS change the load).
func TestTheBoardOf1000PeopleOnlineFollowsTheirAgentsPosts(t *testing.T) {
	if os.Getenv("WORKPULSE_BOARD_BENCH") == "" {
		t.Skip("a benchmark: set WORKPULSE_BOARD_BENCH=1 to run it")
	}
	people := 1000
	if n, err := strconv.Atoi(os.Getenv("BOARD_PEOPLE")); err == nil && n > 0 {
		people = n
	}
	root := browserReady(t)
	// Tokens that outlive the seeding, and registrations by the thousand
	// from one address.
	p := StartPlatform(t, "JWT_EXPIRATION=2h", "REGISTER_MAX_PER_IP=100000")
	c := p.Client(t)
	suffix := fmt.Sprintf("%d", clock.Real.Now().UnixNano())
	admin := c.Register("ada-"+suffix+"@example.com", "Ada Admin", "Board Org "+suffix)

	type online struct {
		ID      string `json:"id"`
		Token   string `json:"token"`
		Session string `json:"session"`
	}
	members := make([]online, people)
	start := clock.Real.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	watch := clock.Start()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
	)
	next := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := seedOnline(c, admin, suffix, i, start, func(id, token, session string) { members[i] = online{id, token, session} }); err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < people; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("seeding: %d failed, the first: %s", len(errs), errs[0])
	}
	t.Logf("seeded %d members online in %s", people, watch.Elapsed().Round(time.Second))
	raw, _ := json.Marshal(members)
	file := filepath.Join(t.TempDir(), "members.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"ADMIN_EMAIL=" + admin.Email, "MEMBERS_FILE=" + file, "REALTIME_METRICS=" + p.ServiceURL("realtime") + "/metrics"}
	for _, k := range []string{"BOARD_RATE", "BOARD_SECONDS"} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k[len("BOARD_"):]+"="+v)
		}
	}
	runBrowserScript(t, root, p, "e2e/bench-board-live.mjs", env...)
}

// seedOnline invites member i, who signs up and starts a session at start,
// and hands over their id, token and session.
func seedOnline(c *Client, admin Member, suffix string, i int, start string, put func(id, token, session string)) error {
	email := fmt.Sprintf("p%04d-%s@example.com", i, suffix)
	r, err := c.Do("POST", "/users/invitations", admin.Token, map[string]any{"email": email, "role": "employee"})
	var inv struct{ Token string }
	if err != nil || r.Status != 201 || json.Unmarshal(r.Raw, &inv) != nil {
		return fmt.Errorf("inviting %s: %v %d %s", email, err, r.Status, r.Raw)
	}
	r, err = c.Do("POST", "/auth/register", "", map[string]any{"email": email, "password": "correct horse battery",
		"name": fmt.Sprintf("Person %04d", i), "invitation_token": inv.Token})
	var b authBody
	if err != nil || r.Status != 201 || json.Unmarshal(r.Raw, &b) != nil {
		return fmt.Errorf("registering %s: %v %d %s", email, err, r.Status, r.Raw)
	}
	r, err = c.Do("POST", "/sessions/start", b.AccessToken, map[string]any{"start_time": start})
	var s Session
	if err != nil || r.Status != 201 || json.Unmarshal(r.Raw, &s) != nil {
		return fmt.Errorf("starting %s's session: %v %d %s", email, err, r.Status, r.Raw)
	}
	put(b.User.ID, b.AccessToken, s.ID)
	return nil
}
