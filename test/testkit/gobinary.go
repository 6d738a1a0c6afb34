package testkit

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// GoBinary returns the binary of the main package pkg at module version
// version (pkg@version), built once with go install into the repository's
// bin/ and reused after: a server the tests run as a real process (an
// OpenID Provider, an SMTP server) comes from the module cache, not from a
// stub. Test binaries building it at once take turns through a lock.
func GoBinary(t testing.TB, pkg, version string) string {
	t.Helper()
	dir, unlock := lockedBinDir(t, strings.ReplaceAll(pkg, "/", "_")+"@"+version)
	defer unlock()
	bin := filepath.Join(dir, path.Base(pkg))
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	// Outside the workspace, so that the tool's own dependency versions
	// build it, not the product's.
	cmd := exec.Command("go", "install", pkg+"@"+version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s@%s: %v\n%s", pkg, version, err, out)
	}
	return bin
}
