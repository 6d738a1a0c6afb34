package main

import (
	"bytes"
	"testing"
)

func TestEachLineOfAServicesOutputIsPrefixedWithItsName(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []string
		want   string
	}{
		{"One line in one write.", []string{"a\n"}, "ingest   | a\n"},
		{"Several lines in one write each get the prefix.", []string{"a\nb\nc\n"}, "ingest   | a\ningest   | b\ningest   | c\n"},
		{"A line split over writes is written once it is complete.", []string{"he", "llo\nwo", "rld\n"}, "ingest   | hello\ningest   | world\n"},
		{"An unfinished line waits for its end.", []string{"a\npartial"}, "ingest   | a\n"},
		{"An empty line keeps its place.", []string{"a\n\nb\n"}, "ingest   | a\ningest   | \ningest   | b\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := &prefixWriter{s: &Stack{out: &out}, name: "ingest"}
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			if out.String() != tc.want {
				t.Errorf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
}
