package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

func TestHistoryKeepsTheLatestRunAndEveryEarlierOne(t *testing.T) {
	for _, tc := range []struct{ name, old, want string }{
		{"A missing section has no history.", "", ""},
		{"A section of the older format is history as a whole.", sectionTitle + "\nWritten on day 1.\n\n| run |\n",
			"Written on day 1.\n\n| run |\n"},
		{"The latest run becomes the first earlier run, and the method text goes.",
			sectionTitle + "\n\nMethod.\n\n" + latestTitle + "day 2\n\n| day 2 |\n\n" + earlierTitle + "\n\n#### Run of day 1\n\n| day 1 |\n",
			"#### Run of day 2\n\n| day 2 |\n\n#### Run of day 1\n\n| day 1 |\n"},
		{"A latest run without earlier ones is all the history.",
			sectionTitle + "\n\nMethod.\n\n" + latestTitle + "day 1\n\n| day 1 |\n",
			"#### Run of day 1\n\n| day 1 |\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := history(tc.old); got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestParseStatReadsTheFieldsAfterTheCommandName(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      procStat
	}{
		{"A plain name.", "4242 (ingest) S 1 4242 4200 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 123456 1000 100",
			procStat{name: "ingest", ppid: 1, session: 4200, ticks: 325, start: 123456}},
		{"A name with spaces and parentheses.", "7 (postgres: a) b) R 5 7 5 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 99 0 0",
			procStat{name: "postgres: a) b", ppid: 5, session: 5, ticks: 7, start: 99}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat([]byte(tc.raw))
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	if _, err := parseStat([]byte("12 (cut short) S 1")); err == nil {
		t.Error("a truncated stat line was accepted")
	}
}

func TestLiveLineComparesTheLiveLoadWithTheOneOrganizationLoadOfTheSameRun(t *testing.T) {
	plain := measured{load: load{Name: loadOneOrg}, result: result{Rate: 2000}}
	live := measured{load: load{Name: loadOneOrgLive}, result: result{Rate: 1900},
		Live: &liveResult{Reads: 640, Probes: 90, ProbeP50: 12 * time.Millisecond, ProbeP99: 40 * time.Millisecond, ProbeMax: 55 * time.Millisecond}}
	for _, tc := range []struct {
		name string
		runs []measured
		want string
	}{
		{"Without a live load there is no line.", []measured{plain}, ""},
		{"The live load is compared with the one-organization load.", []measured{plain, live},
			"Live numbers: 640 reads of today's report during the live load (0 errors); post-to-report latency **p50 12.0 ms, p99 40.0 ms** (max 55.0 ms) over 90 probes (0 errors). " +
				"Single-post throughput with them **1900 req/s**, without (one-organization load) **2000 req/s**: **0.95 ×**."},
		{"A live load alone gives its latency only.", []measured{live},
			"Live numbers: 640 reads of today's report during the live load (0 errors); post-to-report latency **p50 12.0 ms, p99 40.0 ms** (max 55.0 ms) over 90 probes (0 errors)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := liveLine(tc.runs); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestRunsCloseTogetherRegisterFromAddressesOfTheirOwn(t *testing.T) {
	const width = 68 // one-org, one-session, bulk, 64 organizations, one-org-live
	addresses := func(minute int64) map[string]bool {
		set := map[string]bool{}
		for i := range width {
			set[officeAddress(minute, width, i)] = true
		}
		return set
	}
	minute := int64(29_906_000) // 2026-11-10 16:40 UTC
	tests := []struct {
		name          string
		first, second int64
	}{
		{"Runs a minute apart register from no address in common.", minute, minute + 1},
		{"Runs two minutes apart register from no address in common.", minute, minute + 2},
		{"Runs across the end of the ranges register from no address in common.", 507, 508},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := addresses(tt.first), addresses(tt.second)
			if len(a) != width || len(b) != width {
				t.Fatalf("a run's offices share addresses: %d and %d distinct of %d", len(a), len(b), width)
			}
			for addr := range a {
				if b[addr] {
					t.Errorf("both runs register from %s", addr)
				}
				if !strings.HasPrefix(addr, "198.51.100.") && !strings.HasPrefix(addr, "203.0.113.") {
					t.Errorf("%s is outside the documentation ranges", addr)
				}
			}
		})
	}
}
