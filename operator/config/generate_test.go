// Package config holds the operator's generated manifests: the CRD
// (crd/bases) and the ClusterRole (rbac/role.yaml), both made by
// controller-gen from api/v1alpha1 and the RBAC markers of
// internal/controller. Regenerate them with hack/operator-gen.sh.
package config

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestGeneratedManifestsAreUpToDate(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.Command(filepath.Join(root, "hack", "operator-gen.sh"), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/operator-gen.sh: %v\n%s", err, b)
	}
	for _, f := range []string{
		"crd/bases/workpulse.io_workpulsetenants.yaml",
		"rbac/role.yaml",
	} {
		t.Run(f+" is what controller-gen makes of the code.", func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(out, f))
			if err != nil {
				t.Fatal(err)
			}
			have, err := os.ReadFile(filepath.Join(root, "operator", "config", f))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(have, want) {
				t.Errorf("operator/config/%s is stale: run hack/operator-gen.sh (then hack/chart-sync.sh) and commit the result", f)
			}
		})
	}
}
