package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteSectionReplacesOnlyItsOwnSection(t *testing.T) {
	for _, tc := range []struct{ name, before, want string }{
		{"A missing file gets a title and the section.", "",
			"# Benchmarks\n\n## Tracking (session + ingest)\nnew\n"},
		{"A file without the section keeps everything and gains it at the end.", "# Benchmarks\n\n## Reports\nr\n",
			"# Benchmarks\n\n## Reports\nr\n\n## Tracking (session + ingest)\nnew\n"},
		{"The section in the middle is replaced and the sections around it stay.", "# B\n\n## Reports\nr\n\n## Tracking (session + ingest)\nold\nold\n\n## Realtime\nx\n",
			"# B\n\n## Reports\nr\n\n## Tracking (session + ingest)\nnew\n\n## Realtime\nx\n"},
		{"The section at the end is replaced.", "# B\n\n## Tracking (session + ingest)\nold\n",
			"# B\n\n## Tracking (session + ingest)\nnew\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "benchmarks.md")
			if tc.before != "" {
				if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := writeSection(path, sectionTitle, sectionTitle+"\nnew\n"); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}
