package chartcheck

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/workpulse/workpulse/services/platform/buildinfo"
)

func TestEveryBinaryPrintsItsReleaseAndLinkedRevisionWithoutAnyConfiguration(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	bin := t.TempDir()
	pkgs := map[string]string{"operator": "./operator/cmd/operator", "migrate": "./migrations/cmd/migrate",
		"kubectl-workpulse": "./operator/cmd/kubectl-workpulse"}
	// Every binary make build ships: the images' and the kubectl plugin, which an operator
	// installs on their own machine and reports the version of with an issue.
	binaries := append(slices.Clone(images), "kubectl-workpulse")
	args := []string{"build", "-buildvcs=false", "-ldflags", buildinfo.LinkFlag(rev), "-o", bin + "/"}
	for _, name := range binaries {
		pkg, ok := pkgs[name]
		if !ok {
			pkg = "./services/" + name + "/cmd/" + name
		}
		args = append(args, pkg)
	}
	build := exec.Command("go", args...)
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, name := range binaries {
		t.Run(name, func(t *testing.T) {
			// An empty environment: --version needs no database, broker or cluster.
			cmd := exec.Command(filepath.Join(bin, name), "--version")
			cmd.Env = []string{}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s --version: %v\n%s", name, err, out)
			}
			if want := name + " " + buildinfo.Version() + " (revision " + rev + ")\n"; string(out) != want {
				t.Fatalf("%s --version printed %q, want %q", name, out, want)
			}
		})
	}
}
