package httpx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// ServerConfig holds the timeouts of a service's HTTP server.
type ServerConfig struct {
	Addr              string
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	// WriteTimeout of 0 leaves writes unbounded (long-lived WebSockets).
	WriteTimeout    time.Duration
	IdleTimeout     time.Duration
	ShutdownTimeout time.Duration
}

// Serve listens on cfg.Addr and serves h until ctx is done, then drains
// in-flight requests for at most cfg.ShutdownTimeout. ready, if not nil,
// receives the bound address once listening.
func Serve(ctx context.Context, cfg ServerConfig, h http.Handler, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	return ServeListener(ctx, cfg, ln, h, ready)
}

// ServeListener is Serve on an existing listener.
func ServeListener(ctx context.Context, cfg ServerConfig, ln net.Listener, h http.Handler, ready func(net.Addr)) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: orDefault(cfg.ReadHeaderTimeout, 5*time.Second),
		ReadTimeout:       orDefault(cfg.ReadTimeout, 30*time.Second),
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       orDefault(cfg.IdleTimeout, 120*time.Second),
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), orDefault(cfg.ShutdownTimeout, 20*time.Second))
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
