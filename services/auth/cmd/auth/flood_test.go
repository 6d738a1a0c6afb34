package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
)

// childEnv makes the test binary serve as the auth process (see
// TestMain), so that the flood test measures auth's own memory.
const childEnv = "WORKPULSE_AUTH_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "" {
		os.Exit(m.Run())
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _, _ = bufio.NewReader(os.Stdin).ReadByte(); stop() }() // the parent closes stdin to stop it
	listening := func(a net.Addr) { fmt.Println("listening", a.String()) }
	if err := run(ctx, os.LookupEnv, os.Stderr, listening, clock.Real); err != nil {
		fmt.Fprintln(os.Stderr, "auth:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// authLimit is auth's container memory limit in the chart; GOMEMLIMIT is
// set from it, as the chart does.
const authLimit = 256 << 20

// TestAThousandConcurrentLoginsAndRegistrationsKeepAuthUnderItsMemoryLimit
// floods an auth process with 1,000 logins and registrations at once, each
// from its own address (a botnet, so that no per-address cap helps): its
// peak RSS stays under the limit and every answer is 200, 201, 401, 429 or
// 503. Unbounded, 100 concurrent logins took auth past 900 MiB.
func TestAThousandConcurrentLoginsAndRegistrationsKeepAuthUnderItsMemoryLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood of 1,000 requests")
	}
	cases := []struct {
		name string
		// memLimit is GOMEMLIMIT (0: not set); peak is what auth's RSS
		// must stay under.
		memLimit, peak int64
		under          string
	}{
		{"With GOMEMLIMIT from the chart's container limit, auth stays under that limit.", authLimit, authLimit, "its container limit: the container would be OOM-killed"},
		{"Without GOMEMLIMIT, as make dev runs it, auth stays under 100 MB.", 0, 100e6, "the 100 MB every service is held to"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			flood(t, c.memLimit, c.peak, c.under)
		})
	}
}

func flood(t *testing.T, memLimit, limit int64, under string) {
	db := testkit.NewDB(t)
	brokers := testkit.Kafka(t)
	_, prefix := testkit.Redis(t)
	env := map[string]string{"DATABASE_URL": db.URL, "KAFKA_BROKERS": brokers[0], "REDIS_URL": testkit.RedisURL(),
		"REDIS_PREFIX": prefix, "HTTP_ADDR": "127.0.0.1:0", "LOG_LEVEL": "error"}
	if memLimit > 0 {
		env["GOMEMLIMIT"] = strconv.FormatInt(memLimit, 10)
	}
	pid, base := startChild(t, env)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1000}, Timeout: 2 * time.Minute}
	post := func(path, body, forwardedFor string) (int, error) {
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if forwardedFor != "" {
			req.Header.Set("X-Forwarded-For", forwardedFor)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := post("/api/auth/register", `{"email":"owner@example.com","password":"correct horse","name":"Owner","organization_name":"Owned"}`, ""); err != nil || code != 201 {
		t.Fatalf("register the account the flood guesses at: %d %v", code, err)
	}
	before := procStatus(t, pid, "VmRSS")

	const n = 1000
	var mu sync.Mutex
	byStatus := map[int]int{}
	var errs []error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		var path, body string
		switch i % 4 {
		case 0: // the known account, a wrong password
			path, body = "/api/auth/login", fmt.Sprintf(`{"email":"owner@example.com","password":"guess %d"}`, i)
		case 1: // unknown emails, hashed against the timing equalizer
			path, body = "/api/auth/login", fmt.Sprintf(`{"email":"nobody%d@example.com","password":"guess"}`, i)
		default:
			path, body = "/api/auth/register", fmt.Sprintf(`{"email":"flood%d@example.com","password":"correct horse","name":"Flood","organization_name":"Flood %d"}`, i, i)
		}
		addr := fmt.Sprintf("203.0.%d.%d", i/250, i%250+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			code, err := post(path, body, addr)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			byStatus[code]++
		}()
	}
	watch := clock.Start()
	close(start)
	wg.Wait()
	took := watch.Elapsed()
	peak := procStatus(t, pid, "VmHWM")
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("1,000 concurrent logins and registrations: RSS %d MiB before, peak %d MiB (at most %d MiB); answers %v; %v; load average %s",
		before>>20, peak>>20, limit>>20, byStatus, took.Round(time.Millisecond), strings.Join(strings.Fields(string(load))[:3], " "))
	if len(errs) > 0 {
		t.Fatalf("%d requests got no answer, the first: %v", len(errs), errs[0])
	}
	for code := range byStatus {
		switch code {
		case 200, 201, 401, 429, 503:
		default:
			t.Errorf("%d requests were answered %d; want only 200, 201, 401, 429 and 503", byStatus[code], code)
		}
	}
	if peak >= limit {
		t.Errorf("auth's peak RSS %d MiB reached %d MiB, %s", peak>>20, limit>>20, under)
	}
	if resp, err := http.Get(base + "/livez"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("auth after the flood: %v %v", resp, err)
	}
}

// startChild runs the test binary as an auth process with env and returns
// its pid and base URL; it stops when the test ends.
func startChild(t *testing.T, env map[string]string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	logs := &testkit.SyncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil || t.Failed() {
			t.Logf("auth exited with %v:\n%s", err, logs.String())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		t.Fatalf("auth did not start (%v):\n%s", err, logs.String())
	}
	return cmd.Process.Pid, "http://" + addr
}

// procStatus reads a memory figure of /proc/<pid>/status in bytes.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kib << 10
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}
