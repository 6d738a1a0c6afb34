package main

import (
	"context"
	"io"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/workpulse/workpulse/test/testkit"
)

// burner waits for a line on its input, spins the shell's arithmetic (no
// child processes) and then stays alive, idle, so that its whole CPU time
// can be read after the interval.
func burner(t *testing.T, ownSession bool) (*exec.Cmd, func()) {
	t.Helper()
	cmd := exec.Command("sh", "-c", "read go; i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; exec sleep 60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: ownSession}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, func() { _, _ = io.WriteString(in, "go\n") }
}

func ticksOf(t *testing.T, pid int) time.Duration {
	t.Helper()
	st, err := readStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(st.ticks) * time.Second / userHZ
}

func TestTheCPUMeterCountsTheStacksSessionAndItsDatabasesBackendsOnly(t *testing.T) {
	ctx := context.Background()
	db := testkit.NewDB(t)
	conn, err := db.Owner.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var backend int
	var role string
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid(), current_user").Scan(&backend, &role); err != nil {
		t.Fatal(err)
	}
	backendBefore := ticksOf(t, backend)

	// The stack's process is the leader of a session of its own, as make
	// bench's setsid makes it.
	stack, startStack := burner(t, true)
	outside, startOutside := burner(t, false)
	m, err := newCPUMeter(ctx, stack.Process.Pid, testkit.AdminURL(), db.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	startStack()
	startOutside()
	if _, err := conn.Exec(ctx, "SELECT count(*) FROM generate_series(1, 3000000)"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // both burners are done and asleep well within this
	use, err := m.Stop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := use.Total
	counted := ticksOf(t, stack.Process.Pid) + ticksOf(t, backend) - backendBefore
	notCounted := ticksOf(t, outside.Process.Pid)
	if notCounted < 100*time.Millisecond || counted < 100*time.Millisecond {
		t.Fatalf("the burners burnt too little to tell (%s in the stack and its database, %s outside)", counted, notCounted)
	}
	if got < counted {
		t.Errorf("the meter counted %s; the stack's process and its database's backend alone spent %s", got, counted)
	}
	if got >= counted+notCounted {
		t.Errorf("the meter counted %s: the %s of a process outside the stack's session too (the stack spent %s)", got, notCounted, counted)
	}
	// The backend is named by its login role, apart from the server's own processes.
	if use.ByName["sleep"] < ticksOf(t, stack.Process.Pid) || use.ByName["postgres/"+role] < ticksOf(t, backend)-backendBefore {
		t.Errorf("by name %v: the stack's process (now sleep) spent %s, its database's backend (as %s) %s", use.ByName, ticksOf(t, stack.Process.Pid), role, ticksOf(t, backend)-backendBefore)
	}
}
