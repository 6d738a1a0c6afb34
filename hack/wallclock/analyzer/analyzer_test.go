package analyzer_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/workpulse/workpulse/hack/wallclock/analyzer"
)

// Each testdata package states what it expects with `// want` comments:
// analysistest fails on a report that is not wanted and on a wanted report
// that is missing, so a package without any is a package with none allowed.
func TestWallClockReads(t *testing.T) {
	tests := []struct {
		name, pkg string
	}{
		{"calls, references, renamed and dot imports are reported, in test files too", "flagged"},
		{"package time without the wall clock and look-alike names are not reported", "allowed"},
		{"package clock itself may read the wall clock", analyzer.ClockPackage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			analysistest.Run(t, analysistest.TestData(), analyzer.Analyzer, tt.pkg)
		})
	}
}
