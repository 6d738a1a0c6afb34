// Package testenv starts the real kube-apiserver and etcd the operator's
// tests run against (envtest), with the WorkPulseTenant CRD installed.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Assets is KUBEBUILDER_ASSETS when set, else bin/k8s, which
// hack/envtest-bins.sh builds on first use (minutes cold, instant after).
func Assets(root string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	cmd := exec.Command(filepath.Join(root, "hack", "envtest-bins.sh"), "envtest")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("hack/envtest-bins.sh: %w", err)
	}
	return filepath.Join(root, "bin", "k8s"), nil
}

// Start starts an API server with the operator's generated CRD; Stop the
// returned environment when done.
func Start(root string) (*envtest.Environment, error) {
	assets, err := Assets(root)
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "operator", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
		// envtest's 20 s default is too short for a cold kube-apiserver on a loaded 2-core machine.
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("envtest: %w", err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	return env, nil
}
