// Command images builds WorkPulse's container images without a container
// engine (with go-containerregistry): each is one static binary on an empty
// base, run as a non-root user, written as an image tarball that `ctr images
// import` (and `docker load`) accept, or pushed to a registry.
//
//	go run ./hack/images [-out bin/images] [-version V] [name...]
//	go run ./hack/images -push REGISTRY [-platforms linux/amd64,linux/arm64] [-values FILE] [name...]
//	go run ./hack/images -list
//
// -push (make release) pushes each image as an OCI index of every platform
// to REGISTRY/<name>:<V>, each platform's manifest with an SPDX SBOM as its
// OCI referrer (release.go), and writes the digests as a Helm values file.
// With no names it pushes the released images, not the local node's own.
//
// With no names it builds every image whose source exists, so it works
// while services are still being added. The tag is workpulse/<name>:<V>,
// V defaulting to the repository's VERSION file, the same value the Helm
// chart uses for its image tags. -list prints, as JSON, what each image
// runs (package, user, entrypoint, exposed ports) without building: the
// chart checks compare it with hack/images/Dockerfile, which builds the
// same images with Docker.
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/workpulse/workpulse/hack/repo"
	"github.com/workpulse/workpulse/services/platform/buildinfo"
)

// image is one image: the Go package of its binary (or a static binary
// already on the host), who it runs as, and extra names for the binary.
type image struct {
	name  string
	pkg   string // relative to the repository root
	user  string
	host  string   // instead of pkg: a static executable on this machine
	ports []string // exposed, as "3001/tcp": the default listen addresses
	links []string // symlinks to the binary, at /bin/<link>
	extra []string // more Go commands, each at /bin/<its directory's name>
	// More executables from this machine (path in the image → path here),
	// with the shared libraries ldd says they need, at the same paths.
	hostFiles map[string]string
	// The local node's own image (hack/cluster), never released.
	node bool
}

// nonRoot is the distroless "nonroot" user, which the chart's
// securityContext (runAsNonRoot) expects.
const nonRoot = "65532:65532"

var images = []image{
	{name: "auth", pkg: "services/auth/cmd/auth", user: nonRoot, ports: []string{"3001/tcp"}},
	{name: "session", pkg: "services/session/cmd/session", user: nonRoot, ports: []string{"3002/tcp"}},
	{name: "ingest", pkg: "services/ingest/cmd/ingest", user: nonRoot, ports: []string{"3003/tcp"}},
	{name: "report", pkg: "services/report/cmd/report", user: nonRoot, ports: []string{"3004/tcp"}},
	{name: "realtime", pkg: "services/realtime/cmd/realtime", user: nonRoot, ports: []string{"3005/tcp"}},
	// The web app is embedded in the binary: make images after make build
	// (hack/web-build.sh) ships it, a build without it serves a notice.
	{name: "web", pkg: "services/web/cmd/web", user: nonRoot, ports: []string{"3006/tcp"}},
	// Metrics, then the health probes.
	{name: "operator", pkg: "operator/cmd/operator", user: nonRoot, ports: []string{"8080/tcp", "8081/tcp"}},
	{name: "migrate", pkg: "migrations/cmd/migrate", user: nonRoot},
	// The local node's own images (hack/cluster): its sandbox image and
	// its DNS server. 65535 is the user upstream's pause image runs as.
	{name: "pause", pkg: "hack/images/cmd/pause", user: "65535:65535", node: true},
	{name: "cluster-dns", pkg: "hack/images/cmd/cluster-dns", user: nonRoot, node: true},
	// The shell, grep and wget of the chart's `helm test` pod (tests.image),
	// since no public image can be pulled here: Debian's busybox-static for
	// the tools, a Go wget because that busybox's wget crashes with -T, and
	// dash as sh because busybox's sh runs its own wget whatever PATH says.
	{
		name: "busybox", host: "/bin/busybox", user: nonRoot,
		links:     []string{"grep", "cat", "ls", "nslookup"},
		extra:     []string{"hack/images/cmd/wget"},
		hostFiles: map[string]string{"bin/sh": "/bin/dash"},
		node:      true,
	},
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, log io.Writer) error {
	fs := flag.NewFlagSet("images", flag.ContinueOnError)
	root := fs.String("root", "", "repository root (default: the directory holding go.work, found upwards)")
	out := fs.String("out", "", "output directory (default <root>/bin/images)")
	version := fs.String("version", "", "image tag (default: <root>/VERSION, else 0.1.0)")
	list := fs.Bool("list", false, "print every image's package, user, entrypoint and ports as JSON to stdout; build nothing")
	push := fs.String("push", "", "push to this registry prefix (REGISTRY/<name>:<version>) instead of writing tarballs")
	platforms := fs.String("platforms", "linux/"+runtime.GOARCH, "with -push: the platforms of each image's index, comma-separated")
	values := fs.String("values", "", "with -push: write the pushed digests to this file as Helm values (image.registry, image.digests)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *list {
		return json.NewEncoder(os.Stdout).Encode(listing())
	}
	if *root == "" {
		r, err := repo.Root()
		if err != nil {
			return fmt.Errorf("%w; pass -root", err)
		}
		*root = r
	}
	if *out == "" {
		*out = filepath.Join(*root, "bin", "images")
	}
	if *version == "" {
		*version = readVersion(*root)
	}
	selected, err := selectImages(*root, fs.Args())
	if err != nil {
		return err
	}
	if *push != "" && len(fs.Args()) == 0 {
		selected = slices.DeleteFunc(selected, func(im image) bool { return im.node })
	}
	if len(selected) == 0 {
		return errors.New("no image sources exist yet")
	}
	if *push != "" {
		arches, err := parsePlatforms(*platforms)
		if err != nil {
			return err
		}
		return pushAll(ctx, pushRun{root: *root, registry: *push, version: *version, arches: arches,
			values: *values, log: log}, selected)
	}
	binDir, err := os.MkdirTemp("", "workpulse-images-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(binDir)
	if err := buildBinaries(ctx, *root, binDir, selected, runtime.GOARCH); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for _, im := range selected {
		ref, err := name.NewTag("workpulse/" + im.name + ":" + *version)
		if err != nil {
			return err
		}
		img, err := buildImage(binDir, im, runtime.GOARCH)
		if err != nil {
			return fmt.Errorf("%s: %w", im.name, err)
		}
		path := filepath.Join(*out, im.name+".tar")
		// Write then rename, so a reader never imports a half-written file.
		if err := tarball.WriteToFile(path+".tmp", ref, img); err != nil {
			return fmt.Errorf("%s: %w", im.name, err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			return err
		}
		digest, err := img.Digest()
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "images: %s workpulse/%s:%s %s\n", path, im.name, *version, digest)
	}
	return nil
}

func readVersion(root string) string {
	b, err := os.ReadFile(filepath.Join(root, "VERSION"))
	if v := strings.TrimSpace(string(b)); err == nil && v != "" {
		return v
	}
	return "0.1.0"
}

// selectImages returns the named images, or every image whose package
// exists when no names are given. A named image without sources is an error.
func selectImages(root string, names []string) ([]image, error) {
	exists := func(im image) bool {
		if im.host != "" {
			return isStatic(im.host)
		}
		_, err := os.Stat(filepath.Join(root, im.pkg))
		return err == nil
	}
	if len(names) == 0 {
		var all []image
		for _, im := range images {
			if exists(im) {
				all = append(all, im)
			}
		}
		return all, nil
	}
	var picked []image
	for _, n := range names {
		found := false
		for _, im := range images {
			if im.name == n {
				if !exists(im) {
					return nil, fmt.Errorf("%s: %s does not exist (or is not a static executable)", n, im.pkg+im.host)
				}
				picked = append(picked, im)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown image %q", n)
		}
	}
	return picked, nil
}

// gitRevision is root's checked-out commit, "-dirty" with uncommitted changes
// (as Go's own stamp says it), or "" outside a git checkout: the binaries'
// --version and workpulse_build_info name it.
func gitRevision(ctx context.Context, root string) string {
	git := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	rev := git("rev-parse", "HEAD")
	if rev != "" && git("status", "--porcelain") != "" {
		rev += "-dirty"
	}
	return rev
}

// buildBinaries builds every selected binary in one go build, so shared
// packages compile once, as static Linux executables for arch. -trimpath and
// the fixed flags make the same commit give the same bytes on any machine.
func buildBinaries(ctx context.Context, root, dir string, selected []image, arch string) error {
	args := []string{"build", "-trimpath", "-ldflags", "-s -w " + buildinfo.LinkFlag(gitRevision(ctx, root)), "-o", dir + string(os.PathSeparator)}
	n := len(args)
	for _, im := range selected {
		if im.host != "" {
			if err := copyFile(im.host, filepath.Join(dir, im.name)); err != nil {
				return err
			}
		} else {
			args = append(args, "./"+im.pkg)
		}
		for _, e := range im.extra {
			args = append(args, "./"+e)
		}
	}
	if len(args) == n {
		return nil
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// listed is what -list prints of one image.
type listed struct {
	Name       string   `json:"name"`
	Package    string   `json:"package,omitempty"` // empty for a host executable
	User       string   `json:"user"`
	Entrypoint []string `json:"entrypoint"`
	Ports      []string `json:"ports"`
}

func listing() []listed {
	out := make([]listed, 0, len(images))
	for _, im := range images {
		c := runConfig(im)
		out = append(out, listed{Name: im.name, Package: im.pkg, User: c.User, Entrypoint: c.Entrypoint,
			Ports: sortedKeys(c.ExposedPorts)})
	}
	return out
}

// runConfig is how the image runs its binary, the part of its config the
// Dockerfile must agree with.
func runConfig(im image) v1.Config {
	c := v1.Config{User: im.user, Entrypoint: []string{"/" + im.name}, WorkingDir: "/", Env: []string{"PATH=/bin"},
		Labels: map[string]string{"org.opencontainers.image.title": "workpulse-" + im.name}}
	if len(im.ports) > 0 {
		c.ExposedPorts = map[string]struct{}{}
		for _, p := range im.ports {
			c.ExposedPorts[p] = struct{}{}
		}
	}
	return c
}

// buildImage puts the binary at /<name> on an empty base, an OCI image for
// linux/arch. Timestamps are fixed so the same binary always gives the same
// image digest.
func buildImage(binDir string, im image, arch string) (v1.Image, error) {
	layer, err := binaryLayer(binDir, im)
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cfg.Config = runConfig(im)
	return mutate.ConfigFile(img, cfg)
}

func binaryLayer(binDir string, im image) (v1.Layer, error) {
	files, err := withLibraries(im.hostFiles)
	if err != nil {
		return nil, err
	}
	files[im.name] = filepath.Join(binDir, im.name)
	for _, e := range im.extra {
		files["bin/"+filepath.Base(e)] = filepath.Join(binDir, filepath.Base(e))
	}
	links := map[string]string{}
	for _, l := range im.links {
		links["bin/"+l] = "/" + im.name
	}
	// /tmp exists (world-writable, sticky) for anything that insists on a
	// temporary directory; the chart mounts an emptyDir over it when the
	// root filesystem is read-only.
	dirs := map[string]os.FileMode{"tmp/": 0o1777}
	for _, m := range []map[string]string{files, links} {
		for p := range m {
			for d := filepath.Dir(p); d != "."; d = filepath.Dir(d) {
				dirs[d+"/"] = 0o755
			}
		}
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	// Sorted, so parents come before children and the digest is stable.
	for _, d := range sortedKeys(dirs) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: int64(dirs[d]), ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	for _, p := range sortedKeys(files) {
		data, err := os.ReadFile(files[p])
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: 0o755, Size: int64(len(data)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	for _, p := range sortedKeys(links) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: p, Linkname: links[p], ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layer := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layer)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// isStatic reports whether path is an ELF executable without an
// interpreter, which is all that runs on an empty base image.
func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return f.Type == elf.ET_EXEC || f.Type == elf.ET_DYN
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}

// withLibraries adds to files (image path → host path) the shared
// libraries each one loads, as ldd lists them, at the same paths.
func withLibraries(files map[string]string) (map[string]string, error) {
	all := map[string]string{}
	for dst, src := range files {
		all[dst] = src
		if isStatic(src) {
			continue
		}
		out, err := exec.Command("ldd", src).Output()
		if err != nil {
			return nil, fmt.Errorf("ldd %s: %w", src, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			// "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
			for _, f := range strings.Fields(line) {
				if strings.HasPrefix(f, "/") {
					all[strings.TrimPrefix(f, "/")] = f
					break
				}
			}
		}
	}
	return all, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
