package systemtest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
)

// Platform is the whole platform run by devstack, as make dev runs it,
// on dependencies the test owns.
type Platform struct {
	PG     *Postgres
	Redis  *Redis
	Kafka  *testkit.GatedKafka
	URL    string // the front door's /api base
	state  string
	offset int
	cmd    *exec.Cmd
	exited chan struct{} // closed when devstack ends
	logs   *logBuffer
}

func repoRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOWORK").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("the system tests run inside the workspace: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// StartPlatform builds and starts everything; extra env goes to every
// service (thresholds, for example).
func StartPlatform(t *testing.T, extraEnv ...string) *Platform {
	t.Helper()
	return startPlatform(t, nil, extraEnv)
}

// startPlatform is StartPlatform with devEnv overriding devstack's own
// environment.
func startPlatform(t *testing.T, devEnv, extraEnv []string) *Platform {
	t.Helper()
	root := repoRoot(t)
	p := &Platform{PG: startPostgres(t), Redis: startRedis(t), Kafka: startKafka(t), state: t.TempDir(), logs: &logBuffer{}}
	bin := t.TempDir()
	// The services are compiled here too, before the health wait starts: on a
	// loaded machine compiling them took longer than the wait, while devstack's
	// own build of them afterwards finds every package compiled.
	cmds, _ := filepath.Glob(filepath.Join(root, "services", "*", "cmd", "*"))
	args := []string{"build", "-o", bin + "/", "./hack/devstack"}
	for _, c := range cmds {
		rel, _ := filepath.Rel(root, c)
		args = append(args, "./"+rel)
	}
	build := exec.Command("go", args...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building devstack and the services: %v\n%s", err, out)
	}
	// Ports far from make dev's, so both can run, and below the kernel's
	// ephemeral range, so a restarted service never finds its port taken
	// by some outgoing connection.
	p.offset = freePortOffset(t)
	frontDoor := testkit.FreePort(t)
	var flags []string
	for _, e := range extraEnv {
		flags = append(flags, "-env", e)
	}
	p.cmd = exec.Command(filepath.Join(bin, "devstack"), flags...)
	p.cmd.Dir = root
	p.cmd.Env = append(os.Environ(),
		"WORKPULSE_PG_ADMIN_URL="+p.PG.AdminURL(), "WORKPULSE_REDIS_URL="+p.Redis.URL(),
		"DEV_KAFKA_ADDR="+p.Kafka.Addr, "DEV_KAFKA_EXTERNAL=true", "DEV_PORT_OFFSET="+strconv.Itoa(p.offset),
		"DEV_LISTEN=127.0.0.1:"+strconv.Itoa(frontDoor), "DEV_STATE_DIR="+p.state, "DEV_BIN_DIR="+bin, "LOG_LEVEL=warn")
	p.cmd.Env = append(p.cmd.Env, devEnv...) // the last of a name wins
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.exited = make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.checkNoReconciliationDifferences(t)
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(40 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		}
		if t.Failed() {
			path := filepath.Join(os.TempDir(), "workpulse-"+strings.ReplaceAll(t.Name(), "/", "_")+".log")
			_ = os.WriteFile(path, []byte(p.logs.tail(5000)), 0o644)
			t.Logf("platform log (last lines; all of it in %s):\n%s", path, p.logs.tail(40))
		}
	})
	p.URL = fmt.Sprintf("http://127.0.0.1:%d/api", frontDoor)
	p.WaitHealthy(t, 3*time.Minute)
	return p
}

// freePortOffset picks an offset at which every service's port is free
// now: a port another process listens on (a local cluster's, another
// suite's) keeps that service from starting for the whole test.
func freePortOffset(t *testing.T) int {
	t.Helper()
	for range 50 {
		offset := 7000 + testkit.FreePort(t)%20000
		if servicePortsFree(offset) {
			return offset
		}
	}
	t.Fatal("no port offset has every service's port free")
	return 0
}

func servicePortsFree(offset int) bool {
	for _, s := range routes.Services {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.Port+offset))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// WaitHealthy waits until /api/health answers 200.
func (p *Platform) WaitHealthy(t testing.TB, timeout time.Duration) {
	t.Helper()
	var last string
	for watch := clock.Start(); watch.Elapsed() < timeout; {
		select {
		case <-p.exited:
			t.Fatalf("the platform exited:\n%s", p.logs.tail(40))
		default:
		}
		resp, err := http.Get(p.URL + "/health")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
			last = string(b)
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the platform is not healthy after %s: %s\n%s", timeout, last, p.logs.tail(80))
}

// checkNoReconciliationDifferences fails a test after which the nightly
// reconciliation counted any stored summary different from its activity:
// the live corrections must leave it nothing to find, in every test. A
// report service the test itself stopped cannot be asked, and is skipped.
func (p *Platform) checkNoReconciliationDifferences(t *testing.T) {
	const metric = "workpulse_summary_reconciliation_differences_total"
	resp, err := http.Get(p.ServiceURL("report") + "/metrics")
	if err != nil {
		t.Logf("%s not read: %v", metric, err)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Logf("%s not read: status %d, %v", metric, resp.StatusCode, err)
		return
	}
	for _, line := range strings.Split(string(body), "\n") {
		if value, ok := strings.CutPrefix(line, metric+" "); ok {
			if value != "0" {
				t.Errorf("the nightly reconciliation found %s stored summaries different from their activity", value)
			}
			return
		}
	}
	t.Errorf("report's /metrics has no %s", metric)
}

// ServiceURL is a service's own base URL (for /metrics and /readyz).
func (p *Platform) ServiceURL(name string) string {
	for _, s := range routes.Services {
		if s.Name == name {
			return fmt.Sprintf("http://127.0.0.1:%d", s.Port+p.offset)
		}
	}
	return ""
}

// Kill9 kills a service the way a crash does; devstack restarts it.
func (p *Platform) Kill9(t testing.TB, name string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(p.state, name+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %s (%d): %v", name, pid, err)
	}
}

// logBuffer keeps the platform's output for failure reports.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
	part  string
}

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sc := bufio.NewScanner(strings.NewReader(l.part + string(b)))
	l.part = ""
	for sc.Scan() {
		l.lines = append(l.lines, sc.Text())
	}
	if len(b) > 0 && b[len(b)-1] != '\n' && len(l.lines) > 0 {
		l.part = l.lines[len(l.lines)-1]
		l.lines = l.lines[:len(l.lines)-1]
	}
	if len(l.lines) > 5000 {
		l.lines = l.lines[len(l.lines)-5000:]
	}
	return len(b), nil
}

func (l *logBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	from := max(0, len(l.lines)-n)
	return strings.Join(l.lines[from:], "\n")
}
