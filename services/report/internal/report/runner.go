package report

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// Runner runs jobs triggered through the API inside the service process,
// recording each one's state in reporting.jobs. A running job beats a
// heartbeat; one whose process died stops beating and reads as failed.
type Runner struct {
	db   *pgxpool.Pool
	jobs *Jobs
	log  *slog.Logger
	// clock stamps the jobs' states and heartbeats and tells which stopped
	// beating.
	clock  clock.Clock
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// Heartbeat is how often a running job records that it is alive.
	Heartbeat time.Duration
}

// staleAfter is how long a running job may miss heartbeats before it
// reads as failed.
const staleAfter = time.Minute

// NewRunner returns a runner of jobs.
func NewRunner(db *pgxpool.Pool, jobs *Jobs, log *slog.Logger, clk clock.Clock) *Runner {
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{db: db, jobs: jobs, log: log, clock: clk, ctx: ctx, cancel: cancel, Heartbeat: 15 * time.Second}
}

// Run waits for ctx to end, then cancels running jobs and waits for them
// to record how they ended; it is an app.Service worker.
func (r *Runner) Run(ctx context.Context) error {
	<-ctx.Done()
	r.Stop()
	return nil
}

// Stop cancels running jobs and waits for them.
func (r *Runner) Stop() {
	r.cancel()
	r.wg.Wait()
}

// JobView is a job as GET /api/jobs/{id} shows it.
type JobView struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	State      string          `json:"state"`
	Params     json.RawMessage `json:"params"`
	Result     json.RawMessage `json:"result"`
	Error      *string         `json:"error"`
	CreatedAt  time.Time       `json:"created_at"`
	StartedAt  *time.Time      `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
}

// Start records a job of org and runs fn for it in the background; fn
// may report its progress, which GET /api/jobs/{id} shows as the result
// until the job ends. While
// a job of jobType is already queued or running for org, it starts
// nothing and returns that job (started false): triggers cannot pile up
// jobs that would each wait for the one before, holding a connection.
func (r *Runner) Start(ctx context.Context, org, requestedBy, jobType string, params any, fn func(ctx context.Context, progress func(any)) (any, error)) (id string, started bool, err error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return "", false, err
	}
	err = pg.InOrg(ctx, r.db, org, func(tx pgx.Tx) error {
		var err error
		id, started, err = startJob(ctx, tx, uuid.NewString(), org, jobType, raw, requestedBy, r.clock.Now())
		return err
	})
	if err != nil || !started {
		return id, false, err
	}
	r.wg.Add(1)
	go r.run(org, id, jobType, fn)
	return id, true, nil
}

func (r *Runner) run(org, id, jobType string, fn func(ctx context.Context, progress func(any)) (any, error)) {
	defer r.wg.Done()
	ctx := r.ctx
	// State updates must land even when the job is cancelled at shutdown.
	record := context.WithoutCancel(ctx)
	r.update(record, org, id, jobStartedSQL, r.clock.Now())
	beat, stopBeat := context.WithCancel(ctx)
	go clock.Every(beat, r.Heartbeat, func(ctx context.Context) { r.update(ctx, org, id, jobBeatSQL, r.clock.Now()) })
	result, err := fn(ctx, func(p any) {
		if raw, err := json.Marshal(p); err == nil {
			r.update(record, org, id, jobProgressSQL, raw, r.clock.Now())
		}
	})
	stopBeat()
	if err != nil {
		msg := "the job failed; see the service log"
		if errors.Is(err, context.Canceled) {
			msg = "the job was interrupted by a shutdown"
		}
		r.log.Error("triggered job failed", "job", jobType, "job_id", id, "organization_id", org, "err", err)
		r.update(record, org, id, jobFailedSQL, msg, r.clock.Now())
		return
	}
	raw, err := json.Marshal(result)
	if err != nil {
		raw = []byte("null")
	}
	r.log.Info("triggered job done", "job", jobType, "job_id", id, "organization_id", org)
	r.update(record, org, id, jobSucceededSQL, raw, r.clock.Now())
}

func (r *Runner) update(ctx context.Context, org, id, sql string, args ...any) {
	err := pg.InOrg(ctx, r.db, org, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, sql, append([]any{id}, args...)...)
		return err
	})
	if err != nil && ctx.Err() == nil {
		r.log.Error("could not record job state", "job_id", id, "err", err)
	}
}

// Get returns a job of org.
func (r *Runner) Get(ctx context.Context, org, id string) (JobView, error) {
	var j JobView
	err := pg.InOrg(ctx, r.db, org, func(tx pgx.Tx) error {
		var err error
		j, err = selectJob(ctx, tx, id, r.clock.Now())
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return j, ErrJobNotFound
	}
	return j, err
}
