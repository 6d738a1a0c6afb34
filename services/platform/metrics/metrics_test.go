package metrics

import (
	"testing"

	"github.com/workpulse/workpulse/services/platform/buildinfo"
)

func TestAServicesRegistryExportsItsBuildInfoAsOneSeriesOfValueOne(t *testing.T) {
	families, err := NewRegistry("report").Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"version": buildinfo.Version(), "revision": buildinfo.Revision(), "service": "report"}
	for _, f := range families {
		if f.GetName() != "workpulse_build_info" {
			continue
		}
		if len(f.GetMetric()) != 1 {
			t.Fatalf("want one build info series, got %d", len(f.GetMetric()))
		}
		m := f.GetMetric()[0]
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if len(got) != len(want) || got["version"] != want["version"] || got["revision"] != want["revision"] || got["service"] != want["service"] {
			t.Fatalf("labels %v, want %v", got, want)
		}
		if v := m.GetGauge().GetValue(); v != 1 {
			t.Fatalf("value %v, want 1", v)
		}
		return
	}
	t.Fatal("no workpulse_build_info in the registry")
}
