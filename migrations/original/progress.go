package original

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Progress shows how far the import is. On a terminal it is a bar
// redrawn in place; elsewhere (a Job's log, a pipe) one line per table
// done, since redrawn lines would only fill the log.
type Progress struct {
	w        io.Writer
	terminal bool
	table    string
	total    int
	done     int
	drawn    int // the done count last drawn, to redraw at most every percent
}

// NewProgress writes to w, as a bar when w is a terminal.
func NewProgress(w io.Writer) *Progress {
	p := &Progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *Progress) start(table string, total int) {
	p.table, p.total, p.done, p.drawn = table, total, 0, -1
	p.draw()
}

func (p *Progress) add(n int) {
	p.done += n
	if p.total == 0 || (p.done-p.drawn)*100 >= p.total || p.done == p.total {
		p.draw()
	}
}

func (p *Progress) finish() {
	if p.terminal {
		p.draw()
		fmt.Fprintln(p.w)
		return
	}
	fmt.Fprintf(p.w, "%s: %d of %d rows read\n", p.table, p.done, p.total)
}

func (p *Progress) draw() {
	if !p.terminal {
		return
	}
	p.drawn = p.done
	const width = 30
	filled := width
	if p.total > 0 {
		filled = min(width, p.done*width/p.total)
	}
	fmt.Fprintf(p.w, "\r%-16s [%s%s] %d/%d", p.table, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.done, p.total)
}
