package repo_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/workpulse/workpulse/hack/repo"
)

func TestRootIsTheDirectoryHoldingGoWorkAboveTheWorkingDirectory(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Fatalf("Root() = %s, which holds no go.work: %v", root, err)
	}
	if wd, _ := os.Getwd(); filepath.Join(root, "hack", "repo") != wd {
		t.Fatalf("Root() = %s; from %s it should be two levels up", root, wd)
	}
}

func TestRootFailsOutsideAnyRepository(t *testing.T) {
	t.Chdir(t.TempDir())
	if root, err := repo.Root(); err == nil {
		t.Fatalf("Root() = %s outside any repository, want an error", root)
	}
}
