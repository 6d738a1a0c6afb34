package original

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Tables are the original's tables in the order they are imported: each
// refers only to the ones before it.
var Tables = []string{"organizations", "users", "projects", "work_sessions", "activity_logs", "daily_summaries", "alerts"}

// Count is what an import did with one table's rows.
type Count struct {
	// Read is how many rows the original has.
	Read int
	// Imported were stored by this run; Present were already stored by an
	// earlier one (the ids are kept, so a re-run recognises them).
	Imported, Present int
	// Refused counts the rows not stored, by reason.
	Refused map[string]int
	// Adjusted counts the rows stored with a change our rules needed, by
	// the change.
	Adjusted map[string]int

	// handled hears of every row imported, found present or refused: the
	// progress.
	handled func(int)
}

func (c *Count) refuse(reason string) {
	c.Refused[reason]++
	c.handled(1)
}

func (c *Count) adjust(change string) { c.Adjusted[change]++ }

// Refusals is how many rows were refused for any reason.
func (c Count) Refusals() int {
	n := 0
	for _, v := range c.Refused {
		n += v
	}
	return n
}

// Report is a whole import's outcome, table by table.
type Report struct {
	Counts map[string]*Count
	// Notes are findings an administrator should look at that refuse no
	// row, such as organizations with several admins.
	Notes []string
}

func newReport() *Report {
	r := &Report{Counts: map[string]*Count{}}
	for _, t := range Tables {
		r.Counts[t] = &Count{Refused: map[string]int{}, Adjusted: map[string]int{}, handled: func(int) {}}
	}
	return r
}

func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %9s %9s %9s %9s\n", "table", "read", "imported", "present", "refused")
	for _, t := range Tables {
		c := r.Counts[t]
		fmt.Fprintf(&b, "%-16s %9d %9d %9d %9d\n", t, c.Read, c.Imported, c.Present, c.Refusals())
	}
	for _, t := range Tables {
		c := r.Counts[t]
		for _, k := range slices.Sorted(maps.Keys(c.Refused)) {
			fmt.Fprintf(&b, "refused  %s: %d %s\n", t, c.Refused[k], k)
		}
		for _, k := range slices.Sorted(maps.Keys(c.Adjusted)) {
			fmt.Fprintf(&b, "adjusted %s: %d %s\n", t, c.Adjusted[k], k)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}
