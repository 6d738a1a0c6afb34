// Command wallclock is the go vet tool of make lint that reports reads of
// the wall clock outside package clock:
//
//	go build -o bin/wallclock ./hack/wallclock
//	go vet -vettool=bin/wallclock ./services/...
package main

import (
	"golang.org/x/tools/go/analysis/unitchecker"

	"github.com/workpulse/workpulse/hack/wallclock/analyzer"
)

func main() { unitchecker.Main(analyzer.Analyzer) }
