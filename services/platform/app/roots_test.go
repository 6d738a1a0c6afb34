package app_test

import (
	"crypto/x509"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestAServiceWithoutACABundleStillTrustsThePublicRoots runs this test binary
// again as an image without a CA bundle sees the machine: no certificate file
// and no certificate directory. The services' system pool must still hold the
// public roots, or every https peer outside the cluster fails its handshake.
func TestAServiceWithoutACABundleStillTrustsThePublicRoots(t *testing.T) {
	if os.Getenv("WORKPULSE_ROOTS_CHILD") == "1" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			t.Fatalf("system pool: %v", err)
		}
		//lint:ignore SA1019 on Linux the system pool lists its subjects.
		subjects := pool.Subjects()
		if !slices.ContainsFunc(subjects, func(s []byte) bool { return strings.Contains(string(s), "ISRG Root X1") }) {
			t.Fatalf("the system pool holds %d subjects and not ISRG Root X1 (Let's Encrypt's root)", len(subjects))
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAServiceWithoutACABundleStillTrustsThePublicRoots$", "-test.count=1")
	cmd.Env = append(os.Environ(), "WORKPULSE_ROOTS_CHILD=1",
		"SSL_CERT_FILE="+t.TempDir()+"/none.pem", "SSL_CERT_DIR="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("without a CA bundle: %v\n%s", err, out)
	}
}
