package logging_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/logging"
)

// recorder keeps each write it gets.
type recorder struct {
	mu     sync.Mutex
	writes []string
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.writes...)
}

func lines(n int, width int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strings.Repeat("x", width-1) + "\n"
	}
	return out
}

func TestBufferedWritesLinesTogether(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		interval time.Duration
		lines    []string
		close    bool
		// most is how many writes the underlying writer may get for
		// them all, and within how long.
		most   int
		within time.Duration
	}{
		{"A hundred lines reach the writer in one write, or two if an interval ends among them.", 50 * time.Millisecond, lines(100, 80), false, 2, 5 * time.Second},
		{"Close writes what waits, without waiting for the interval.", time.Hour, lines(3, 80), true, 1, 0},
		{"A full buffer is written at once, without waiting for the interval.", time.Hour, lines(2, 64<<10), false, 2, 0},
		{"Nothing written means no write.", 10 * time.Millisecond, nil, false, 0, 100 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			b := logging.NewBuffered(rec, c.interval)
			for _, l := range c.lines {
				if _, err := b.Write([]byte(l)); err != nil {
					t.Fatal(err)
				}
			}
			if c.close {
				if err := b.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				defer b.Close()
			}
			want := strings.Join(c.lines, "")
			for watch := clock.Start(); len(strings.Join(rec.got(), "")) < len(want) && watch.Elapsed() < c.within; {
				time.Sleep(5 * time.Millisecond)
			}
			if want == "" {
				time.Sleep(c.within) // intervals pass with nothing to write
			}
			got := rec.got()
			if joined := strings.Join(got, ""); joined != want {
				t.Fatalf("the writes carry %d bytes, want the %d written, in order", len(joined), len(want))
			}
			if len(got) > c.most {
				t.Errorf("%d writes, want at most %d", len(got), c.most)
			}
		})
	}
}

func TestAfterCloseLinesGoThroughAtOnce(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	b := logging.NewBuffered(&out, time.Hour)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write([]byte("late\n")); err != nil {
		t.Fatal(err)
	}
	if out.String() != "late\n" {
		t.Errorf("after Close the writer holds %q, want the line at once", out.String())
	}
}
