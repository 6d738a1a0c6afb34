// Package config holds the operator's generated manifests: the CRD
// (crd/bases) and the ClusterRole (rbac/role.yaml), both made by
// controller-gen from api/v1alpha1 and the RBAC markers of
// internal/controller. Regenerate them, and the API's deep-copy
// functions, with hack/operator-gen.sh.
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
	for generated, checkedIn := range map[string]string{
		"crd/bases/workpulse.io_workpulsetenants.yaml": "operator/config/crd/bases/workpulse.io_workpulsetenants.yaml",
		"rbac/role.yaml":                  "operator/config/rbac/role.yaml",
		"object/zz_generated.deepcopy.go": "api/v1alpha1/zz_generated.deepcopy.go",
	} {
		t.Run(checkedIn+" is what controller-gen makes of the code.", func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(out, generated))
			if err != nil {
				t.Fatal(err)
			}
			have, err := os.ReadFile(filepath.Join(root, checkedIn))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(have, want) {
				t.Errorf("%s is stale: run hack/operator-gen.sh (then hack/chart-sync.sh) and commit the result", checkedIn)
			}
		})
	}
}
