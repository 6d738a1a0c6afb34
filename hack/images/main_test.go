package main

import (
	"archive/tar"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

func TestBuildImage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "svc"), []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	im := image{name: "svc", user: nonRoot, ports: []string{"3001/tcp"}, links: []string{"sh"}}
	img, err := buildImage(dir, im, runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("The config runs the binary as the non-root user on this platform, its port exposed.", func(t *testing.T) {
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Config.User != "65532:65532" || len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != "/svc" {
			t.Fatalf("user %q entrypoint %v", cfg.Config.User, cfg.Config.Entrypoint)
		}
		if _, ok := cfg.Config.ExposedPorts["3001/tcp"]; !ok || len(cfg.Config.ExposedPorts) != 1 {
			t.Fatalf("exposed ports %v", cfg.Config.ExposedPorts)
		}
		if cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH {
			t.Fatalf("platform %s/%s", cfg.OS, cfg.Architecture)
		}
	})

	t.Run("The one layer holds the binary, its links and a sticky /tmp.", func(t *testing.T) {
		layers, err := img.Layers()
		if err != nil || len(layers) != 1 {
			t.Fatalf("layers %d, err %v", len(layers), err)
		}
		rc, err := layers[0].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		seen := map[string]*tar.Header{}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			seen[h.Name] = h
		}
		if h := seen["svc"]; h == nil || h.Mode != 0o755 || h.Size != int64(len("binary")) {
			t.Fatalf("svc: %+v", h)
		}
		if h := seen["bin/sh"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "/svc" {
			t.Fatalf("bin/sh: %+v", h)
		}
		if h := seen["tmp/"]; h == nil || h.Mode != 0o1777 {
			t.Fatalf("tmp/: %+v", h)
		}
	})

	t.Run("The same binary always gives the same digest.", func(t *testing.T) {
		again, err := buildImage(dir, im, runtime.GOARCH)
		if err != nil {
			t.Fatal(err)
		}
		d1, _ := img.Digest()
		d2, _ := again.Digest()
		if d1 != d2 {
			t.Fatalf("%s != %s", d1, d2)
		}
	})
}

func TestListingIsWhatTheBuiltImagesRun(t *testing.T) {
	dir := t.TempDir()
	for _, l := range listing() {
		im := images[slices.IndexFunc(images, func(im image) bool { return im.name == l.Name })]
		if err := os.WriteFile(filepath.Join(dir, im.name), []byte("binary"), 0o755); err != nil {
			t.Fatal(err)
		}
		img, err := buildImage(dir, image{name: im.name, user: im.user, ports: im.ports}, runtime.GOARCH)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		ports := slices.Sorted(maps.Keys(cfg.Config.ExposedPorts))
		if l.Package != im.pkg || l.User != cfg.Config.User || !slices.Equal(l.Entrypoint, cfg.Config.Entrypoint) ||
			!slices.Equal(l.Ports, ports) {
			t.Errorf("%s: listed %+v, the image runs %s as %s on %v", l.Name, l, cfg.Config.Entrypoint, cfg.Config.User, ports)
		}
	}
}

func TestSelectImages(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "services/auth/cmd/auth"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		names   []string
		want    []string
		wantErr bool
	}{
		{"With no names only images whose sources exist are built.", nil, []string{"auth"}, false},
		{"A named image with sources is built.", []string{"auth"}, []string{"auth"}, false},
		{"A named image without sources is an error.", []string{"session"}, nil, true},
		{"An unknown name is an error.", []string{"nginx"}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := selectImages(root, c.names)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v", err)
			}
			var names []string
			for _, im := range got {
				if im.host == "" { // host images depend on this machine's packages
					names = append(names, im.name)
				}
			}
			if len(names) != len(c.want) || (len(names) > 0 && names[0] != c.want[0]) {
				t.Fatalf("got %v, want %v", names, c.want)
			}
		})
	}
}

func TestReadVersion(t *testing.T) {
	root := t.TempDir()
	if v := readVersion(root); v != "0.1.0" {
		t.Fatalf("without VERSION: %q", v)
	}
	if err := os.WriteFile(filepath.Join(root, "VERSION"), []byte("1.2.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := readVersion(root); v != "1.2.3" {
		t.Fatalf("with VERSION 1.2.3: %q", v)
	}
}
