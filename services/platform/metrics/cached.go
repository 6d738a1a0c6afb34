package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// ScrapeInterval is how often the monitoring scrapes a service (the chart's
// default monitoring.interval): the age at which a Cached reading is
// renewed, so that each scrape sees figures at most that old.
const ScrapeInterval = 30 * time.Second

// Cached is a collector of figures that cost a database query, such as the
// business gauges summed across every tenant: read asks for them at most
// once per ttl (the scrape interval), whoever scrapes and however often, and
// every scrape in between is answered from the last reading. A failed
// reading is not kept: that scrape shows none of the figures, and the next
// one asks again.
func Cached(clk clock.Clock, ttl time.Duration, descs []*prometheus.Desc, read func(ctx context.Context, now time.Time) ([]prometheus.Metric, error)) prometheus.Collector {
	return &cached{clk: clk, ttl: ttl, descs: descs, read: read}
}

type cached struct {
	clk   clock.Clock
	ttl   time.Duration
	descs []*prometheus.Desc
	read  func(ctx context.Context, now time.Time) ([]prometheus.Metric, error)

	mu    sync.Mutex
	valid bool
	at    time.Time
	last  []prometheus.Metric
}

func (c *cached) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *cached) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.current() {
		ch <- m
	}
}

// current holds the lock while reading, so that scrapes arriving together
// cost one query between them.
func (c *cached) current() []prometheus.Metric {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clk.Now()
	if c.valid && now.Sub(c.at) < c.ttl {
		return c.last
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ms, err := c.read(ctx, now)
	if err != nil {
		c.valid, c.last = false, nil
		return nil
	}
	c.valid, c.at, c.last = true, now, ms
	return ms
}
