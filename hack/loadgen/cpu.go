package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat: the kernel
// reports them in USER_HZ, which is 100 on every architecture Linux runs.
const userHZ = 100

// cpuMeter sums the CPU time (utime + stime) that the stack's processes
// spend over a measured interval, from /proc. The stack is every process
// of one session (make bench starts make dev with setsid, so with-deps.sh,
// devstack with its in-process Kafka broker and front door, and every
// service share its session id) and the PostgreSQL server's processes
// that work for it: the backends connected to the stack's database, the
// server's own processes (WAL writer, checkpointer, background writer,
// autovacuum launcher: pg_stat_activity rows without a database) and the
// postmaster. The load generator is not counted. A backend is named by its
// login role as well ("postgres/workpulse_report"), so that the database's
// share of each service shows apart.
//
// Processes are sampled every 200 ms, so one that starts during the
// interval counts from its start, and one that ends counts up to its
// last sample.
type cpuMeter struct {
	sid     int
	pg      *pgx.Conn // of the maintenance database, to list the server's processes
	stackDB string

	mu      sync.Mutex
	base    map[procKey]int64 // ticks when the interval began
	last    map[procKey]int64 // ticks at the latest sample
	names   map[procKey]string
	stop    context.CancelFunc
	stopped chan struct{}
}

// procKey tells a process from a later one that reuses its pid.
type procKey struct {
	pid   int
	start int64
}

func newCPUMeter(ctx context.Context, sid int, adminURL, stackDB string) (*cpuMeter, error) {
	pg, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL for the CPU meter: %w", err)
	}
	return &cpuMeter{sid: sid, pg: pg, stackDB: stackDB}, nil
}

func (m *cpuMeter) Close() { _ = m.pg.Close(context.Background()) }

// Start begins an interval.
func (m *cpuMeter) Start(ctx context.Context) error {
	now, err := m.sample(ctx)
	if err != nil {
		return err
	}
	m.base, m.last, m.names = map[procKey]int64{}, map[procKey]int64{}, map[procKey]string{}
	for k, st := range now {
		m.base[k] = st.ticks
	}
	m.merge(now)
	sampling, stop := context.WithCancel(ctx)
	m.stop, m.stopped = stop, make(chan struct{})
	go func() {
		defer close(m.stopped)
		clock.Every(sampling, 200*time.Millisecond, func(ctx context.Context) {
			// Not cancelled by Stop: pgx closes a connection whose query is
			// cancelled, and Stop's own sample needs it.
			if s, err := m.sample(context.WithoutCancel(ctx)); err == nil {
				m.merge(s)
			}
		})
	}()
	return nil
}

// cpuUse is the CPU time the stack spent over an interval.
type cpuUse struct {
	Total     time.Duration
	Processes int
	ByName    map[string]time.Duration // by command name (every PostgreSQL process is "postgres")
}

// Stop ends the interval and returns what the stack spent in it.
func (m *cpuMeter) Stop(ctx context.Context) (cpuUse, error) {
	m.stop()
	<-m.stopped
	s, err := m.sample(ctx)
	if err != nil {
		return cpuUse{}, err
	}
	m.merge(s)
	use := cpuUse{Processes: len(m.last), ByName: map[string]time.Duration{}}
	for k, v := range m.last {
		d := time.Duration(v-m.base[k]) * time.Second / userHZ // a process born in the interval has no base: all of it counts
		use.Total += d
		use.ByName[m.names[k]] += d
	}
	return use, nil
}

func (m *cpuMeter) merge(s map[procKey]procStat) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, st := range s {
		m.last[k] = st.ticks
		m.names[k] = st.name
	}
}

// sample reads the CPU ticks of every process of the stack now.
func (m *cpuMeter) sample(ctx context.Context) (map[procKey]procStat, error) {
	pgPIDs, err := m.postgresPIDs(ctx)
	if err != nil {
		return nil, err
	}
	out := map[procKey]procStat{}
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue // it ended between the listing and the read
		}
		role, isPG := pgPIDs[pid]
		if st.session == m.sid || isPG {
			if role != "" {
				st.name += "/" + role
			}
			out[procKey{pid, st.start}] = st
		}
	}
	return out, nil
}

// postgresPIDs are the server processes that work for the stack's
// database, each with the role it is logged in as (none for the server's
// own processes), and the postmaster (the parent of any of them).
func (m *cpuMeter) postgresPIDs(ctx context.Context) (map[int]string, error) {
	rows, err := m.pg.Query(ctx, "SELECT pid, coalesce(usename, '') FROM pg_stat_activity WHERE datname = $1 OR datname IS NULL", m.stackDB)
	if err != nil {
		return nil, err
	}
	out := map[int]string{}
	var pid int32
	var role string
	if _, err := pgx.ForEachRow(rows, []any{&pid, &role}, func() error {
		out[int(pid)] = role
		return nil
	}); err != nil {
		return nil, err
	}
	for p := range out {
		if st, err := readStat(p); err == nil {
			out[st.ppid] = ""
			break
		}
	}
	return out, nil
}

type procStat struct {
	name          string
	ppid, session int
	ticks, start  int64
}

var errStat = errors.New("unexpected /proc/<pid>/stat")

// readStat parses the fields of /proc/<pid>/stat that the meter needs
// (proc(5)): the command name may hold spaces and parentheses, so the
// fields are counted from its closing parenthesis.
func readStat(pid int) (procStat, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(raw)
}

func parseStat(raw []byte) (procStat, error) {
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return procStat{}, errStat
	}
	f := bytes.Fields(raw[i+1:])
	// f[0] is field 3 (state): field n is f[n-3].
	if len(f) < 20 {
		return procStat{}, errStat
	}
	var err error
	num := func(n int) int64 {
		v, e := strconv.ParseInt(string(f[n-3]), 10, 64)
		if e != nil {
			err = e
		}
		return v
	}
	var st procStat
	if j := bytes.IndexByte(raw, '('); j >= 0 && j < i {
		st.name = string(raw[j+1 : i])
	}
	st.ppid, st.session = int(num(4)), int(num(6))
	st.ticks = num(14) + num(15)
	st.start = num(22)
	if err != nil {
		return procStat{}, errStat
	}
	return st, nil
}

// procRSS is a process's name and the peak of its resident memory.
type procRSS struct {
	Name string
	Peak int64 // bytes
}

// peakRSS lists the peak resident memory (VmHWM) of every process of
// session sid, the largest first.
func peakRSS(sid int) []procRSS {
	var out []procRSS
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err != nil || st.session != sid {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", d.Name(), "status"))
		if err != nil {
			continue
		}
		var p procRSS
		for line := range bytes.Lines(raw) {
			k, v, _ := bytes.Cut(line, []byte(":"))
			switch string(k) {
			case "Name":
				p.Name = string(bytes.TrimSpace(v))
			case "VmHWM":
				kb, _ := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
				p.Peak = kb << 10
			}
		}
		if p.Peak > 0 {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b procRSS) int { return cmp.Compare(b.Peak, a.Peak) })
	return out
}
