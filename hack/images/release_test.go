package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/workpulse/workpulse/hack/repo"
)

func TestParsePlatforms(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
		wantErr  bool
	}{
		{"Two Linux platforms give their architectures in order.", "linux/amd64,linux/arm64", []string{"amd64", "arm64"}, false},
		{"Spaces and a repeated platform are tolerated.", "linux/arm64, linux/arm64", []string{"arm64"}, false},
		{"A platform other than Linux is refused.", "darwin/arm64", nil, true},
		{"A platform without an architecture is refused.", "linux", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parsePlatforms(c.in)
			if (err != nil) != c.wantErr || !slices.Equal(got, c.want) {
				t.Fatalf("parsePlatforms(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.wantErr)
			}
		})
	}
}

// TestReleaseOfTheSandboxImage builds the smallest real image (the pause
// binary) for amd64 and arm64 twice from scratch, then pushes it to an
// in-process go-containerregistry registry, the code behind the registry
// make e2e runs, and reads back what a node and an auditor would.
func TestReleaseOfTheSandboxImage(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	pause := images[slices.IndexFunc(images, func(im image) bool { return im.name == "pause" })]
	ctx := context.Background()
	r := pushRun{root: root, version: "9.9.9", arches: []string{"amd64", "arm64"}, log: io.Discard}
	first, err := buildAll(ctx, r, []image{pause})
	if err != nil {
		t.Fatal(err)
	}
	second, err := buildAll(ctx, r, []image{pause})
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := first[0].index.Digest()
	d2, _ := second[0].index.Digest()

	t.Run("Two builds of the same commit give the same index digest.", func(t *testing.T) {
		if d1 != d2 {
			t.Fatalf("%s != %s", d1, d2)
		}
	})

	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	r.registry = strings.TrimPrefix(srv.URL, "http://") + "/workpulse"
	r.values = filepath.Join(t.TempDir(), "values.yaml")
	if err := pushAll(ctx, r, []image{pause}); err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(r.registry + "/pause:9.9.9")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("The pushed tag is an OCI index of both platforms, with the digest built.", func(t *testing.T) {
		idx, err := remote.Index(ref)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := idx.Digest()
		mf, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		var platforms []string
		for _, m := range mf.Manifests {
			platforms = append(platforms, m.Platform.String())
		}
		if got != d1 || mf.MediaType != types.OCIImageIndex || !slices.Equal(platforms, []string{"linux/amd64", "linux/arm64"}) {
			t.Fatalf("digest %s (built %s), media type %s, platforms %v", got, d1, mf.MediaType, platforms)
		}
		img, err := idx.Image(mf.Manifests[1].Digest)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := img.ConfigFile()
		if err != nil || cfg.Architecture != "arm64" || cfg.Config.User != "65535:65535" {
			t.Fatalf("arm64 config %+v, err %v", cfg, err)
		}
	})

	t.Run("Each platform's manifest has one SPDX SBOM referrer naming the Go toolchain and the module.", func(t *testing.T) {
		idx, err := remote.Index(ref)
		if err != nil {
			t.Fatal(err)
		}
		mf, _ := idx.IndexManifest()
		for _, m := range mf.Manifests {
			refs, err := remote.Referrers(ref.Context().Digest(m.Digest.String()))
			if err != nil {
				t.Fatal(err)
			}
			rm, _ := refs.IndexManifest()
			if len(rm.Manifests) != 1 || rm.Manifests[0].ArtifactType != sbomType {
				t.Fatalf("%s: referrers %+v", m.Platform, rm.Manifests)
			}
			doc := readSBOM(t, ref.Context().Digest(rm.Manifests[0].Digest.String()))
			var names []string
			for _, p := range doc.Packages {
				names = append(names, p.Name)
			}
			if doc.SPDXVersion != "SPDX-2.3" || !slices.Contains(names, "/pause") || !slices.Contains(names, "go") ||
				!slices.Contains(names, "github.com/workpulse/workpulse/hack") || !strings.Contains(doc.Name, m.Platform.String()) {
				t.Fatalf("%s: SBOM %q packages %v", m.Platform, doc.Name, names)
			}
		}
	})

	t.Run("The values file names the registry and the pushed digest.", func(t *testing.T) {
		b, err := os.ReadFile(r.values)
		if err != nil {
			t.Fatal(err)
		}
		want := "  registry: \"" + r.registry + "\"\n  digests:\n    pause: \"" + d1.String() + "\"\n"
		if !strings.Contains(string(b), want) {
			t.Fatalf("values:\n%s\nwant to contain:\n%s", b, want)
		}
	})
}

func readSBOM(t *testing.T, d name.Digest) spdxDoc {
	t.Helper()
	desc, err := remote.Get(d)
	if err != nil {
		t.Fatal(err)
	}
	var mf v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &mf); err != nil {
		t.Fatal(err)
	}
	if mf.Subject == nil || len(mf.Layers) != 1 || mf.Layers[0].MediaType != sbomType || mf.Config.MediaType != types.OCIEmptyJSON {
		t.Fatalf("SBOM manifest %s", desc.Manifest)
	}
	l, err := remote.Layer(d.Context().Digest(mf.Layers[0].Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var doc spdxDoc
	if err := json.NewDecoder(rc).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}
