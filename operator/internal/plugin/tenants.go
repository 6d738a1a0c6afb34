package plugin

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
	"github.com/workpulse/workpulse/services/platform/clock"
)

func runTenants(ctx context.Context, args []string, out IO, clk clock.Clock) error {
	fs := flag.NewFlagSet("kubectl workpulse tenants", flag.ContinueOnError)
	var conn connection
	conn.register(fs)
	all := fs.Bool("all-namespaces", false, "tenants of every namespace")
	fs.BoolVar(all, "A", false, "tenants of every namespace (shorthand)")
	if ok, err := parse(fs, args, out.Err); !ok {
		return err
	}
	c, err := conn.connect()
	if err != nil {
		return err
	}
	var opts []client.ListOption
	if !*all {
		opts = append(opts, client.InNamespace(c.namespace))
	}
	var tenants v1alpha1.WorkPulseTenantList
	if err := c.client.List(ctx, &tenants, opts...); err != nil {
		return fmt.Errorf("listing WorkPulseTenants: %w", err)
	}
	// A tenant's CronJobs live in the operator's jobs namespace, not the tenant's: find them by the
	// labels the operator puts on them, wherever they are.
	var jobs batchv1.CronJobList
	if err := c.client.List(ctx, &jobs, client.MatchingLabels{specs.LabelManagedBy: specs.ManagedBy}); err != nil {
		return fmt.Errorf("listing the operator's CronJobs: %w", err)
	}
	if len(tenants.Items) == 0 {
		where := "namespace " + c.namespace
		if *all {
			where = "any namespace"
		}
		fmt.Fprintf(out.Err, "No WorkPulseTenants in %s.\n", where)
		return nil
	}
	return printTenants(out.Out, tenantRows(tenants.Items, jobs.Items, clk.Now()))
}

// tenantRow is one line of `kubectl workpulse tenants`.
type tenantRow struct {
	Namespace, Name, Installation, Organization, Ready, Storage, MonthsAhead, NextJobs string
}

// tenantRows describes each tenant, sorted by namespace and name, with the next run of each of
// its CronJobs after now.
func tenantRows(tenants []v1alpha1.WorkPulseTenant, jobs []batchv1.CronJob, now time.Time) []tenantRow {
	rows := make([]tenantRow, 0, len(tenants))
	for i := range tenants {
		t := &tenants[i]
		row := tenantRow{Namespace: t.Namespace, Name: t.Name, Installation: installation(t), Organization: orNone(t.Status.OrganizationID),
			Ready: readiness(t), Storage: storage(t), MonthsAhead: "-", NextJobs: "-"}
		if p := t.Status.Partitions; p != nil {
			row.MonthsAhead = fmt.Sprint(p.MonthsAhead)
		}
		var next []string
		for j := range jobs {
			cj := &jobs[j]
			if cj.Labels[specs.LabelTenantNamespace] == t.Namespace && cj.Labels[specs.LabelTenantName] == t.Name {
				next = append(next, cj.Labels[specs.LabelComponent]+" "+nextRun(cj, now))
			}
		}
		if len(next) > 0 {
			sort.Strings(next)
			row.NextJobs = strings.Join(next, ", ")
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Namespace != rows[j].Namespace {
			return rows[i].Namespace < rows[j].Namespace
		}
		return rows[i].Name < rows[j].Name
	})
	return rows
}

// readiness is the Ready condition as a person reads it: True, or why not. A condition older than
// the spec is not an answer yet.
func readiness(t *v1alpha1.WorkPulseTenant) string {
	c := meta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionReady)
	switch {
	case c == nil:
		return "Unknown (not reconciled yet)"
	case c.ObservedGeneration < t.Generation:
		return fmt.Sprintf("Unknown (generation %d not reconciled yet)", t.Generation)
	case c.Status == metav1.ConditionTrue:
		return "True"
	}
	return fmt.Sprintf("%s (%s)", c.Status, c.Reason)
}

// installation is the installation the tenant's label names, and where its data stays while
// the operator holds a move to another installation.
func installation(t *v1alpha1.WorkPulseTenant) string {
	label, data := t.Labels[v1alpha1.LabelInstallation], t.Annotations[v1alpha1.AnnotationDataInstallation]
	if data != "" && label != "" && data != label {
		return fmt.Sprintf("%s (held: data in %s)", label, data)
	}
	return orNone(label)
}

// storage is where the tenant's rows are, and where they are going while a move is pending.
func storage(t *v1alpha1.WorkPulseTenant) string {
	want := t.Spec.Storage
	if want == "" {
		want = v1alpha1.StorageShared
	}
	switch {
	case t.Status.Storage == "":
		return string(want) + " (pending)"
	case t.Status.Storage != want:
		return fmt.Sprintf("%s (moving to %s)", t.Status.Storage, want)
	}
	return string(want)
}

// nextRun is when cj runs next after now, in its time zone, as "15:04 MST (in 2h5m)"; a date is
// added when it is not within a day.
func nextRun(cj *batchv1.CronJob, now time.Time) string {
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		return "suspended"
	}
	loc := time.UTC // the CronJob controller's zone when none is set
	if cj.Spec.TimeZone != nil {
		l, err := time.LoadLocation(*cj.Spec.TimeZone)
		if err != nil {
			return fmt.Sprintf("unknown time zone %q", *cj.Spec.TimeZone)
		}
		loc = l
	}
	sched, err := cron.ParseStandard(cj.Spec.Schedule)
	if err != nil {
		return fmt.Sprintf("bad schedule %q", cj.Spec.Schedule)
	}
	at := sched.Next(now.In(loc))
	layout := "15:04 MST"
	if at.Sub(now) >= 24*time.Hour {
		layout = "2006-01-02 15:04 MST"
	}
	return fmt.Sprintf("%s (in %s)", at.Format(layout), roughly(at.Sub(now)))
}

// roughly is d to the minute, the way a person says it: 45s is "<1m", 26h5m is "1d2h5m".
func roughly(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	days, hours, minutes := m/(24*60), m/60%24, m%60
	switch {
	case m == 0:
		return "<1m"
	case days > 0:
		return fmt.Sprintf("%dd%dh%dm", days, hours, minutes)
	case hours > 0:
		return fmt.Sprintf("%dh%dm", hours, minutes)
	}
	return fmt.Sprintf("%dm", minutes)
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printTenants(w io.Writer, rows []tenantRow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tNAME\tINSTALLATION\tORGANIZATION\tREADY\tSTORAGE\tMONTHS AHEAD\tNEXT JOBS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Namespace, r.Name, r.Installation, r.Organization, r.Ready, r.Storage, r.MonthsAhead, r.NextJobs)
	}
	return tw.Flush()
}
