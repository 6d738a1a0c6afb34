// Command operator runs the WorkPulse operator: it reconciles
// WorkPulseTenant resources into organizations, partitions and CronJobs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	// The jobs' time zones are checked by the operator itself, which may
	// run from an image without a zoneinfo database.
	_ "time/tzdata"

	"github.com/workpulse/workpulse/operator/internal/controller"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/logging"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/platform/process"
)

func main() {
	process.Main("operator", func(ctx context.Context) error { return run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, clock.Real) })
}

func run(ctx context.Context, args []string, lookup func(string) (string, bool), out io.Writer, clk clock.Clock) error {
	env := config.NewEnv(lookup)
	fs := flag.NewFlagSet("operator", flag.ContinueOnError)
	metricsAddr := fs.String("metrics-bind-address", env.String("METRICS_ADDR", ":8080"), "address of /metrics (0 disables)")
	probeAddr := fs.String("health-probe-bind-address", env.String("PROBE_ADDR", ":8081"), "address of /healthz and /readyz")
	leaderElect := fs.Bool("leader-elect", env.Bool("LEADER_ELECT", true), "elect one active replica")
	leaderNamespace := fs.String("leader-election-namespace", env.String("POD_NAMESPACE", ""), "namespace of the leader election Lease")
	// The chart names the Lease after the release: two installations in one
	// namespace each elect their own leader.
	leaderID := fs.String("leader-election-id", env.String("LEADER_ELECTION_ID", "operator.workpulse.io"), "name of the leader election Lease")
	// client-go's default (5 requests a second) would make a large
	// installation's first pass wait on the client, not on the work.
	qps := fs.Float64("kube-api-qps", 50, "requests per second to the API server")
	burst := fs.Int("kube-api-burst", 100, "burst of requests to the API server")
	logLevel := fs.String("log-level", env.String("LOG_LEVEL", "info"), "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := controller.LoadConfig(env)
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	logger := logr.FromSlogHandler(logging.New(out, "operator", *logLevel).Handler())
	ctrl.SetLogger(logger)
	restCfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("kubernetes client configuration: %w", err)
	}
	restCfg.QPS, restCfg.Burst = float32(*qps), *burst

	db, err := pg.Connect(ctx, cfg.DatabaseURL, cfg.DatabaseLogin, cfg.DatabaseMaxConn)
	if err != nil {
		return err
	}
	defer db.Close()

	opts := controller.ManagerOptions(cfg)
	opts.Logger = logger
	opts.Metrics = metricsserver.Options{BindAddress: *metricsAddr}
	opts.HealthProbeBindAddress = *probeAddr
	opts.LeaderElection = *leaderElect
	opts.LeaderElectionID = *leaderID
	opts.LeaderElectionNamespace = *leaderNamespace
	opts.LeaderElectionReleaseOnCancel = true
	mgr, err := ctrl.NewManager(restCfg, opts)
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}

	if err := (&controller.TenantReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Scheme:    mgr.GetScheme(),
		Recorder:  mgr.GetEventRecorder("workpulse-operator"),
		Config:    cfg,
		DB:        db,
		Clock:     clk,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	// The shared activity tree is kept for the whole installation, on its
	// own schedule, whether or not any WorkPulseTenant exists.
	if err := controller.NewSharedStorage(cfg, db, clk).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("shared storage: %w", err)
	}

	// Liveness does not depend on the database: restarting the operator
	// cannot bring PostgreSQL back.
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("database", func(req *http.Request) error {
		if err := db.Ping(req.Context()); err != nil {
			return fmt.Errorf("database: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("informers", func(req *http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(req.Context()) {
			return errors.New("informers not synced")
		}
		return nil
	}); err != nil {
		return err
	}

	logger.Info("starting", "jobsNamespace", cfg.JobsNamespace, "authURL", cfg.AuthURL, "leaderElection", *leaderElect)
	return mgr.Start(ctx)
}
