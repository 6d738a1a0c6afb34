package testkit

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// PgBouncer is a PgBouncer in transaction mode in front of the tests'
// PostgreSQL, started for one test.
type PgBouncer struct {
	addr string
}

// StartPgBouncer starts Debian's pgbouncer (installing it through
// DebianBinary when it is missing) on a free port, in transaction
// mode with serverConns server connections per database and user, so
// that many client connections take turns on few server connections, as
// in a cluster behind a pooler. users are the roles that may log in.
func StartPgBouncer(t testing.TB, serverConns int, users ...string) *PgBouncer {
	t.Helper()
	bin := DebianBinary(t, "/usr/sbin/pgbouncer")
	upstream, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	// Not t.TempDir: its parent is private to this user, and PgBouncer
	// runs as another one when the tests run as root.
	dir, err := os.MkdirTemp("", "wp-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var userlist strings.Builder
	for _, u := range users {
		// The local server trusts its clients; the pooler passes the
		// user on, so row-level security sees the service's own role.
		fmt.Fprintf(&userlist, "%q \"\"\n", u)
	}
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = %d
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
`, upstream.Hostname(), portOr(upstream.Port(), "5432"), port, filepath.Join(dir, "userlist.txt"), serverConns)
	for name, body := range map[string]string{"userlist.txt": userlist.String(), "pgbouncer.ini": ini} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		// PgBouncer refuses to run as root; it drops to an unprivileged
		// user, who must be able to read its files.
		u := unprivilegedUser(t)
		args = append([]string{"-u", u.Username}, args...)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{dir, filepath.Join(dir, "userlist.txt"), filepath.Join(dir, "pgbouncer.ini")} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	logs, exited := startUntilCleanup(t, exec.Command(bin, args...), "pgbouncer")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	watch := clock.Start()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return &PgBouncer{addr: addr}
		}
		select {
		case <-exited:
			t.Fatalf("pgbouncer exited at start:\n%s", logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if watch.Elapsed() > 15*time.Second {
			t.Fatalf("pgbouncer is not listening on %s after 15 s", addr)
		}
	}
}

// URL is dbURL through the pooler. PgBouncer 1.18 keeps no prepared
// statements across the transactions of a client, so the client sends
// each statement unnamed (default_query_exec_mode=exec), as a service
// behind a transaction pooler is configured to.
func (b *PgBouncer) URL(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		panic(err)
	}
	u.Host = b.addr
	q := u.Query()
	q.Set("default_query_exec_mode", "exec")
	u.RawQuery = q.Encode()
	return u.String()
}

func unprivilegedUser(t testing.TB) *user.User {
	t.Helper()
	for _, name := range []string{"postgres", "nobody"} {
		if u, err := user.Lookup(name); err == nil {
			return u
		}
	}
	t.Fatal("pgbouncer cannot run as root and neither the postgres nor the nobody user exists")
	return nil
}

// FreePort is a TCP port on the loopback interface that nothing listens on.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func portOr(port, def string) string {
	if port == "" {
		return def
	}
	return port
}
