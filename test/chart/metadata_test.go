package chartcheck

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// chartMetadata is what Artifact Hub reads of a Chart.yaml.
type chartMetadata struct {
	AppVersion  string `json:"appVersion"`
	Maintainers []struct {
		Name  string `json:"name"`
		Email string `json:"email"`
		URL   string `json:"url"`
	} `json:"maintainers"`
	Annotations map[string]string `json:"annotations"`
}

func TestEveryChartNamesItsMaintainersAndLicenseForArtifactHub(t *testing.T) {
	license, err := os.ReadFile(filepath.Join(repo, "LICENSE"))
	if err != nil || !strings.Contains(string(license), "Apache License\n                           Version 2.0") {
		t.Fatalf("LICENSE is not the Apache License 2.0 text: %v", err)
	}
	for _, f := range []string{"CHANGELOG.md", "SECURITY.md"} {
		if _, err := os.Stat(filepath.Join(repo, f)); err != nil {
			t.Error(err)
		}
	}
	for _, chart := range charts {
		t.Run(chart, func(t *testing.T) {
			var c chartMetadata
			readYAMLLoose(t, filepath.Join("charts", chart, "Chart.yaml"), &c)
			if len(c.Maintainers) == 0 {
				t.Error("no maintainers")
			}
			for _, m := range c.Maintainers {
				if m.Name == "" || m.Email == "" && m.URL == "" {
					t.Errorf("maintainer %+v needs a name and a way to reach them", m)
				}
			}
			if got := c.Annotations["artifacthub.io/license"]; got != "Apache-2.0" {
				t.Errorf("artifacthub.io/license %q, want the LICENSE's Apache-2.0", got)
			}
		})
	}
}

func TestTheChartsArtifactHubImagesAreTheImagesItRunsAtItsAppVersion(t *testing.T) {
	var c chartMetadata
	readYAMLLoose(t, "charts/workpulse/Chart.yaml", &c)
	var listed []struct{ Name, Image string }
	if err := yaml.Unmarshal([]byte(c.Annotations["artifacthub.io/images"]), &listed); err != nil {
		t.Fatalf("artifacthub.io/images: %v", err)
	}
	var got, want []string
	for _, l := range listed {
		got = append(got, l.Image)
	}
	for _, name := range images {
		want = append(want, "workpulse/"+name+":"+c.AppVersion)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("artifacthub.io/images lists %v, the chart runs %v", got, want)
	}
}

// artifactHubCRD is an entry of artifacthub.io/crds.
type artifactHubCRD struct {
	Kind        string `json:"kind"`
	Version     string `json:"version"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
}

// annotationList decodes the YAML list an Artifact Hub annotation holds into out, refusing
// fields Artifact Hub does not read (a misspelt key would silently show nothing there).
func annotationList(t *testing.T, c chartMetadata, name string, out any) {
	t.Helper()
	raw, ok := c.Annotations[name]
	if !ok {
		t.Fatalf("no %s annotation", name)
	}
	if err := yaml.UnmarshalStrict([]byte(raw), out); err != nil {
		t.Fatalf("%s is not the YAML list Artifact Hub reads: %v", name, err)
	}
}

// repoLink is a link into the repository's main branch: the file it names must exist.
var repoLink = regexp.MustCompile(`^https://github\.com/workpulse/workpulse/blob/main/(.+)$`)

func TestEveryChartsArtifactHubLinksChangesAndCRDsAreValidAndCurrent(t *testing.T) {
	crds := find(render(t, "workpulse-crds"), "CustomResourceDefinition")
	if len(crds) != 1 {
		t.Fatalf("the workpulse-crds chart installs %d CRDs, want 1", len(crds))
	}
	crdKind, _, _ := unstructured.NestedString(crds[0].Object, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(crds[0].Object, "spec", "versions")
	var served []string
	for _, v := range versions {
		served = append(served, v.(map[string]any)["name"].(string))
	}
	for _, chart := range charts {
		t.Run(chart, func(t *testing.T) {
			var c chartMetadata
			readYAMLLoose(t, filepath.Join("charts", chart, "Chart.yaml"), &c)

			var links []struct{ Name, URL string }
			annotationList(t, c, "artifacthub.io/links", &links)
			if len(links) < 2 {
				t.Errorf("artifacthub.io/links has %d links; want the documentation and the changelog at least", len(links))
			}
			for _, l := range links {
				u, err := url.Parse(l.URL)
				if l.Name == "" || err != nil || u.Scheme != "https" || u.Host == "" {
					t.Errorf("link %+v needs a name and an https URL", l)
				}
				if m := repoLink.FindStringSubmatch(l.URL); m != nil {
					if _, err := os.Stat(filepath.Join(repo, m[1])); err != nil {
						t.Errorf("link %q names %s, which the repository does not have", l.Name, m[1])
					}
				}
			}

			var changes []struct{ Kind, Description string }
			annotationList(t, c, "artifacthub.io/changes", &changes)
			if len(changes) == 0 {
				t.Error("artifacthub.io/changes lists no change")
			}
			for _, ch := range changes {
				if !slices.Contains([]string{"added", "changed", "deprecated", "removed", "fixed", "security"}, ch.Kind) || ch.Description == "" {
					t.Errorf("change %+v needs one of Artifact Hub's kinds and a description", ch)
				}
			}

			// Both packages show the operator's CRD: the one workpulse-crds installs.
			var listed []artifactHubCRD
			annotationList(t, c, "artifacthub.io/crds", &listed)
			if len(listed) != 1 || listed[0].Name != crds[0].GetName() || listed[0].Kind != crdKind || !slices.Contains(served, listed[0].Version) ||
				listed[0].DisplayName == "" || listed[0].Description == "" {
				t.Errorf("artifacthub.io/crds lists %+v; the chart installs %s (%s, versions %v), to be shown with a display name and a description",
					listed, crds[0].GetName(), crdKind, served)
			}
			var examples []map[string]any
			annotationList(t, c, "artifacthub.io/crdsExamples", &examples)
			if len(examples) == 0 {
				t.Error("artifacthub.io/crdsExamples has no example")
			}
		})
	}
}

func TestEveryChartsArtifactHubExampleTenantIsAcceptedByAnAPIServerWithTheCRD(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, chart := range charts {
		t.Run(chart, func(t *testing.T) {
			var meta chartMetadata
			readYAMLLoose(t, filepath.Join("charts", chart, "Chart.yaml"), &meta)
			var examples []map[string]any
			annotationList(t, meta, "artifacthub.io/crdsExamples", &examples)
			for _, e := range examples {
				obj := &unstructured.Unstructured{Object: e}
				if err := c.apply(ctx, obj, true); err != nil {
					t.Errorf("example %s %s: %v", obj.GetKind(), obj.GetName(), err)
				}
			}
		})
	}
}
