// Command operator runs the WorkPulse operator: it reconciles
// WorkPulseTenant resources into organizations, partitions and CronJobs.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	// The jobs' time zones are checked by the operator itself, which may
	// run from an image without a zoneinfo database.
	_ "time/tzdata"

	"github.com/workpulse/workpulse/operator/internal/controller"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/logging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, clock.Real); err != nil {
		fmt.Fprintln(os.Stderr, "operator:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, lookup func(string) (string, bool), out io.Writer, clk clock.Clock) error {
	env := config.NewEnv(lookup)
	fs := flag.NewFlagSet("operator", flag.ContinueOnError)
	o := controller.ManagerOptions{Clock: clk}
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", env.String("METRICS_ADDR", ":8080"), "address of /metrics (0 disables)")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", env.String("PROBE_ADDR", ":8081"), "address of /healthz and /readyz")
	fs.BoolVar(&o.LeaderElection, "leader-elect", env.Bool("LEADER_ELECT", true), "elect one active replica")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", env.String("POD_NAMESPACE", ""), "namespace of the leader election Lease")
	fs.StringVar(&o.LeaderElectionID, "leader-election-id", "operator.workpulse.io", "name of the leader election Lease")
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
	mgr, closeDB, err := controller.NewManager(ctx, restCfg, cfg, o, logger)
	if err != nil {
		return err
	}
	defer closeDB()
	logger.Info("starting", "jobsNamespace", cfg.JobsNamespace, "authURL", cfg.AuthURL, "leaderElection", o.LeaderElection)
	return mgr.Start(ctx)
}
