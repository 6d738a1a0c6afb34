package chartcheck

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The release every render uses; resource names start with fullname.
const (
	release   = "wp"
	namespace = "workpulse"
	fullname  = "wp-workpulse"
)

// repo is the repository root.
var repo = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}()

var helmOnce = sync.OnceValues(func() (string, error) {
	out, err := exec.Command(filepath.Join(repo, "hack", "helm.sh")).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", errors.New(string(ee.Stderr))
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
})

// helm runs the pinned helm binary (built by hack/helm.sh) in the repository root.
func helm(t testing.TB, args ...string) (string, error) {
	t.Helper()
	bin, err := helmOnce()
	if err != nil {
		t.Fatalf("building helm: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = repo
	// No user's helm configuration or cache leaks into the tests.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), errors.New(strings.TrimSpace(stderr.String() + "\n" + stdout.String()))
	}
	return stdout.String(), nil
}

// charts are the charts under charts/.
var charts = []string{"workpulse-crds", "workpulse"}

// valueSet is one way of rendering a chart: its name and extra helm arguments.
type valueSet struct {
	name string
	args []string
}

// valueSets are the defaults and every charts/<chart>/ci/*.yaml file.
func valueSets(t testing.TB, chart string) []valueSet {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repo, "charts", chart, "ci", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("charts/%s/ci has no value files", chart)
	}
	sets := []valueSet{{name: "defaults"}}
	for _, f := range files {
		sets = append(sets, valueSet{name: filepath.Base(f), args: []string{"-f", f}})
	}
	return sets
}

// render runs helm template (hooks and tests included) and decodes every object.
func render(t testing.TB, chart string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	all := append([]string{"template", release, filepath.Join("charts", chart), "--namespace", namespace}, args...)
	out, err := helm(t, all...)
	if err != nil {
		t.Fatalf("helm %s: %v", strings.Join(all, " "), err)
	}
	return decode(t, out)
}

func decode(t testing.TB, manifests string) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifests), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs
			}
			t.Fatalf("decoding rendered manifests: %v", err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// find returns the rendered objects of kind.
func find(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// readYAML reads a repository file into v.
func readYAML(t testing.TB, rel string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

// readYAMLLoose reads the fields of v from a repository file, ignoring the others.
func readYAMLLoose(t testing.TB, rel string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}
