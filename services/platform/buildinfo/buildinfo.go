// Package buildinfo says which release and which commit a binary is, for
// `--version` and the workpulse_build_info metric.
package buildinfo

import (
	_ "embed"
	"runtime/debug"
	"strings"
)

// version is a copy of the repository's VERSION file: go:embed cannot reach
// outside the module, and a build without linker flags (go run, make dev, a
// test) must still say its release. test/chart checks the copy is current.
//
//go:embed VERSION
var version string

// linkedRevision is the commit given at link time (-ldflags "-X
// <this package>.linkedRevision=<commit>"): make images, make build and the
// Dockerfile build with -buildvcs=false or from a copy without .git, where
// Go stamps no revision of its own.
var linkedRevision string

// LinkFlag is the go build -ldflags argument that records rev as the
// binary's revision.
func LinkFlag(rev string) string {
	return "-X github.com/workpulse/workpulse/services/platform/buildinfo.linkedRevision=" + rev
}

// Version is the release, as in the repository's VERSION file.
func Version() string { return strings.TrimSpace(version) }

// Revision is the commit the binary was built from, with "-dirty" when the
// work tree had changes: Go's own stamp, else the linked one, else
// "unknown" (a test binary, or a build that recorded neither).
func Revision() string {
	info, ok := debug.ReadBuildInfo()
	return revision(info, ok, linkedRevision)
}

func revision(info *debug.BuildInfo, ok bool, linked string) string {
	if !ok {
		info = &debug.BuildInfo{}
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		if linked != "" {
			return linked
		}
		return "unknown"
	}
	if modified == "true" {
		rev += "-dirty"
	}
	return rev
}

// String is what `<name> --version` prints: "auth 0.1.0 (revision 1a2b3c…)".
func String(name string) string {
	return name + " " + Version() + " (revision " + Revision() + ")"
}
