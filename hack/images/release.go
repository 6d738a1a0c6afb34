package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// sbomType is the media type of the SBOM layer and the artifactType of the
// referrer manifest that carries it.
const sbomType = "application/spdx+json"

// pushRun is one -push: where to, which version and platforms.
type pushRun struct {
	root, registry, version string
	arches                  []string
	values                  string // Helm values file of the digests, "" for none
	log                     io.Writer
	opts                    []remote.Option // the tests' in-process registry needs none either
}

// parsePlatforms turns "linux/amd64,linux/arm64" into the architectures; only
// Linux images are built, since every binary runs on an empty Linux base.
func parsePlatforms(s string) ([]string, error) {
	var arches []string
	for _, p := range strings.Split(s, ",") {
		os, arch, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok || os != "linux" || arch == "" {
			return nil, fmt.Errorf("platform %q: want linux/<arch>", p)
		}
		if !slices.Contains(arches, arch) {
			arches = append(arches, arch)
		}
	}
	return arches, nil
}

// builtFor reports whether im can be built for arch: an image with files of
// this machine has them only for this machine's architecture.
func builtFor(im image, arch string) bool {
	return arch == runtime.GOARCH || (im.host == "" && len(im.hostFiles) == 0)
}

// platformImage is one platform's image of an index and its SBOM.
type platformImage struct {
	arch string
	img  v1.Image
	sbom []byte
}

// built is one image built for every platform it can be.
type built struct {
	im        image
	index     v1.ImageIndex
	platforms []platformImage
}

// buildAll builds the binaries of every selected image for every platform
// (one go build a platform), then each image's OCI index.
func buildAll(ctx context.Context, r pushRun, selected []image) ([]built, error) {
	binDir, err := os.MkdirTemp("", "workpulse-release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(binDir)
	for _, arch := range r.arches {
		var these []image
		for _, im := range selected {
			if builtFor(im, arch) {
				these = append(these, im)
			}
		}
		if err := os.MkdirAll(filepath.Join(binDir, arch), 0o755); err != nil {
			return nil, err
		}
		if err := buildBinaries(ctx, r.root, filepath.Join(binDir, arch), these, arch); err != nil {
			return nil, err
		}
	}
	var out []built
	for _, im := range selected {
		b := built{im: im}
		var adds []mutate.IndexAddendum
		for _, arch := range r.arches {
			if !builtFor(im, arch) {
				fmt.Fprintf(r.log, "images: %s: only for linux/%s (it ships this machine's files)\n", im.name, runtime.GOARCH)
				continue
			}
			dir := filepath.Join(binDir, arch)
			img, err := buildImage(dir, im, arch)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", im.name, arch, err)
			}
			sbom, err := spdx(dir, im, arch, r.version)
			if err != nil {
				return nil, fmt.Errorf("%s %s: SBOM: %w", im.name, arch, err)
			}
			b.platforms = append(b.platforms, platformImage{arch: arch, img: img, sbom: sbom})
			adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
				Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
		}
		b.index = mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.OCIImageIndex)
		out = append(out, b)
	}
	return out, nil
}

// pushAll builds and pushes every selected image with its SBOMs, then
// records the digests.
func pushAll(ctx context.Context, r pushRun, selected []image) error {
	all, err := buildAll(ctx, r, selected)
	if err != nil {
		return err
	}
	opts := append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}, r.opts...)
	digests := map[string]string{}
	for _, b := range all {
		digest, err := push(r, b, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", b.im.name, err)
		}
		digests[b.im.name] = digest.String()
	}
	if r.values == "" {
		return nil
	}
	return writeValues(r.values, r.registry, digests)
}

// push writes b's index to REGISTRY/<name>:<version>, then each platform's
// SBOM as an artifact whose subject is that platform's manifest, so
// `crane`/`oras discover` (the referrers API, or its sha256-<digest> tag
// where the registry lacks it) find it from the image a node pulls.
func push(r pushRun, b built, opts []remote.Option) (v1.Hash, error) {
	ref, err := name.NewTag(r.registry + "/" + b.im.name + ":" + r.version)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.WriteIndex(ref, b.index, opts...); err != nil {
		return v1.Hash{}, err
	}
	for _, p := range b.platforms {
		subject, err := descriptor(p.img)
		if err != nil {
			return v1.Hash{}, err
		}
		if err := pushSBOM(ref.Context(), subject, p.sbom, opts); err != nil {
			return v1.Hash{}, fmt.Errorf("SBOM of linux/%s: %w", p.arch, err)
		}
	}
	digest, err := b.index.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	fmt.Fprintf(r.log, "images: pushed %s@%s (%d platforms, an SPDX SBOM referrer each)\n", ref, digest, len(b.platforms))
	return digest, nil
}

func descriptor(img v1.Image) (v1.Descriptor, error) {
	d, err := img.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	size, err := img.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := img.MediaType()
	return v1.Descriptor{MediaType: mt, Digest: d, Size: size}, err
}

// rawManifest is a manifest already serialized: the SBOM artifact's, which
// go-containerregistry's image types cannot express (an empty config with an
// artifactType).
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// sbomManifest is the OCI 1.1 artifact manifest of an SBOM about subject.
func sbomManifest(subject v1.Descriptor, config, layer v1.Layer) ([]byte, error) {
	desc := func(l v1.Layer, title string) (v1.Descriptor, error) {
		d, err := l.Digest()
		if err != nil {
			return v1.Descriptor{}, err
		}
		size, err := l.Size()
		if err != nil {
			return v1.Descriptor{}, err
		}
		mt, err := l.MediaType()
		var ann map[string]string
		if title != "" {
			ann = map[string]string{"org.opencontainers.image.title": title}
		}
		return v1.Descriptor{MediaType: mt, Digest: d, Size: size, Annotations: ann}, err
	}
	cd, err := desc(config, "")
	if err != nil {
		return nil, err
	}
	ld, err := desc(layer, "sbom.spdx.json")
	if err != nil {
		return nil, err
	}
	return json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: sbomType,
		Config: cd, Layers: []v1.Descriptor{ld}, Subject: &subject})
}

func pushSBOM(repo name.Repository, subject v1.Descriptor, sbom []byte, opts []remote.Option) error {
	config := static.NewLayer([]byte("{}"), types.OCIEmptyJSON)
	layer := static.NewLayer(sbom, sbomType)
	for _, l := range []v1.Layer{config, layer} {
		if err := remote.WriteLayer(repo, l, opts...); err != nil {
			return err
		}
	}
	raw, err := sbomManifest(subject, config, layer)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	return remote.Put(repo.Digest("sha256:"+hex.EncodeToString(sum[:])), rawManifest(raw), opts...)
}

// spdxDoc is the part of an SPDX 2.3 JSON document the SBOM uses.
type spdxDoc struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreation       `json:"creationInfo"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreation struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	SPDXID           string       `json:"SPDXID"`
	Name             string       `json:"name"`
	VersionInfo      string       `json:"versionInfo,omitempty"`
	DownloadLocation string       `json:"downloadLocation"`
	FilesAnalyzed    bool         `json:"filesAnalyzed"`
	Checksums        []spdxSum    `json:"checksums,omitempty"`
	ExternalRefs     []spdxExtRef `json:"externalRefs,omitempty"`
	Comment          string       `json:"comment,omitempty"`
}

type spdxSum struct {
	Algorithm     string `json:"algorithm"`
	ChecksumValue string `json:"checksumValue"`
}

type spdxExtRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

// spdx is the SBOM of one platform's image: for each Go executable in it,
// the module graph `go version -m` prints (debug/buildinfo reads the same
// record), the Go toolchain, and the executable's checksum. Nothing in it
// depends on the time or the machine, so the same commit gives the same
// document.
func spdx(binDir string, im image, arch, version string) ([]byte, error) {
	exes := []string{im.name}
	for _, e := range im.extra {
		exes = append(exes, filepath.Base(e))
	}
	doc := spdxDoc{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT",
		Name: fmt.Sprintf("workpulse-%s %s linux/%s", im.name, version, arch),
		// Creation is pinned to the images' own fixed time for reproducibility.
		CreationInfo: spdxCreation{Created: "1970-01-01T00:00:00Z", Creators: []string{"Tool: workpulse hack/images"}},
	}
	ids := map[string]bool{}
	add := func(p spdxPackage, parent string) {
		if !ids[p.SPDXID] {
			ids[p.SPDXID] = true
			doc.Packages = append(doc.Packages, p)
		}
		doc.Relationships = append(doc.Relationships, spdxRelationship{Element: parent, Type: "DEPENDS_ON", Related: p.SPDXID})
	}
	h := sha256.New()
	for _, exe := range exes {
		path := filepath.Join(binDir, exe)
		info, err := buildinfo.ReadFile(path)
		if err != nil {
			if exe == im.name && im.host != "" {
				continue // a host executable (busybox) carries no Go build record
			}
			return nil, fmt.Errorf("%s: %w", exe, err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		h.Write(sum[:])
		id := spdxID("Binary-" + exe)
		doc.Packages = append(doc.Packages, spdxPackage{
			SPDXID: id, Name: "/" + imagePath(im, exe), VersionInfo: version, DownloadLocation: "NOASSERTION",
			Checksums: []spdxSum{{Algorithm: "SHA256", ChecksumValue: hex.EncodeToString(sum[:])}},
			Comment:   "Go package " + info.Path + ", built with " + info.GoVersion + " for linux/" + arch,
		})
		ids[id] = true
		doc.Relationships = append(doc.Relationships, spdxRelationship{Element: "SPDXRef-DOCUMENT", Type: "DESCRIBES", Related: id})
		add(spdxPackage{SPDXID: spdxID("Go-" + info.GoVersion), Name: "go", VersionInfo: strings.TrimPrefix(info.GoVersion, "go"),
			DownloadLocation: "https://go.dev/dl/", ExternalRefs: []spdxExtRef{purl("stdlib", info.GoVersion)}}, id)
		for _, m := range append([]*debug.Module{&info.Main}, info.Deps...) {
			path, v, comment := module(m)
			add(spdxPackage{SPDXID: spdxID("Module-" + path + "-" + v), Name: path, VersionInfo: v,
				DownloadLocation: "NOASSERTION", Comment: comment, ExternalRefs: []spdxExtRef{purl(path, v)}}, id)
		}
	}
	doc.DocumentNamespace = fmt.Sprintf("https://github.com/workpulse/workpulse/spdx/%s/%s/linux-%s/%x", im.name, version, arch, h.Sum(nil))
	return json.MarshalIndent(doc, "", "  ")
}

// imagePath is where exe lies in im's image (see binaryLayer).
func imagePath(im image, exe string) string {
	if exe == im.name {
		return exe
	}
	return "bin/" + exe
}

// module is one module of a build record, its replacement applied; the
// workspace's own modules have no version but "(devel)".
func module(m *debug.Module) (path, version, comment string) {
	for m.Replace != nil {
		m = m.Replace
	}
	version = m.Version
	if version == "" {
		version = "(devel)"
	}
	if m.Sum != "" {
		comment = "go.sum " + m.Sum
	}
	return m.Path, version, comment
}

func purl(path, version string) spdxExtRef {
	return spdxExtRef{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl",
		ReferenceLocator: "pkg:golang/" + path + "@" + version}
}

// spdxID makes s a valid SPDX identifier (letters, digits, '.' and '-').
func spdxID(s string) string {
	var b strings.Builder
	b.WriteString("SPDXRef-")
	for _, r := range s {
		if r == '.' || r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// writeValues records the pushed digests as a Helm values file, so that
// `helm install -f FILE` runs exactly the images this release pushed.
func writeValues(path, registry string, digests map[string]string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by make release (hack/images -push): the images it pushed, by digest.\n")
	fmt.Fprintf(&b, "image:\n  registry: %q\n  digests:\n", registry)
	for _, n := range sortedKeys(digests) {
		fmt.Fprintf(&b, "    %s: %q\n", n, digests[n])
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
