package chartcheck

import (
	"os"
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
				Dockerfile string `json:"dockerfile"`
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

func TestSkaffoldBuildsEveryChartImageFromItsDockerfileAndDeploysBothCharts(t *testing.T) {
	var c skaffoldConfig
	readYAML(t, "skaffold.yaml", &c)
	if c.Kind != "Config" || !strings.HasPrefix(c.APIVersion, "skaffold/v4beta") {
		t.Fatalf("kind %q apiVersion %q", c.Kind, c.APIVersion)
	}
	var built []string
	for _, a := range c.Build.Artifacts {
		built = append(built, a.Image)
		df := filepath.Join(repo, a.Context, a.Docker.Dockerfile)
		if _, err := os.Stat(df); err != nil {
			t.Errorf("%s: %v", a.Image, err)
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

// dockerfiles are where each image's Dockerfile lives: its module and its command.
var dockerfiles = map[string]struct{ module, cmd string }{
	"auth": {"services/auth", "cmd/auth"}, "session": {"services/session", "cmd/session"},
	"ingest": {"services/ingest", "cmd/ingest"}, "report": {"services/report", "cmd/report"},
	"realtime": {"services/realtime", "cmd/realtime"}, "operator": {"operator", "cmd/operator"},
	"migrate": {"migrations", "cmd/migrate"}, "web": {"services/web", "cmd/web"},
}

func TestEveryDockerfileBuildsAStaticNonRootBinaryOnScratchFromSourcesThatExist(t *testing.T) {
	for _, name := range images {
		t.Run(name, func(t *testing.T) {
			df := dockerfiles[name]
			b, err := os.ReadFile(filepath.Join(repo, df.module, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			var froms, final []string
			copied := map[string]bool{}
			for _, line := range strings.Split(string(b), "\n") {
				f := strings.Fields(line)
				if len(f) == 0 || strings.HasPrefix(f[0], "#") {
					continue
				}
				switch strings.ToUpper(f[0]) {
				case "FROM":
					froms = append(froms, f[1])
					final = nil
					// Image references are bare names: no registry host in the repository.
					if parts := strings.Split(f[1], "/"); len(parts) > 1 && strings.ContainsAny(parts[0], ".:") {
						t.Errorf("FROM %s names a registry host", f[1])
					}
				case "COPY":
					if strings.HasPrefix(f[1], "--from=") {
						break
					}
					// The build context is the repository root: every source must exist.
					for _, src := range f[1 : len(f)-1] {
						if _, err := os.Stat(filepath.Join(repo, src)); err != nil {
							t.Errorf("COPY %s: %v", src, err)
						}
						copied[filepath.Clean(src)] = true
					}
				}
				final = append(final, line)
			}
			text, last := string(b), strings.Join(final, "\n")
			switch {
			case len(froms) < 2:
				t.Errorf("not multi-stage: %v", froms)
			case froms[len(froms)-1] != "scratch":
				t.Errorf("final stage is %q, want scratch", froms[len(froms)-1])
			case !strings.Contains(text, "CGO_ENABLED=0"):
				t.Error("the binary is not built with CGO_ENABLED=0")
			case !strings.Contains(text, "go -C "+df.module+" build") || !strings.Contains(text, "./"+df.cmd):
				t.Errorf("does not build ./%s in %s", df.cmd, df.module)
			case !regexp.MustCompile(`(?m)^USER 65532:65532$`).MatchString(last):
				t.Error("the final stage does not run as 65532:65532")
			case !regexp.MustCompile(`(?m)^ENTRYPOINT \["/` + name + `"\]$`).MatchString(last):
				t.Errorf("the final stage's entrypoint is not /%s, as in the images make images builds", name)
			}
			// GOWORK=off: every module the go.mod replaces with a local directory, and theirs,
			// must be in the build context.
			for _, m := range localModules(t, df.module) {
				if !copied[m] {
					t.Errorf("the build needs %s (a replace target) but does not COPY it", m)
				}
			}
		})
	}
}

// localModules is module and every directory its go.mod's replace lines point to, transitively.
func localModules(t *testing.T, module string) []string {
	t.Helper()
	seen := map[string]bool{}
	var walk func(string)
	walk = func(m string) {
		if seen[m] {
			return
		}
		seen[m] = true
		b, err := os.ReadFile(filepath.Join(repo, m, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range regexp.MustCompile(`=>\s*(\.\.?/\S+)`).FindAllStringSubmatch(string(b), -1) {
			walk(filepath.Join(m, r[1]))
		}
	}
	walk(module)
	var out []string
	for m := range seen {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
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
