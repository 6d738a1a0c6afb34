package buildinfo

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestTheEmbeddedVersionIsTheRepositorysVersionFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Version(), strings.TrimSpace(string(b)); got != want {
		t.Fatalf("services/platform/buildinfo/VERSION says %q, the repository's VERSION %q: copy VERSION there", got, want)
	}
}

func TestTheRevisionIsTheBuildsCommitMarkedDirtyWhenTheTreeHadChanges(t *testing.T) {
	settings := func(kv ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{}
		for i := 0; i < len(kv); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return info
	}
	for _, tc := range []struct {
		name   string
		info   *debug.BuildInfo
		ok     bool
		linked string
		want   string
	}{
		{"a clean checkout's build names its commit", settings("vcs.revision", "1a2b3c", "vcs.modified", "false"), true, "", "1a2b3c"},
		{"a build with uncommitted changes is marked dirty", settings("vcs.modified", "true", "vcs.revision", "1a2b3c"), true, "", "1a2b3c-dirty"},
		{"Go's own stamp wins over a linked revision", settings("vcs.revision", "1a2b3c"), true, "ffff", "1a2b3c"},
		{"a build without a stamp names the linked revision", settings("-trimpath", "true"), true, "4d5e6f", "4d5e6f"},
		{"a build with neither has no revision", settings("-trimpath", "true"), true, "", "unknown"},
		{"a binary without build information still names the linked revision", nil, false, "4d5e6f", "4d5e6f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := revision(tc.info, tc.ok, tc.linked); got != tc.want {
				t.Fatalf("revision = %q, want %q", got, tc.want)
			}
		})
	}
}
