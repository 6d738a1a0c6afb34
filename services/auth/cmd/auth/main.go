// Command auth runs the WorkPulse auth service.
package main

import (
	"context"
	"io"
	"net"
	"runtime/debug"
	"time"

	"github.com/workpulse/workpulse/services/auth/internal/auth"
	"github.com/workpulse/workpulse/services/platform/app"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
)

func main() { app.Main("auth", clock.Real, run) }

func run(ctx context.Context, lookup func(string) (string, bool), out io.Writer, listening func(net.Addr), clk clock.Clock) error {
	if _, set := lookup("GOGC"); !set {
		// Auth's heap is mostly argon2 blocks that die with their hash; the
		// default GOGC of 100 lets twice the live heap pile up before a
		// collection, which under a flood of logins is the memory limit.
		// Collecting at a quarter's growth keeps the peak near the live
		// heap and costs little: the blocks hold no pointers to mark.
		debug.SetGCPercent(25)
	}
	if _, set := lookup("GOMEMLIMIT"); !set {
		// The chart sets GOMEMLIMIT from the container's limit; outside a
		// container (make dev, a plain binary) nothing does, and without a
		// limit a flood of logins took auth to 111-169 MiB: the collector
		// let the dead argon2 blocks and the connections' buffers pile up.
		// With this soft limit it collects before that, and the hashing
		// budget (a quarter of the limit) is one hash at a time.
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	return service.Run(ctx, lookup, out, listening, clk)
}

// defaultMemoryLimit is auth's Go memory limit when GOMEMLIMIT is not set:
// with the binary's own pages (about 24 MiB) it keeps auth's resident memory
// under 100 MB through a flood of logins.
const defaultMemoryLimit = 56 << 20

// service is auth as it is deployed.
var service = app.Spec[auth.Config]{
	Name: "auth", Addr: ":3001",
	Needs:  app.Needs{Postgres: true, Redis: true, Kafka: true},
	Config: func(env *config.Env, common *config.Common) auth.Config { return auth.LoadConfig(env, *common) },
	Build: func(ctx context.Context, d *app.Deps, cfg auth.Config) (*app.Service, error) {
		keys := auth.NewKeyStore(d.DB, cfg.KeyRotation, cfg.TokenTTL, cfg.KeyCipher, d.Clock).KeepPublished(cfg.DeviceTokenTTL)
		if _, err := keys.Reseal(ctx); err != nil {
			return nil, err
		}
		if err := keys.Refresh(ctx); err != nil {
			return nil, err
		}
		workers := []func(context.Context) error{
			func(ctx context.Context) error { return keys.Run(ctx, time.Minute) },
			func(ctx context.Context) error {
				return auth.NewRevocationSweeper(d.DB, d.Logger, d.Clock).Run(ctx, auth.RevocationSweepInterval)
			},
		}
		if cfg.Mail.Enabled() {
			workers = append(workers, auth.NewMailer(d.DB, cfg.Mail, cfg.KeyCipher, d.Registry, d.Logger, d.Clock).Run)
		} else {
			d.Logger.Info("no SMTP_HOST: no mail is sent; password resets by email are unavailable")
		}
		return &app.Service{
			API:          auth.NewServer(auth.Deps{Config: cfg, DB: d.DB, Redis: d.Redis, RedisPrefix: d.Config.RedisPrefix, Keys: keys, Revocations: d.Revocations, Metrics: d.HTTP, Clock: d.Clock}),
			OutboxTables: []string{auth.OutboxTable},
			Workers:      workers,
		}, nil
	},
}
