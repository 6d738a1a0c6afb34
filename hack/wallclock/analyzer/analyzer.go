// Package analyzer reports reads of the wall clock (time.Now, time.Since,
// time.Until) outside package clock. Every decision WorkPulse makes by the
// time takes it from an injected clock.Clock, so a test can stand on any
// instant (the last day of a month, a DST change) and its verdict never
// depends on the day it runs. Tests are checked too: a test that reads the
// wall clock is a test that passes on some days only.
package analyzer

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// ClockPackage is the one package allowed to read the wall clock.
const ClockPackage = "github.com/workpulse/workpulse/services/platform/clock"

// Analyzer reports every use of time.Now, time.Since and time.Until, called
// or taken as a value, outside ClockPackage, in test files as well.
var Analyzer = &analysis.Analyzer{
	Name:     "wallclock",
	Doc:      "report reads of the wall clock (time.Now, time.Since, time.Until) outside package clock; use the injected clock.Clock",
	URL:      "https://pkg.go.dev/github.com/workpulse/workpulse/hack/wallclock/analyzer",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

// wallclock maps each function that reads the wall clock to what replaces it.
var wallclock = map[string]string{
	"Now":   "c.Now() of the injected clock.Clock (testkit.NewClock in tests)",
	"Since": "clock.Since(c, t) with the injected clock.Clock, or clock.Start() and Elapsed() for a pure duration measurement",
	"Until": "clock.Until(c, t) with the injected clock.Clock",
}

func run(pass *analysis.Pass) (any, error) {
	if pass.Pkg.Path() == ClockPackage {
		return nil, nil
	}
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	// Identifiers rather than calls: a reference such as `now: time.Now`
	// reads the wall clock as surely as a call, and a dot import leaves
	// no selector to look at.
	in.Preorder([]ast.Node{(*ast.Ident)(nil)}, func(n ast.Node) {
		id := n.(*ast.Ident)
		fn, ok := pass.TypesInfo.Uses[id].(*types.Func)
		if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "time" {
			return
		}
		use, ok := wallclock[fn.Name()]
		if !ok || fn.Type().(*types.Signature).Recv() != nil {
			return
		}
		pass.Reportf(id.Pos(), "time.%s reads the wall clock: use %s", fn.Name(), use)
	})
	return nil, nil
}
