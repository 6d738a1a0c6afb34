package systemtest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/test/testkit"
)

// TestTheAPIDocsPageRendersInChromium builds the web service with the docs
// page's assets (hack/docs-build.sh, from the swagger-ui-dist package) and
// loads /api/docs in headless Chromium: Swagger UI renders the spec it
// fetched from /api/docs-json, so every asset loaded and ran under the
// page's Content-Security-Policy.
func TestTheAPIDocsPageRendersInChromium(t *testing.T) {
	root := repoRoot(t)
	chromium := testkit.DebianBinary(t, "/usr/bin/chromium")
	if out, err := exec.Command(filepath.Join(root, "hack/docs-build.sh")).CombinedOutput(); err != nil {
		t.Fatalf("hack/docs-build.sh: %v\n%s", err, out)
	}
	bin := filepath.Join(t.TempDir(), "web")
	build := exec.Command("go", "build", "-o", bin, "./services/web/cmd/web")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building web: %v\n%s", err, out)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", testkit.FreePort(t))
	testkit.StartBinary(t, bin, base+"/readyz", []string{"HTTP_ADDR=" + strings.TrimPrefix(base, "http://"), "LOG_LEVEL=warn"})

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=15000", "--dump-dom", base+"/api/docs").Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	for _, want := range []string{`class="swagger-ui`, "WorkPulse API", "/sessions/start", "/reports/daily"} {
		if !strings.Contains(dom, want) {
			t.Fatalf("the rendered page lacks %q:\n%.2000s", want, dom)
		}
	}
}
