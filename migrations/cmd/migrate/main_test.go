package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/test/testkit"
)

func TestUpEndsByMakingTheSharedTreesMonths(t *testing.T) {
	db := testkit.NewDB(t)
	env := map[string]string{"DATABASE_URL": db.URL, "STORAGE_PREMAKE_MONTHS": "2", "ACTIVITY_WINDOW_DAYS": "10"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var out bytes.Buffer
	clk := testkit.NewClock(time.Date(2034, 2, 5, 8, 0, 0, 0, time.UTC))
	if err := run(context.Background(), []string{"up"}, lookup, &out, &out, clk); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "created [2034-01 2034-02 2034-03 2034-04]") {
		t.Errorf("migrate up said %q: want January to April 2034 created", out.String())
	}
	var n int
	if err := db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE 'activity_logs_shared_2034_%'").Scan(&n); err != nil || n != 4 {
		t.Errorf("%d months of 2034 exist (%v), want 4", n, err)
	}
}

func TestAnInvalidPolicyStopsMigrateBeforeItConnects(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://nowhere.invalid/x", "STORAGE_PREMAKE_MONTHS": "0"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	err := run(context.Background(), []string{"up"}, lookup, &bytes.Buffer{}, &bytes.Buffer{}, testkit.NewClock(time.Date(2034, 2, 5, 8, 0, 0, 0, time.UTC)))
	if err == nil || !strings.Contains(err.Error(), "STORAGE_PREMAKE_MONTHS") {
		t.Errorf("run = %v, want the setting named", err)
	}
}

func TestImportOriginalRefusesBadArgumentsBeforeItConnects(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"Without --from it names the flag.", []string{"import-original"}, "--from"},
		{"An unknown flag is named.", []string{"import-original", "--from", "postgres://nowhere.invalid/x", "--fast"}, "fast"},
		{"A batch size of zero is refused.", []string{"import-original", "--from", "postgres://nowhere.invalid/x", "--batch-size", "0"}, "--batch-size"},
		{"A stray argument is refused.", []string{"import-original", "--from", "postgres://nowhere.invalid/x", "now"}, "nothing else"},
	}
	env := map[string]string{"DATABASE_URL": "postgres://nowhere.invalid/y"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := run(context.Background(), c.args, lookup, &bytes.Buffer{}, &bytes.Buffer{}, testkit.NewClock(time.Date(2034, 2, 5, 8, 0, 0, 0, time.UTC)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("run = %v, want an error naming %q", err, c.want)
			}
		})
	}
}

// TestUpWaitsForAServerThatAcceptsItsConnectionOnlyAMomentLater starts
// migrate against an address nothing listens on yet, as a pod's first
// connections are refused until a NetworkPolicy enforcer admits it: the
// address starts forwarding to PostgreSQL a second later, and migrate up
// succeeds rather than fail at the first refusal.
func TestUpWaitsForAServerThatAcceptsItsConnectionOnlyAMomentLater(t *testing.T) {
	db := testkit.NewDB(t)
	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	server := u.Host
	u.Host = "127.0.0.1:" + strconv.Itoa(testkit.FreePort(t))
	late := time.AfterFunc(time.Second, func() { forward(t, u.Host, server) })
	defer late.Stop()
	env := map[string]string{"DATABASE_URL": u.String()}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var out bytes.Buffer
	clk := testkit.NewClock(time.Date(2034, 2, 5, 8, 0, 0, 0, time.UTC))
	if err := run(context.Background(), []string{"up"}, lookup, &out, &out, clk); err != nil {
		t.Fatalf("migrate up against a server reachable a second later: %v (%s)", err, out.String())
	}
}

// forward accepts connections on addr from now until the test ends and
// copies each both ways to target.
func forward(t *testing.T, addr, target string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Error(err)
		return
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
}
