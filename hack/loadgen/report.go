package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

const (
	sectionTitle = "## Tracking (session + ingest)"
	latestTitle  = "### Latest run: "
	earlierTitle = "### Earlier runs"
)

// method is the section's account of what is measured, rewritten on each
// run with the figures.
const method = `Command: ` + "`make bench`" + ` (or ` + "`hack/bench.sh tracking`" + `). It starts ` + "`make dev`" + ` as it ships
(default log level, every service, the front door on :3000) on a fresh database of its own
(` + "`workpulse_bench`" + `), and ` + "`hack/loadgen`" + ` measures, one after another, five loads through the front door, each
on sessions of its own: one organization with 64 agents (64 concurrent single posts spread over 64
sessions); the same with live numbers read (every member reads today's ` + "`GET /api/reports/daily`" + `,
computed from the activity on every read, every 5 s (` + "`-live-read-every`" + `), and a probe agent of the
organization posts one activity every 200 ms and polls its report every 20 ms until it counts it:
the post-to-report latency, from the post's 201); 64 organizations with one agent each (64 concurrent posters, one per tenant); 64 concurrent
posters on one session; and bulk uploads (8 uploaders, each on its own session, 1,000-item batches).
` + "`BENCH_SECONDS`" + ` sets the duration of each single-post load and of pgbench (30 by default).

- **CPU per accepted post** is the CPU time (utime + stime from ` + "`/proc/<pid>/stat`" + `) that the stack spent
  over the load, divided by the posts it accepted (by the activities stored, for bulk). The stack is
  every process of make dev's session (make bench starts it with ` + "`setsid`" + `: devstack with the front door
  and the in-process Kafka broker, the five services, the scheduled report commands) and the
  PostgreSQL server's processes that work for it: the backends connected to its database, the
  server's own processes (WAL writer, checkpointer, background writer, autovacuum launcher) and the
  postmaster. Processes are sampled every 200 ms, so one that starts during a load counts from its
  start. Redis and the load generator are not counted. On a machine shared with other work, the
  server's own processes also work for other databases. By process, a backend is named by the
  role it logs in as (` + "`postgres/workpulse_ingest`" + `: the database's work for that service); plain
  ` + "`postgres`" + ` is the server's own processes and the postmaster.
- **Exactness**: after each load, every one of its sessions is read back; its active and idle totals
  must equal the seconds the API accepted (201) for it.
- **Anchors**, measured in the same run on the same PostgreSQL, in a scratch database with the same
  schema: pgbench of the one-post transaction (insert one activity, add it to its session's total:
  64 sessions, 32 clients, one commit each) and COPY of 500,000 activity rows. Absolute figures move
  from machine to machine; the ratios to the anchors much less.

Targets: at least 3,000 req/s with p99 at most 50 ms and at least 1.0 × the pgbench rate for the
one-organization and the 64-organization loads; with live numbers read, at least 0.9 × the
one-organization throughput of the same run and a post-to-report p99 of at most 2 s; p99 at most 100 ms on one session; at least 100,000
activities/s and 0.6 × COPY in bulk; at most 300 µs of CPU per accepted single post; at most 100 MB
of memory per service; nothing lost or counted twice.
`

func report(c config, runs []measured, anc anchors, rss []procRSS, old string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s\n", sectionTitle, method)
	fmt.Fprintf(&b, "%s%s\n\n", latestTitle, c.Clock.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Against `%s` (%d CPUs, %s). The load average (1, 5 and 15 minutes) counts everything the host ran.\n\n",
		c.Target, runtime.NumCPU(), runtime.Version())
	b.WriteString("| load | throughput | latency p50 / p99 | stack CPU per accepted post | vs anchor | errors | exactness | load average after |\n|---|---|---|---|---|---|---|---|\n")
	for _, m := range runs {
		what, rate, ratio := fmt.Sprintf("%s: %d concurrent single posts, %s", m.Title, c.Concurrency, c.Duration),
			fmt.Sprintf("**%.0f req/s** (%d posts)", m.Rate, m.OK), ratioTo(m.Rate, anc.PgbenchTPS, "pgbench")
		lat := fmt.Sprintf("%s / %s", ms(m.P50), ms(m.P99))
		if m.Name == loadBulk {
			what = m.Title
			rate = fmt.Sprintf("**%.0f activities/s** (%d in %s)", m.Rate, m.Uploaded, m.Elapsed.Round(time.Millisecond))
			ratio = ratioTo(m.Rate, anc.CopyRate, "COPY")
			lat += " per batch"
		}
		cpu := "not measured"
		if m.CPU.Total > 0 {
			cpu = fmt.Sprintf("**%d µs** (%.1f s over %d processes)", m.PerPost(m.CPU.Total).Microseconds(), m.CPU.Total.Seconds(), m.CPU.Processes)
		}
		exact := fmt.Sprintf("**exact** (%d s)", m.Exact.CountedSeconds)
		if !m.Exact.OK {
			exact = fmt.Sprintf("**NOT exact**: %d s accepted, %d counted", m.Exact.AcceptedSeconds, m.Exact.CountedSeconds)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d | %s | %s |\n", what, rate, lat, cpu, ratio, m.Errors, exact, m.Load)
	}
	if line := liveLine(runs); line != "" {
		fmt.Fprintf(&b, "\n%s\n", line)
	}
	if len(runs) > 0 && runs[0].CPU.Total > 0 {
		b.WriteString("\nThe stack's CPU per accepted post (per stored activity in bulk) by process:\n\n")
		for _, m := range runs {
			fmt.Fprintf(&b, "- %s: %s\n", m.Title, m.ByProcess())
		}
	}
	if anc.PgbenchTPS > 0 {
		fmt.Fprintf(&b, "\nAnchors, just before the loads: pgbench of the one-post transaction **%.0f tps** (32 clients, %s); COPY of %d activity rows **%.0f rows/s** (%s); load average after %s.\n",
			anc.PgbenchTPS, c.Duration, anc.CopyRows, anc.CopyRate, anc.CopyElapsed.Round(time.Millisecond), anc.Load)
	}
	if len(rss) > 0 {
		var parts []string
		for _, p := range rss {
			parts = append(parts, fmt.Sprintf("%s %d MiB", p.Name, p.Peak>>20))
		}
		fmt.Fprintf(&b, "\nPeak memory (VmHWM) of the stack's processes over the run: %s.\n", strings.Join(parts, ", "))
	}
	for _, m := range runs {
		if m.FirstError != "" {
			fmt.Fprintf(&b, "\nFirst error of %s: `%s`\n", m.Name, m.FirstError)
		}
	}
	if c.Note != "" {
		fmt.Fprintf(&b, "\n%s\n", c.Note)
	}
	if h := history(old); h != "" {
		fmt.Fprintf(&b, "\n%s\n\n%s", earlierTitle, h)
	}
	return b.String()
}

// history is what the new section keeps of the old one: its latest run,
// demoted to the first of the earlier runs, and the earlier runs. An old
// section without a latest run is history as a whole.
func history(old string) string {
	body := strings.TrimPrefix(old, sectionTitle+"\n")
	var latest, earlier string
	i := strings.Index(body, "\n"+latestTitle)
	if i < 0 {
		earlier = body
	} else {
		latest = body[i+1:]
		if j := strings.Index(latest, "\n"+earlierTitle+"\n"); j >= 0 {
			latest, earlier = latest[:j+1], latest[j+1+len(earlierTitle)+1:]
		}
		latest = "#### Run of " + strings.TrimPrefix(latest, latestTitle)
	}
	parts := []string{}
	for _, p := range []string{latest, earlier} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "\n\n") + "\n"
}

func ratioTo(v, anchor float64, name string) string {
	if anchor == 0 {
		return "no anchor"
	}
	return fmt.Sprintf("**%.2f ×** %s", v/anchor, name)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// readSection returns the section titled title of path (up to the next
// "## " heading), or "".
func readSection(path, title string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	doc := string(raw)
	i := strings.Index(doc, title+"\n")
	if i < 0 {
		return ""
	}
	doc = doc[i:]
	if j := strings.Index(doc[len(title):], "\n## "); j >= 0 {
		doc = doc[:len(title)+j+1]
	}
	return doc
}

// writeSection replaces the section titled title in path (up to the next
// "## " heading) with section, or appends it, keeping the rest intact.
func writeSection(path, title, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	doc := string(old)
	if doc == "" {
		doc = "# Benchmarks\n"
	}
	section = strings.TrimRight(section, "\n") + "\n"
	if i := strings.Index(doc, title+"\n"); i >= 0 {
		end := len(doc)
		if j := strings.Index(doc[i+len(title):], "\n## "); j >= 0 {
			end = i + len(title) + j + 1
			section += "\n"
		}
		doc = doc[:i] + section + doc[end:]
	} else {
		doc = strings.TrimRight(doc, "\n") + "\n\n" + section
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}

// liveLine compares the live load with the one-organization load of the
// same run and gives the post-to-report latency.
func liveLine(runs []measured) string {
	var plain, live *measured
	for i := range runs {
		switch runs[i].Name {
		case loadOneOrg:
			plain = &runs[i]
		case loadOneOrgLive:
			live = &runs[i]
		}
	}
	if live == nil || live.Live == nil {
		return ""
	}
	l := live.Live
	s := fmt.Sprintf("Live numbers: %d reads of today's report during the live load (%d errors); post-to-report latency **p50 %s, p99 %s** (max %s) over %d probes (%d errors).",
		l.Reads, l.ReadErrors, ms(l.ProbeP50), ms(l.ProbeP99), ms(l.ProbeMax), l.Probes, l.ProbeErrors)
	if plain != nil && plain.Rate > 0 {
		s += fmt.Sprintf(" Single-post throughput with them **%.0f req/s**, without (one-organization load) **%.0f req/s**: **%.2f ×**.",
			live.Rate, plain.Rate, live.Rate/plain.Rate)
	}
	if l.FirstError != "" {
		s += fmt.Sprintf(" First error: `%s`.", l.FirstError)
	}
	return s
}
