package testkit

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Gauges gathers reg as a scrape would and returns every gauge's value by
// metric name, followed by "/" and the value of label for the samples that
// have it.
func Gauges(t testing.TB, reg prometheus.Gatherer, label string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.GetGauge() == nil {
				continue
			}
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					key += "/" + l.GetValue()
				}
			}
			got[key] = m.GetGauge().GetValue()
		}
	}
	return got
}
