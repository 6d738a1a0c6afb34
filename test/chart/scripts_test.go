package chartcheck

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var scripts = []string{"hack/kind-up.sh", "hack/helm.sh", "hack/chart-sync.sh", "hack/release.sh", "hack/gateway-api-crds.sh"}

func TestScriptsParseAndKindUpNamesFilesThatExist(t *testing.T) {
	for _, s := range scripts {
		if out, err := exec.Command("bash", "-n", filepath.Join(repo, s)).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", s, err, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(repo, "hack/kind-up.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range regexp.MustCompile(`kind-config\.yaml|charts/[\w./-]*\w|hack/samples/[\w./-]*\w`).FindAllString(string(b), -1) {
		if _, err := os.Stat(filepath.Join(repo, f)); err != nil {
			t.Errorf("kind-up.sh names %s: %v", f, err)
		}
	}
	// The images it builds: every one the chart runs, each from the one Dockerfile.
	m := regexp.MustCompile(`(?m)^\s*for name in ([a-z ]+); do$`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("kind-up.sh has no `for name in ...; do` loop over the images")
	}
	if built, want := slices.Sorted(slices.Values(strings.Fields(m[1]))), slices.Sorted(slices.Values(images)); !slices.Equal(built, want) {
		t.Errorf("kind-up.sh builds %v, the chart runs %v", built, want)
	}
	if build := `docker build -q -f ` + dockerfile + ` --build-arg IMAGE="$name" -t "workpulse/$name:$version" .`; !strings.Contains(string(b), build) {
		t.Errorf("kind-up.sh does not build each image with %s", build)
	}
}

// TestKindUpsDevelopmentDependenciesAreValidObjects dry-run applies the PostgreSQL, Redis and
// Kafka that hack/kind-up.sh creates, with its shell variables given their defaults.
func TestKindUpsDevelopmentDependenciesAreValidObjects(t *testing.T) {
	c := startCluster(t)
	b, err := os.ReadFile(filepath.Join(repo, "hack/kind-up.sh"))
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	m := regexp.MustCompile(`(?s)<<YAML\n(.*?)\nYAML\n`).FindStringSubmatch(script)
	if m == nil {
		t.Fatal("no <<YAML document in hack/kind-up.sh")
	}
	defaults := map[string]string{"ns": namespace}
	for _, d := range regexp.MustCompile(`(?m)^(\w+)=\$\{\w+:-([^}]*)\}$`).FindAllStringSubmatch(script, -1) {
		defaults[d[1]] = d[2]
	}
	manifest := regexp.MustCompile(`\$\{?(\w+)\}?`).ReplaceAllStringFunc(m[1], func(v string) string {
		name := strings.Trim(v, "${}")
		val, ok := defaults[name]
		if !ok {
			t.Errorf("hack/kind-up.sh's manifest uses $%s, which has no default", name)
		}
		return val
	})
	objs := decode(t, manifest)
	if len(objs) != 6 {
		t.Fatalf("want PostgreSQL, Redis and Kafka with a Service each, got %d objects", len(objs))
	}
	for _, o := range objs {
		if err := c.apply(context.Background(), o, true); err != nil {
			t.Errorf("%s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}
