package chartcheck

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var scripts = []string{"hack/kind-up.sh", "hack/helm.sh", "hack/chart-sync.sh"}

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
	// The images it builds: <name>:<directory of the Dockerfile>, every one the chart runs.
	built := map[string]bool{}
	for _, m := range regexp.MustCompile(`\b([a-z]+):(services/[a-z]+|operator|migrations)\b`).FindAllStringSubmatch(string(b), -1) {
		built[m[1]] = true
		if dockerfiles[m[1]].module != m[2] {
			t.Errorf("kind-up.sh builds %s from %s/Dockerfile, want %s/Dockerfile", m[1], m[2], dockerfiles[m[1]].module)
		}
	}
	for _, name := range images {
		if !built[name] {
			t.Errorf("kind-up.sh does not build workpulse/%s", name)
		}
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
