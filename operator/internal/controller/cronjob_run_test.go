package controller

import (
	"bytes"
	"context"
	"os/exec"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
	"github.com/workpulse/workpulse/operator/internal/storage"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// TestTheOperatorsCronJobsRunAsSpecified stands in for the kubelet: it
// takes the CronJobs the operator created and runs their container (the
// report image's entrypoint with the container's args), with the env the
// pod would get (the Secret resolved through
// the API server), as a local process of the real report binary against
// the real database.
func TestTheOperatorsCronJobsRunAsSpecified(t *testing.T) {
	if suite.reportBin == "" {
		t.Fatal("the report binary could not be built (see the suite's output)")
	}
	e := newParallelEnv(t)
	e.create(e.tenant("jobs", func(s *v1alpha1.WorkPulseTenantSpec) { s.TimeZone = "Europe/Paris" }))
	org := e.waitReady("jobs").Status.OrganizationID
	// Noon two days ago is the same date in the tenant's zone and in UTC,
	// and the catch-up (no --date) summarizes it. The report binary reads
	// the wall clock, so "two days ago" is the wall clock's, and its month
	// is made here: the operator plans months on its own test clock.
	day := clock.Real.Now().UTC().AddDate(0, 0, -2)
	noon := time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, time.UTC)
	if _, err := e.db.Owner.Exec(e.ctx, "SELECT tracking.ensure_month_partition($1, $2::date)", storage.SharedTable, noon); err != nil {
		t.Fatal(err)
	}
	user := "7f3e2a10-0000-4000-8000-000000000001"
	for i := range 10 {
		typ := "active"
		if i%5 == 0 {
			typ = "idle"
		}
		if _, err := e.db.Owner.Exec(e.ctx, `INSERT INTO tracking.activity_logs
			(id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds, url)
			VALUES (gen_random_uuid(), $1, '7f3e2a10-0000-4000-8000-0000000000aa', $2, $3, $4, 60, 'https://example.com/x')`,
			org, user, noon.Add(time.Duration(i)*time.Minute), typ); err != nil {
			t.Fatal(err)
		}
	}

	for _, name := range []string{specs.DailySummaryName(org), specs.IdleDetectionJob, specs.OvertimeCheckJob, specs.DueSummaryJob} {
		out, err := e.runLikeKubelet(e.mustCronJob(name))
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		t.Logf("%s:\n%s", name, out)
	}
	var active, idle int64
	if err := e.db.Owner.QueryRow(e.ctx, `SELECT active_seconds, idle_seconds FROM reporting.daily_summaries
		WHERE organization_id = $1 AND user_id = $2 AND date = $3::date`, org, user, noon).Scan(&active, &idle); err != nil {
		t.Fatalf("no daily summary for %s: %v", noon.Format(time.DateOnly), err)
	}
	if active != 480 || idle != 120 {
		t.Errorf("summary active %d idle %d, want 480 and 120", active, idle)
	}
}

// runLikeKubelet runs the CronJob's single container as a local process:
// the report binary (the image's entrypoint) with the container's args,
// and exactly the env the pod would have.
func (e *testEnv) runLikeKubelet(cj *batchv1.CronJob) ([]byte, error) {
	e.t.Helper()
	args, env := e.container(cj)
	deadline := time.Duration(*cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds) * time.Second
	ctx, cancel := context.WithTimeout(e.ctx, deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.reportBin, args...)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// container returns the args of the CronJob's single container, which
// runs the report image's entrypoint, and the env its pod would get, the
// Secrets resolved through the API server.
func (e *testEnv) container(cj *batchv1.CronJob) ([]string, map[string]string) {
	e.t.Helper()
	c := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	if len(c.Command) != 0 || c.Image != e.cfg.ReportImage {
		e.t.Fatalf("%s runs %q of %s, not the report image's entrypoint", cj.Name, c.Command, c.Image)
	}
	env := map[string]string{}
	for _, v := range c.Env {
		val := v.Value
		if ref := v.ValueFrom; ref != nil {
			if ref.SecretKeyRef == nil {
				e.t.Fatalf("%s: env %s comes from something other than a Secret", cj.Name, v.Name)
			}
			var s corev1.Secret
			if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: cj.Namespace, Name: ref.SecretKeyRef.Name}, &s); err != nil {
				e.t.Fatalf("%s: Secret %s: %v", cj.Name, ref.SecretKeyRef.Name, err)
			}
			val = string(s.Data[ref.SecretKeyRef.Key])
		}
		env[v.Name] = val
	}
	return c.Args, env
}
