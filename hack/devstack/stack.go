package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/migrations"
	"github.com/workpulse/workpulse/migrations/roles"
	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/health"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/kafkax"
)

// Config of the local stack.
type Config struct {
	Listen   string
	AdminURL string // a maintenance database of the local PostgreSQL
	Database string
	RedisURL string
	// RedisAddr is where the in-process Redis listens when RedisURL is
	// inProcessRedis.
	RedisAddr string
	KafkaAddr string
	// KafkaExternal uses a broker already listening on KafkaAddr.
	KafkaExternal bool
	// PortOffset shifts every service's port, so a second stack can run
	// beside make dev (the system tests do).
	PortOffset int
	// StateDir receives <service>.pid files, for tests that kill services.
	StateDir string
	RepoRoot string
	BinDir   string
	LogLevel string
	// Only limits the services started (all by default).
	Only []string
	// Extra environment for every service (KEY=VALUE).
	Env []string
	// Storage is the shared activity tree's maintenance policy; the
	// services read the same ACTIVITY_WINDOW_DAYS.
	Storage storage.Policy
	// Schedules of the report service's scheduled commands.
	Schedules Schedules
	// CORSOrigins and APIEnvelope are the front door's CORS policy and the
	// envelope of its /api/health: the services' CORS_ALLOWED_ORIGINS and
	// API_ENVELOPE, from the environment they inherit or an -env.
	CORSOrigins []string
	APIEnvelope string
}

func loadConfig(args []string, lookup func(string) (string, bool)) (Config, error) {
	env := config.NewEnv(lookup)
	root, _ := os.Getwd()
	c := Config{
		Listen:    env.String("DEV_LISTEN", "127.0.0.1:3000"),
		AdminURL:  env.String("WORKPULSE_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		Database:  env.String("DEV_DATABASE", "workpulse"),
		RedisURL:  env.String("WORKPULSE_REDIS_URL", "redis://127.0.0.1:6379/0"),
		RedisAddr: env.String("DEV_REDIS_ADDR", "127.0.0.1:6379"),
		KafkaAddr: env.String("DEV_KAFKA_ADDR", "127.0.0.1:9092"),
		RepoRoot:  env.String("DEV_REPO_ROOT", root),
		LogLevel:  env.String("LOG_LEVEL", "info"),

		KafkaExternal: env.Bool("DEV_KAFKA_EXTERNAL", false),
		PortOffset:    env.Int("DEV_PORT_OFFSET", 0, -3000, 60000),
		StateDir:      env.String("DEV_STATE_DIR", ""),
		Storage:       storage.LoadPolicy(env),
		Schedules:     loadSchedules(env),
	}
	c.BinDir = env.String("DEV_BIN_DIR", filepath.Join(c.RepoRoot, "bin"))
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	only := fs.String("only", "", "comma-separated services to start (default: every service that exists)")
	fs.Func("env", "extra KEY=VALUE for every service (repeatable)", func(s string) error { c.Env = append(c.Env, s); return nil })
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if *only != "" {
		c.Only = strings.Split(*only, ",")
	}
	services := config.NewEnv(func(k string) (string, bool) {
		for i := len(c.Env) - 1; i >= 0; i-- {
			if name, v, ok := strings.Cut(c.Env[i], "="); ok && name == k {
				return v, true
			}
		}
		return lookup(k)
	})
	c.CORSOrigins = services.Origins("CORS_ALLOWED_ORIGINS", []string{"*"})
	c.APIEnvelope = services.OneOf("API_ENVELOPE", httpx.EnvelopeNone, httpx.EnvelopeNone, httpx.EnvelopeLegacy)
	return c, errors.Join(env.Err(), services.Err())
}

// Stack is the running platform.
type Stack struct {
	cfg Config
	out io.Writer
	mu  sync.Mutex
	// roles are the services' login roles, as the chart's migrations Job
	// makes them: each service logs in as its own with its own password.
	roles roles.Set
}

// Run brings everything up and tears it down when ctx ends.
func (s *Stack) Run(ctx context.Context) error {
	dbURL, err := s.prepareDatabase(ctx)
	if err != nil {
		return err
	}
	vacuumCtx, stopVacuum := context.WithCancel(ctx)
	defer stopVacuum()
	go s.standInForAutovacuum(vacuumCtx, dbURL)
	reg := prometheus.NewRegistry()
	storageCtx, stopStorage := context.WithCancel(ctx)
	storageDone, err := s.storageMaintenance(storageCtx, dbURL, clock.Real, reg)
	if err != nil {
		stopStorage()
		return fmt.Errorf("storage maintenance: %w", err)
	}
	defer func() { stopStorage(); storageDone() }()
	if s.cfg.RedisURL == inProcessRedis {
		m, err := startRedis(ctx, s.cfg.RedisAddr)
		if err != nil {
			return fmt.Errorf("in-process Redis on %s: %w", s.cfg.RedisAddr, err)
		}
		defer m.Close()
		s.cfg.RedisURL = "redis://" + m.Addr() + "/0"
		s.logf("devstack", "no Redis on this machine: serving one in-process on %s (presence and login throttling live only as long as make dev)", m.Addr())
	}
	if !s.cfg.KafkaExternal {
		stopKafka, err := s.startKafka(ctx, s.cfg.KafkaAddr)
		if err != nil {
			return fmt.Errorf("kafka broker on %s: %w", s.cfg.KafkaAddr, err)
		}
		defer stopKafka()
		s.logf("devstack", "kafka broker (in-process) on %s", s.cfg.KafkaAddr)
	}

	services := s.services()
	if err := s.build(ctx, services); err != nil {
		return err
	}
	backends := map[string]string{}
	authPort := 3001 + s.cfg.PortOffset
	common := []string{
		"DATABASE_URL=" + withoutUser(dbURL), "REDIS_URL=" + s.cfg.RedisURL, "KAFKA_BROKERS=" + s.cfg.KafkaAddr,
		"JWKS_URL=http://127.0.0.1:" + strconv.Itoa(authPort) + "/api/auth/.well-known/jwks.json", "LOG_LEVEL=" + s.cfg.LogLevel,
		"REDIS_PREFIX=wpdev",
		// The front door dials each service directly; there is no
		// load balancer to drain from, so Ctrl-C stops at once.
		"DRAIN_DELAY=0s",
		// Browsers open make dev at localhost; single sign-on sends them
		// back to its front door there.
		"PUBLIC_URL=http://localhost:" + listenPort(s.cfg.Listen),
	}
	// Auth asks ingest and report for their parts of a member's export.
	for _, peer := range []struct{ env, name string }{{"INGEST_URL", routes.Ingest}, {"REPORT_URL", routes.Report}} {
		for _, svc := range routes.Services {
			if svc.Name == peer.name {
				common = append(common, peer.env+"=http://127.0.0.1:"+strconv.Itoa(svc.Port+s.cfg.PortOffset))
			}
		}
	}
	procCtx, stopProcs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopProcs()
	var procs sync.WaitGroup
	var reportEnv []string
	for _, svc := range services {
		addr := "127.0.0.1:" + strconv.Itoa(svc.Port+s.cfg.PortOffset)
		backends[svc.Name] = "http://" + addr
		env := append(append(os.Environ(), common...), "HTTP_ADDR="+addr,
			"DATABASE_USER="+s.roles.Name(svc.Name), "DATABASE_PASSWORD="+s.roles.Passwords[svc.Name])
		env = append(env, s.cfg.Env...)
		if svc.Name == routes.Report {
			reportEnv = env
		}
		procs.Add(1)
		go func() { defer procs.Done(); s.supervise(procCtx, svc.Name, env) }()
		if svc.Name == routes.Auth {
			// The others fetch auth's JWKS; let it come up first.
			s.waitReady(ctx, "http://"+addr+"/readyz", 30*time.Second)
		}
	}
	if reportEnv != nil {
		// What the operator's install-wide CronJobs do in a cluster.
		procs.Add(1)
		go func() { defer procs.Done(); s.runSchedules(procCtx, clock.Real, reportEnv)() }()
	}
	rdb := redisClient(s.cfg.RedisURL)
	defer rdb.Close()
	fd, err := NewFrontDoor(backends, map[string]health.Check{
		"postgres": func(ctx context.Context) error { return pingPG(ctx, dbURL) },
		"redis":    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		"kafka":    func(ctx context.Context) error { return kafkax.Ping(ctx, []string{s.cfg.KafkaAddr}, kafkax.Security{}) },
	}, s.cfg.APIEnvelope)
	if err != nil {
		return err
	}
	err = httpx.Serve(ctx, httpx.ServerConfig{Addr: s.cfg.Listen, ShutdownTimeout: 10 * time.Second},
		httpx.Stack(clock.Real, withMetrics(fd, reg), 64<<20, httpx.CORS(s.cfg.CORSOrigins)), func(a net.Addr) {
			s.logf("devstack", "WorkPulse on http://%s/ (the API under /api, health at /api/health); Ctrl-C stops everything", hostPort(a))
		})
	stopProcs()
	procs.Wait()
	s.logf("devstack", "stopped")
	return err
}

func hostPort(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if host == "127.0.0.1" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// services are those of the routing table that exist in this checkout.
func (s *Stack) services() []struct {
	Name string
	Port int
} {
	var out []struct {
		Name string
		Port int
	}
	for _, svc := range routes.Services {
		if len(s.cfg.Only) > 0 && !contains(s.cfg.Only, svc.Name) {
			continue
		}
		if _, err := os.Stat(filepath.Join(s.cfg.RepoRoot, "services", svc.Name, "cmd", svc.Name)); err == nil {
			out = append(out, svc)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// prepareDatabase creates the dev database if needed and migrates it.
func (s *Stack) prepareDatabase(ctx context.Context) (string, error) {
	admin, err := pgx.Connect(ctx, s.cfg.AdminURL)
	if err != nil {
		return "", fmt.Errorf("PostgreSQL at %s: %w (make dev starts one through hack/with-deps.sh)", redact(s.cfg.AdminURL), err)
	}
	defer admin.Close(context.Background())
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", s.cfg.Database).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.cfg.Database}.Sanitize()); err != nil {
			return "", err
		}
	}
	u, _ := url.Parse(s.cfg.AdminURL)
	u.Path = "/" + s.cfg.Database
	s.roles = roles.Set{Prefix: roles.DefaultPrefix, Passwords: map[string]string{}}
	for _, svc := range roles.Services {
		s.roles.Passwords[svc] = rand.Text()
	}
	m, err := migrations.Open(u.String(), s.roles)
	if err != nil {
		return "", err
	}
	defer m.Close()
	applied, err := m.Up(ctx)
	for _, a := range applied {
		s.logf("migrate", "%s", a)
	}
	if err != nil {
		return "", err
	}
	s.logf("devstack", "database %s is migrated", s.cfg.Database)
	return u.String(), nil
}

func (s *Stack) build(ctx context.Context, services []struct {
	Name string
	Port int
}) error {
	pkgs := []string{"build", "-o", s.cfg.BinDir + "/"}
	for _, svc := range services {
		pkgs = append(pkgs, "./services/"+svc.Name+"/cmd/"+svc.Name)
	}
	s.logf("devstack", "building %d services", len(services))
	cmd := exec.CommandContext(ctx, "go", pkgs...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = s.cfg.RepoRoot, s.out, s.out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build services: %w", err)
	}
	return nil
}

// supervise runs a service and restarts it if it exits while the stack
// is up; ctx's end stops it with SIGTERM.
func (s *Stack) supervise(ctx context.Context, name string, env []string) {
	for ctx.Err() == nil {
		cmd := exec.Command(filepath.Join(s.cfg.BinDir, name))
		cmd.Env = env
		w := &prefixWriter{s: s, name: name}
		cmd.Stdout, cmd.Stderr = w, w
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			s.logf("devstack", "%s: start: %v", name, err)
			return
		}
		s.writePID(name, cmd.Process.Pid)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			s.logf("devstack", "%s exited (%v); restarting in 1s", name, err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(25 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			return
		}
	}
}

func (s *Stack) writePID(name string, pid int) {
	if s.cfg.StateDir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(s.cfg.StateDir, name+".pid"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		s.logf("devstack", "writing %s's pid: %v", name, err)
	}
}

func (s *Stack) waitReady(ctx context.Context, url string, timeout time.Duration) {
	for watch := clock.Start(); watch.Elapsed() < timeout && ctx.Err() == nil; {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *Stack) logf(name, format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.out, "%-9s| %s\n", name, fmt.Sprintf(format, a...))
}

// prefixWriter prefixes each line of a service's output with its name.
// A service under load writes many lines (one per request at the default
// level) between two reads of its pipe: they go out prefixed in one write
// rather than one formatted write each, which cost make dev's process
// about as much CPU per request as the service spent logging it.
type prefixWriter struct {
	s        *Stack
	name     string
	buf, out []byte
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	end := bytes.LastIndexByte(w.buf, '\n') + 1
	if end == 0 {
		return len(p), nil
	}
	prefix := fmt.Sprintf("%-9s| ", w.name)
	w.out = w.out[:0]
	for line := range bytes.Lines(w.buf[:end]) {
		w.out = append(append(w.out, prefix...), line...)
	}
	w.s.mu.Lock()
	_, _ = w.s.out.Write(w.out) // as logf: make dev's own output failing is no reason to stop a service
	w.s.mu.Unlock()
	w.buf = w.buf[:copy(w.buf, w.buf[end:])]
	return len(p), nil
}

func redisClient(raw string) *redis.Client {
	opt, err := redis.ParseURL(raw)
	if err != nil {
		opt = &redis.Options{Addr: "127.0.0.1:6379"}
	}
	return redis.NewClient(opt)
}

func pingPG(ctx context.Context, dsn string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	return c.Ping(ctx)
}

// withoutUser is raw without its user and password: the services log in
// as their own roles, never as the owner who migrated.
func withoutUser(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.User = nil
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// listenPort is the port of a listen address such as 127.0.0.1:3000.
func listenPort(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "3000"
	}
	return port
}
