package metrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/services/platform/metrics"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestACachedCollectorReadsOncePerIntervalAndKeepsNoFailedReading(t *testing.T) {
	start := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)
	clk := testkit.NewClock(start)
	desc := prometheus.NewDesc("workpulse_test_figure", "A figure read from a costly source.", nil, nil)
	var reads int
	fail := true
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.Cached(clk, 30*time.Second, []*prometheus.Desc{desc}, func(context.Context, time.Time) ([]prometheus.Metric, error) {
		reads++
		if fail {
			return nil, errors.New("the database is away")
		}
		return []prometheus.Metric{prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(reads))}, nil
	}))
	for _, step := range []struct {
		name      string
		after     time.Duration
		fail      bool
		want      float64
		present   bool
		wantReads int
	}{
		{"A failed reading shows no figure.", 0, true, 0, false, 1},
		{"The next scrape asks again, however soon.", time.Second, false, 2, true, 2},
		{"A scrape within the interval is answered from the last reading.", 30*time.Second - time.Nanosecond, false, 2, true, 2},
		{"The first scrape after the interval reads again.", 31 * time.Second, false, 3, true, 3},
	} {
		t.Run(step.name, func(t *testing.T) {
			clk.Set(start.Add(step.after))
			fail = step.fail
			got, ok := testkit.Gauges(t, reg, "")["workpulse_test_figure"]
			if ok != step.present || got != step.want || reads != step.wantReads {
				t.Fatalf("figure %v (present %v) after %d reads; want %v (present %v) after %d", got, ok, reads, step.want, step.present, step.wantReads)
			}
		})
	}
}
