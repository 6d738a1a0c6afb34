package testkit

import (
	"bufio"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// PreviousRelease is the commit upgrades are tested from (hack/upgrade-from,
// which make e2e installs before upgrading to this tree).
func PreviousRelease(t testing.TB) string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(), "hack", "upgrade-from"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	t.Fatalf("hack/upgrade-from names no commit: %v", sc.Err())
	return ""
}

// PreviousReleaseBinaries builds the main packages pkgs (paths inside the
// repository, such as ./services/ingest/cmd/ingest) from the sources of the
// previous release, as its images hold them, and returns the directory
// holding one binary per package, named after it. They are built once into
// the repository's bin/ and reused after; test binaries building them at
// once take turns through a lock.
func PreviousReleaseBinaries(t testing.TB, pkgs ...string) string {
	t.Helper()
	root := repoRoot()
	commit := PreviousRelease(t)
	dir, unlock := lockedBinDir(t, "previous-"+commit)
	defer unlock()
	var missing []string
	for _, p := range pkgs {
		if _, err := os.Stat(filepath.Join(dir, path.Base(p))); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return dir
	}
	src := t.TempDir()
	archive := exec.Command("sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, commit, src)
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("the previous release's sources (git archive %s): %v\n%s", commit, err, out)
	}
	// The old tree's own workspace and go.sum build it, not this one's.
	build := exec.Command("go", append([]string{"build", "-trimpath", "-o", dir + "/"}, missing...)...)
	build.Dir = src
	build.Env = append(os.Environ(), "GOWORK="+filepath.Join(src, "go.work"), "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the previous release's %v: %v\n%s", missing, err, out)
	}
	return dir
}

// lockedBinDir makes the directory name under the repository's bin/ and
// holds its lock until unlock: test binaries building into it at once take
// turns, and the later ones find what the first built.
func lockedBinDir(t testing.TB, name string) (dir string, unlock func()) {
	t.Helper()
	dir = filepath.Join(repoRoot(), "bin", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		lock.Close()
		t.Fatal(err)
	}
	return dir, func() { lock.Close() }
}

// repoRoot is the repository's root directory.
func repoRoot() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..")
}
