package chartcheck

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// commandDirs are the repository's directories holding a main package.
func commandDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != repo && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata" ||
				p == filepath.Join(repo, "bin")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		for s := bufio.NewScanner(f); s.Scan(); {
			if line := strings.TrimSpace(s.Text()); strings.HasPrefix(line, "package ") {
				if line == "package main" {
					rel, _ := filepath.Rel(repo, filepath.Dir(p))
					if len(dirs) == 0 || dirs[len(dirs)-1] != rel {
						dirs = append(dirs, rel)
					}
				}
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

func TestGitIgnoresEveryBuildOutputAndNoSource(t *testing.T) {
	dirs := commandDirs(t)
	if len(dirs) < 10 {
		t.Fatalf("found only %d commands: %v", len(dirs), dirs)
	}
	var outputs []string
	for _, d := range dirs {
		// `go build` in a command's directory writes the binary there, named after it.
		outputs = append(outputs, filepath.Join(d, filepath.Base(d)))
	}
	outputs = append(outputs, "bin/workpulse", "test/system/system.test", "services/report/internal/report/report.test",
		"cover.out", "cpu.prof", "services/web/web/node_modules/vite/package.json",
		"services/web/internal/web/dist/app/index.html", "services/admin/web/dist/index.js", "services/admin/web/node_modules/x")
	sources := []string{"services/web/internal/web/dist/NOT_BUILT", "services/web/web/package-lock.json",
		"services/web/cmd/web/main.go", "hack/images/Dockerfile", "migrations/cmd/migrate/main.go"}

	ignored := func(p string) bool {
		// --no-index: whether a new file at p would be ignored, tracked or not.
		cmd := exec.Command("git", "check-ignore", "-q", "--no-index", p)
		cmd.Dir = repo
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 {
			return false
		}
		if err != nil {
			t.Fatalf("git check-ignore %s: %v", p, err)
		}
		return true
	}
	for _, p := range outputs {
		if !ignored(p) {
			t.Errorf("%s is a build output that .gitignore does not cover", p)
		}
	}
	for _, p := range sources {
		if ignored(p) {
			t.Errorf("%s is source, but .gitignore covers it", p)
		}
	}
	// And nothing tracked is ignored (a rule too wide, or a build output committed).
	cmd := exec.Command("git", "ls-files", "--cached", "--ignored", "--exclude-standard")
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("tracked files that .gitignore covers:\n%s", s)
	}
}
