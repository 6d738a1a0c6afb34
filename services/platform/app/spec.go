package app

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
)

// Spec is a deployable service as its cmd states it; its Run is the
// service's RunFunc, so that every service reads its settings, fails at
// start-up on any of them and runs through Run the same way.
type Spec[C any] struct {
	// Name is the service's name, in logs, metrics and its database role.
	Name string
	// Addr is the service's default HTTP_ADDR.
	Addr  string
	Needs Needs
	// Config, when set, reads the service's own settings after the common
	// ones, which it may adjust; a problem with either fails the start with
	// the others.
	Config func(env *config.Env, common *config.Common) C
	// Build builds the service from its connected dependencies and its
	// settings.
	Build func(ctx context.Context, d *Deps, cfg C) (*Service, error)
}

// Run runs the service as a RunFunc does.
func (s Spec[C]) Run(ctx context.Context, lookup func(string) (string, bool), out io.Writer, listening func(net.Addr), clk clock.Clock) error {
	env := config.NewEnv(lookup)
	common := config.LoadCommon(env, s.Name, s.Addr)
	var cfg C
	if s.Config != nil {
		cfg = s.Config(env, &common)
	}
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return Run(ctx, Options{Clock: clk, Config: common, Needs: s.Needs, Log: out, Listening: listening,
		Build: func(ctx context.Context, d *Deps) (*Service, error) { return s.Build(ctx, d, cfg) }})
}
