package systemtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/test/testkit"
)

// Postgres is a throwaway server the test can stop and start.
type Postgres struct {
	bin, dir string
	Port     int
	runAs    []string
}

func pgBinDir() string {
	for _, pattern := range []string{"/usr/lib/postgresql/*/bin", "/usr/local/bin", "/usr/bin"} {
		matches, _ := filepath.Glob(pattern)
		for i := len(matches) - 1; i >= 0; i-- {
			if _, err := os.Stat(filepath.Join(matches[i], "pg_ctl")); err == nil {
				return matches[i]
			}
		}
	}
	return ""
}

func startPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		t.Fatal("initdb/pg_ctl are not installed")
	}
	dir, err := os.MkdirTemp("", "wp-systest-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p := &Postgres{bin: bin, dir: dir, Port: testkit.FreePort(t)}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal("running as root needs a postgres user for initdb")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.runAs = []string{"runuser", "-u", "postgres", "--"}
	}
	t.Cleanup(func() { p.run("stop", "-m", "immediate"); os.RemoveAll(dir) })
	if out, err := p.cmd(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *Postgres) cmd(name string, args ...string) *exec.Cmd {
	all := append(append([]string{}, p.runAs...), append([]string{name}, args...)...)
	return exec.Command(all[0], all[1:]...)
}

func (p *Postgres) run(args ...string) error {
	base := []string{"-D", filepath.Join(p.dir, "data"), "-w"}
	out, err := p.cmd(filepath.Join(p.bin, "pg_ctl"), append(base, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %v: %v: %s", args, err, out)
	}
	return nil
}

// Start starts (or restarts after Stop) the server on the same port.
func (p *Postgres) Start() error {
	return p.run("-l", filepath.Join(p.dir, "log"), "-o",
		// fsync is off for speed: a killed server (not a crashed machine)
		// loses nothing by it. synchronous_commit stays on, as in
		// production: off, an immediate stop forgets acknowledged commits.
		fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c max_connections=300 -c fsync=off", p.Port, p.dir), "start")
}

// Stop shuts the server down immediately, as a crash would.
func (p *Postgres) Stop() error { return p.run("stop", "-m", "immediate") }

// AdminURL connects to the maintenance database.
func (p *Postgres) AdminURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
}

// URL connects as the owner to the platform's database.
func (p *Postgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/workpulse?sslmode=disable", p.Port)
}

// Conn opens an owner connection to the platform's database.
func (p *Postgres) Conn(t testing.TB) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), p.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// Redis is a throwaway redis-server.
type Redis struct {
	Port int
	dir  string
	cmd  *exec.Cmd
}

func startRedis(t testing.TB) *Redis {
	t.Helper()
	r := &Redis{Port: testkit.FreePort(t), dir: t.TempDir()}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// Start runs redis-server on the port.
func (r *Redis) Start() error {
	r.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(r.Port), "--save", "", "--appendonly", "no", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		return err
	}
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.Port)); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("redis-server did not start")
}

// Stop kills the server.
func (r *Redis) Stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// URL of the server.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port) }

func startKafka(t testing.TB) *testkit.GatedKafka {
	return testkit.StartGatedKafka(t, fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)))
}

// queryInt runs a query of one integer, such as a count, on db.
func queryInt(t testing.TB, db *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
