package logging

import (
	"io"
	"sync"
	"time"
)

// Buffered gathers the lines written to it and hands them to the
// underlying writer together, every interval or once bufferedLimit bytes
// wait, instead of one write per line. Under load every request logs a
// line: one system call for each, and one wake-up of whatever reads the
// other end of the pipe (the container runtime, make dev), cost a service
// more than the line's encoding. A line waits at most the interval; Close
// writes what is left, and from then on lines go through at once.
type Buffered struct {
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	closed bool
	stop   chan struct{}
	done   chan struct{}
}

// bufferedLimit is how much Buffered holds before writing at once.
const bufferedLimit = 64 << 10

// NewBuffered writes to w what is written to it, at least every interval.
func NewBuffered(w io.Writer, interval time.Duration) *Buffered {
	b := &Buffered{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushEvery(interval)
	return b
}

// Write keeps a copy of p for the next flush; it fails only when it
// writes itself (the buffer is full, or Buffered is closed) and that fails.
func (b *Buffered) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= bufferedLimit {
		return len(p), b.flushLocked()
	}
	return len(p), nil
}

// Close writes what waits and stops the flushes.
func (b *Buffered) Close() error {
	close(b.stop)
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return b.flushLocked()
}

func (b *Buffered) flushEvery(interval time.Duration) {
	defer close(b.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.mu.Lock()
			_ = b.flushLocked()
			b.mu.Unlock()
		}
	}
}

func (b *Buffered) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	if cap(b.buf) > 4*bufferedLimit {
		b.buf = nil // a burst's buffer is not kept for good
	} else {
		b.buf = b.buf[:0]
	}
	return err
}
