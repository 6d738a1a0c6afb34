package chartcheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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

func TestTheCRDChartsArtifactHubCRDIsTheOneItInstalls(t *testing.T) {
	var c chartMetadata
	readYAMLLoose(t, "charts/workpulse-crds/Chart.yaml", &c)
	var listed []struct{ Kind, Version, Name string }
	if err := yaml.Unmarshal([]byte(c.Annotations["artifacthub.io/crds"]), &listed); err != nil {
		t.Fatalf("artifacthub.io/crds: %v", err)
	}
	crds := find(render(t, "workpulse-crds"), "CustomResourceDefinition")
	if len(listed) != len(crds) || len(crds) != 1 {
		t.Fatalf("artifacthub.io/crds lists %d, the chart installs %d", len(listed), len(crds))
	}
	if listed[0].Name != crds[0].GetName() {
		t.Errorf("artifacthub.io/crds names %q, the chart installs %q", listed[0].Name, crds[0].GetName())
	}
}
