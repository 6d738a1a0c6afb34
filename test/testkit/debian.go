package testkit

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// DebianBinary returns path, a binary of a Debian package that a test runs as
// a real process (chromium, pgbouncer, promtool), after installing what is
// missing through hack/debian-packages.sh: a fresh machine has none of them
// and the project's own scripts install what its tests need.
func DebianBinary(t testing.TB, path string) string {
	t.Helper()
	if _, err := exec.LookPath(path); err == nil {
		return path
	}
	script := filepath.Join(repoRoot(), "hack", "debian-packages.sh")
	if out, err := exec.Command(script).CombinedOutput(); err != nil {
		t.Fatalf("installing %s with %s: %v\n%s", path, script, err, out)
	}
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("%s ran but %s is still missing: %v", script, path, err)
	}
	return path
}
