package chartcheck

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	kindv1alpha4 "sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
)

func TestKindConfigHasAControlPlaneTwoWorkersAndTheIngressPortsMapped(t *testing.T) {
	// kind's own v1alpha4 types, decoded strictly: a misspelt field fails.
	var c kindv1alpha4.Cluster
	readYAML(t, "kind-config.yaml", &c)
	if c.Kind != "Cluster" || c.APIVersion != "kind.x-k8s.io/v1alpha4" {
		t.Fatalf("kind %q apiVersion %q", c.Kind, c.APIVersion)
	}
	var roles []string
	ports := map[int32]int32{}
	for _, n := range c.Nodes {
		roles = append(roles, string(n.Role))
		for _, m := range n.ExtraPortMappings {
			if n.Role != "control-plane" {
				t.Errorf("port %d is mapped on a %s; the Ingress controller runs on the control plane", m.ContainerPort, n.Role)
			}
			ports[m.ContainerPort] = m.HostPort
		}
		if n.Role == "control-plane" && !strings.Contains(strings.Join(n.KubeadmConfigPatches, ""), "ingress-ready=true") {
			t.Error("the control plane is not labelled ingress-ready=true, where kind's ingress-nginx is scheduled")
		}
	}
	if !slices.Equal(roles, []string{"control-plane", "worker", "worker"}) {
		t.Errorf("nodes %v, want a control plane and two workers", roles)
	}
	if ports[80] == 0 || ports[443] == 0 {
		t.Errorf("ports 80 and 443 not both mapped: %v", ports)
	}
}

// skaffoldConfig is the part of skaffold's v4beta schema the repository uses.
type skaffoldConfig struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Build struct {
		TagPolicy struct {
			EnvTemplate struct {
				Template string `json:"template"`
			} `json:"envTemplate"`
		} `json:"tagPolicy"`
		Local struct {
			Push        bool `json:"push"`
			UseBuildkit bool `json:"useBuildkit"`
		} `json:"local"`
		Artifacts []struct {
			Image   string `json:"image"`
			Context string `json:"context"`
			Docker  struct {
				Dockerfile string             `json:"dockerfile"`
				BuildArgs  map[string]*string `json:"buildArgs"`
			} `json:"docker"`
		} `json:"artifacts"`
	} `json:"build"`
	Manifests struct {
		Helm struct {
			Releases []struct {
				Name              string            `json:"name"`
				ChartPath         string            `json:"chartPath"`
				Namespace         string            `json:"namespace"`
				CreateNamespace   bool              `json:"createNamespace"`
				ValuesFiles       []string          `json:"valuesFiles"`
				SetValueTemplates map[string]string `json:"setValueTemplates"`
				SetValues         map[string]string `json:"setValues"`
				Wait              bool              `json:"wait"`
			} `json:"releases"`
		} `json:"helm"`
	} `json:"manifests"`
	Deploy struct {
		Helm    struct{} `json:"helm"`
		Kubectl struct{} `json:"kubectl"`
	} `json:"deploy"`
	PortForward []struct {
		ResourceType string `json:"resourceType"`
		ResourceName string `json:"resourceName"`
		Namespace    string `json:"namespace"`
		Port         int    `json:"port"`
		LocalPort    int    `json:"localPort"`
	} `json:"portForward"`
}

func TestSkaffoldBuildsEveryChartImageFromTheDockerfileAndDeploysBothCharts(t *testing.T) {
	var c skaffoldConfig
	readYAML(t, "skaffold.yaml", &c)
	if c.Kind != "Config" || !strings.HasPrefix(c.APIVersion, "skaffold/v4beta") {
		t.Fatalf("kind %q apiVersion %q", c.Kind, c.APIVersion)
	}
	var built []string
	for _, a := range c.Build.Artifacts {
		built = append(built, a.Image)
		if filepath.Clean(a.Context) != "." || a.Docker.Dockerfile != dockerfile {
			t.Errorf("%s: built from %s in %s, want %s in the repository root", a.Image, a.Docker.Dockerfile, a.Context, dockerfile)
		}
		if arg := a.Docker.BuildArgs["IMAGE"]; arg == nil || "workpulse/"+*arg != a.Image {
			t.Errorf("%s: build argument IMAGE does not name it", a.Image)
		}
	}
	var want []string
	for _, name := range images {
		want = append(want, "workpulse/"+name)
	}
	slices.Sort(built)
	slices.Sort(want)
	if !slices.Equal(built, want) {
		t.Errorf("skaffold builds %v, the chart uses %v", built, want)
	}

	// Each release's chart and values exist, and every image the chart runs is set from
	// the artifact skaffold built (its repository and tag).
	var deployed []string
	for _, r := range c.Manifests.Helm.Releases {
		deployed = append(deployed, filepath.Clean(r.ChartPath))
		if _, err := os.Stat(filepath.Join(repo, r.ChartPath, "Chart.yaml")); err != nil {
			t.Errorf("release %s: %v", r.Name, err)
		}
		for _, f := range r.ValuesFiles {
			if _, err := os.Stat(filepath.Join(repo, f)); err != nil {
				t.Errorf("release %s: %v", r.Name, err)
			}
		}
		if filepath.Clean(r.ChartPath) != filepath.Join("charts", "workpulse") {
			continue
		}
		// Render the release as skaffold would, with each artifact's repository and tag
		// standing in for the built ones: every workload must run the image skaffold built.
		ref := regexp.MustCompile(`^\{\{\.IMAGE_(REPO|TAG)_workpulse_([a-z]+)\}\}$`)
		args := []string{}
		for _, f := range r.ValuesFiles {
			args = append(args, "-f", f)
		}
		for key, v := range r.SetValues {
			args = append(args, "--set-string", key+"="+v)
		}
		for key, tmpl := range r.SetValueTemplates {
			m := ref.FindStringSubmatch(tmpl)
			if m == nil {
				t.Errorf("setValueTemplates %s=%s is not an artifact's repository or tag", key, tmpl)
				continue
			}
			v := "built/" + m[2]
			if m[1] == "TAG" {
				v = "dev-" + m[2]
			}
			args = append(args, "--set-string", key+"="+v)
		}
		for _, o := range render(t, "workpulse", args...) {
			if o.GetKind() != "Deployment" && o.GetKind() != "Job" {
				continue
			}
			name := o.GetLabels()["app.kubernetes.io/component"]
			if name == "migrations" {
				name = "migrate"
			}
			for _, c := range podSpec(o)["containers"].([]any) {
				c := c.(map[string]any)
				if want := "built/" + name + ":dev-" + name; c["image"] != want {
					t.Errorf("%s %s runs %v, not the built %s", o.GetKind(), o.GetName(), c["image"], want)
				}
				for _, e := range toMaps(c["env"]) {
					if e["name"] == "REPORT_IMAGE" && e["value"] != "built/report:dev-report" {
						t.Errorf("the operator's CronJobs run %v, not the built report image", e["value"])
					}
				}
			}
		}
	}
	if !slices.Contains(deployed, filepath.Join("charts", "workpulse-crds")) || !slices.Contains(deployed, filepath.Join("charts", "workpulse")) {
		t.Errorf("skaffold deploys %v, want both charts", deployed)
	}
}

// dockerfile builds every image the chart runs, the image named by its IMAGE build argument.
const dockerfile = "hack/images/Dockerfile"

// listedImage is one image as `go run ./hack/images -list` describes it.
type listedImage struct {
	Name       string   `json:"name"`
	Package    string   `json:"package"`
	User       string   `json:"user"`
	Entrypoint []string `json:"entrypoint"`
	Ports      []string `json:"ports"`
}

// imageTool is what the image tool builds, by image name.
func imageTool(t *testing.T) map[string]listedImage {
	t.Helper()
	cmd := exec.Command("go", "run", "./hack/images", "-list")
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run ./hack/images -list: %v", err)
	}
	var list []listedImage
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("go run ./hack/images -list: %v\n%s", err, out)
	}
	byName := map[string]listedImage{}
	for _, im := range list {
		byName[im.Name] = im
	}
	return byName
}

// dockerStage is one stage of a Dockerfile: its base and its instructions, each as the
// upper-case keyword followed by its arguments, continuation lines joined.
type dockerStage struct {
	name, from   string
	instructions [][]string
}

// parseDockerfile returns the global ARG defaults and the stages of a Dockerfile.
func parseDockerfile(t *testing.T, rel string) (map[string]string, []dockerStage) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, rel))
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{}
	var stages []dockerStage
	var pending string
	for _, line := range strings.Split(string(b), "\n") {
		if trimmed := strings.TrimSpace(line); trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			pending += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		f := strings.Fields(pending + line)
		pending = ""
		f[0] = strings.ToUpper(f[0])
		switch {
		case f[0] == "FROM":
			st := dockerStage{from: f[1]}
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				st.name = f[3]
			}
			stages = append(stages, st)
		case len(stages) == 0 && f[0] == "ARG":
			name, def, _ := strings.Cut(f[1], "=")
			args[name] = def
		case len(stages) == 0:
			t.Fatalf("%s: %s before the first FROM", rel, f[0])
		default:
			stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, f)
		}
	}
	return args, stages
}

// imageStage is what an image's stage (with the stages it starts from) runs.
type imageStage struct {
	base, user, binary string
	entrypoint, ports  []string
}

// resolve follows the stage named name to the image it starts from, collecting what it runs.
func resolve(t *testing.T, stages []dockerStage, name string) imageStage {
	t.Helper()
	i := slices.IndexFunc(stages, func(s dockerStage) bool { return s.name == name })
	if i < 0 {
		t.Fatalf("%s has no stage %q", dockerfile, name)
	}
	st := stages[i]
	var r imageStage
	if slices.ContainsFunc(stages, func(s dockerStage) bool { return s.name == st.from }) {
		r = resolve(t, stages, st.from)
	} else {
		r.base = st.from
	}
	for _, in := range st.instructions {
		switch in[0] {
		case "USER":
			r.user = in[1]
		case "EXPOSE":
			r.ports = append(r.ports, in[1:]...)
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(strings.Join(in[1:], " ")), &r.entrypoint); err != nil {
				t.Errorf("stage %s: ENTRYPOINT is not in exec form: %v", name, err)
			}
		case "COPY":
			if len(in) == 4 && in[1] == "--from=build" {
				r.binary = in[2] + " " + in[3]
			}
		}
	}
	slices.Sort(r.ports)
	return r
}

func TestTheDockerfileBuildsEveryImageAsTheImageToolDoes(t *testing.T) {
	tool := imageTool(t)
	args, stages := parseDockerfile(t, dockerfile)
	if _, ok := args["IMAGE"]; !ok {
		t.Fatal("no global ARG IMAGE: the build argument that names the image")
	}
	if last := stages[len(stages)-1]; last.from != "${IMAGE}" || last.name != "" {
		t.Fatalf("the last stage starts from %q; want FROM ${IMAGE}, the stage IMAGE names", last.from)
	}
	for _, st := range stages {
		// Image references are bare names: no registry host in the repository.
		if parts := strings.Split(st.from, "/"); len(parts) > 1 && strings.ContainsAny(parts[0], ".:") {
			t.Errorf("FROM %s names a registry host", st.from)
		}
	}

	// Every image the chart runs has a stage, and nothing else does.
	var named []string
	for _, st := range stages {
		for _, in := range st.instructions {
			if in[0] == "ENTRYPOINT" {
				named = append(named, st.name)
			}
		}
	}
	slices.Sort(named)
	if want := slices.Sorted(slices.Values(images)); !slices.Equal(named, want) {
		t.Errorf("the Dockerfile's images are %v, the chart runs %v", named, want)
	}

	var pkgs []string
	for _, name := range images {
		t.Run(name, func(t *testing.T) {
			want, ok := tool[name]
			if !ok {
				t.Fatalf("hack/images does not build %s", name)
			}
			pkgs = append(pkgs, want.Package)
			got := resolve(t, stages, name)
			if got.base != "scratch" {
				t.Errorf("starts from %s, want scratch like hack/images' empty base", got.base)
			}
			if got.user != want.User {
				t.Errorf("runs as %q, hack/images as %q", got.user, want.User)
			}
			if !slices.Equal(got.entrypoint, want.Entrypoint) {
				t.Errorf("entrypoint %v, hack/images %v", got.entrypoint, want.Entrypoint)
			}
			if !slices.Equal(got.ports, want.Ports) {
				t.Errorf("exposes %v, hack/images %v", got.ports, want.Ports)
			}
			if bin := "/out/" + path.Base(want.Package) + " " + want.Entrypoint[0]; got.binary != bin {
				t.Errorf("copies %q from the build stage; want %q, the binary of %s", got.binary, bin, want.Package)
			}
		})
	}

	// The build stage compiles exactly those packages, statically, from sources that exist.
	i := slices.IndexFunc(stages, func(s dockerStage) bool { return s.name == "build" })
	if i < 0 {
		t.Fatal("no build stage")
	}
	// The build context is the repository root: every source must exist.
	copied := map[string]bool{}
	for _, st := range stages {
		for _, in := range st.instructions {
			if in[0] != "COPY" || strings.HasPrefix(in[1], "--from=") {
				continue
			}
			for _, src := range in[1 : len(in)-1] {
				if _, err := os.Stat(filepath.Join(repo, src)); err != nil {
					t.Errorf("COPY %s: %v", src, err)
				}
				if st.name == "build" {
					copied[filepath.Clean(src)] = true
				}
			}
		}
	}
	var built []string
	static := false
	for _, in := range stages[i].instructions {
		switch in[0] {
		case "ENV":
			static = static || slices.Contains(in[1:], "CGO_ENABLED=0")
		case "RUN":
			for _, a := range in {
				if strings.HasPrefix(a, "./") {
					built = append(built, strings.TrimPrefix(a, "./"))
				}
			}
		}
	}
	if !static {
		t.Error("the binaries are not built with CGO_ENABLED=0")
	}
	slices.Sort(built)
	slices.Sort(pkgs)
	if !slices.Equal(built, pkgs) {
		t.Errorf("the build stage builds %v, hack/images %v", built, pkgs)
	}
	// The build runs in the workspace: every module go.work uses needs its go.mod, and every
	// module the binaries import from needs all of its sources.
	for _, m := range workspaceModules(t) {
		if !copied[m] && !copied[filepath.Join(m, "go.mod")] {
			t.Errorf("go.work uses %s, whose go.mod the build does not COPY", m)
		}
	}
	for _, m := range sourceModules(t, pkgs) {
		if !copied[m] {
			t.Errorf("the binaries import packages of %s, which the build does not COPY whole", m)
		}
	}
}

// workspaceModules are the directories go.work uses, relative to the repository root.
func workspaceModules(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^\s*\./(\S+)$`).FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatal("go.work uses no modules")
	}
	return out
}

// sourceModules are the repository's modules that pkgs and their dependencies belong to.
func sourceModules(t *testing.T, pkgs []string) []string {
	t.Helper()
	args := []string{"list", "-deps", "-f", "{{with .Module}}{{if .Main}}{{.Dir}}{{end}}{{end}}"}
	for _, p := range pkgs {
		args = append(args, "./"+p)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, dir := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(repo, dir)
		if err != nil {
			t.Fatal(err)
		}
		seen[rel] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

func toMaps(v any) []map[string]any {
	l, _ := v.([]any)
	out := make([]map[string]any, 0, len(l))
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
