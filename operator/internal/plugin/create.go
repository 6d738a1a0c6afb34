package plugin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
)

// tenantOptions are the flags of `tenant create`; zero values leave the CRD's defaults.
type tenantOptions struct {
	name, namespace, displayName, plan, timeZone, storage, schedule, deletionPolicy string
	adminEmail, adminName, installation                                             string
	retentionMonths, premakeMonths                                                  int
}

func runTenantCreate(ctx context.Context, args []string, out IO) error {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		return usageError{"tenant create needs the tenant's name first: kubectl workpulse tenant create NAME --admin-email EMAIL [flags]"}
	}
	o := tenantOptions{name: args[0]}
	fs := flag.NewFlagSet("kubectl workpulse tenant create NAME", flag.ContinueOnError)
	var conn connection
	conn.register(fs)
	fs.StringVar(&o.displayName, "display-name", "", "the organization's name (default: NAME)")
	fs.StringVar(&o.adminEmail, "admin-email", "", "email of the first administrator (required)")
	fs.StringVar(&o.adminName, "admin-name", "", "name of the first administrator (default: the email's local part)")
	fs.StringVar(&o.plan, "plan", "", "free (default), pro or enterprise")
	fs.StringVar(&o.timeZone, "time-zone", "", "IANA time zone of the organization (default UTC)")
	fs.StringVar(&o.storage, "storage", "", "Shared (default) or Dedicated")
	fs.IntVar(&o.retentionMonths, "retention-months", 0, "months of activity kept (Dedicated only)")
	fs.IntVar(&o.premakeMonths, "premake-months", 0, "months of storage made ahead")
	fs.StringVar(&o.schedule, "daily-summary-schedule", "", `cron schedule of the daily summary in the time zone (default "0 0 * * *")`)
	fs.StringVar(&o.deletionPolicy, "deletion-policy", "", "Retain (default) or Delete: what deleting the resource does to the organization")
	fs.StringVar(&o.installation, "installation", "", "the installation whose operator provisions the tenant, its label "+v1alpha1.LabelInstallation+
		" (default: the one installation whose operator watches the namespace; required with --dry-run client)")
	dryRun := fs.String("dry-run", "server", "server: print the manifest once the API server accepted it (nothing is stored); client: print it without asking the cluster; none: create the tenant")
	if ok, err := parse(fs, args[1:], out.Err); !ok {
		return err
	}
	if *dryRun != "server" && *dryRun != "client" && *dryRun != "none" {
		return usageError{fmt.Sprintf("--dry-run must be server, client or none, not %q", *dryRun)}
	}
	if *dryRun == "client" {
		if o.installation == "" {
			return usageError{"--dry-run client asks no cluster which installation the tenant is for: pass --installation"}
		}
		o.namespace = conn.namespace
		t, err := tenantManifest(o)
		if err != nil {
			return usageError{err.Error()}
		}
		return printManifest(out, t)
	}
	c, err := conn.connect()
	if err != nil {
		return err
	}
	o.namespace = c.namespace
	ops, listErr := findOperators(ctx, c.client)
	switch {
	case o.installation == "" && listErr != nil:
		return fmt.Errorf("finding the installation of namespace %s among the operators' Deployments: %w (pass --installation)", o.namespace, listErr)
	case o.installation == "":
		if o.installation, err = installationFor(ops, o.namespace); err != nil {
			return err
		}
	case listErr == nil && !slices.ContainsFunc(ops, func(op operatorInstallation) bool {
		return op.Installation == o.installation && op.watches(o.namespace)
	}):
		// Accepted all the same: the installation may be on its way.
		fmt.Fprintf(out.Err, "Warning: no operator of installation %s watches namespace %s; until one does, nothing provisions the tenant.\n",
			o.installation, o.namespace)
	}
	t, err := tenantManifest(o)
	if err != nil {
		return usageError{err.Error()}
	}
	var opts []client.CreateOption
	if *dryRun == "server" {
		opts = append(opts, client.DryRunAll)
	}
	// Create works on a copy: the server fills in defaults, a uid and timestamps that do not
	// belong in a manifest someone keeps in git.
	if err := c.client.Create(ctx, t.DeepCopy(), opts...); err != nil {
		var status apierrors.APIStatus
		if errors.As(err, &status) {
			return fmt.Errorf("the API server refused the tenant: %s", status.Status().Message)
		}
		return err
	}
	if *dryRun == "none" {
		fmt.Fprintf(out.Out, "workpulsetenant.workpulse.io/%s created in namespace %s\n", t.Name, t.Namespace)
		return nil
	}
	return printManifest(out, t)
}

// tenantManifest builds the WorkPulseTenant o describes. It refuses what the API server would
// refuse anyway when the message can be clearer here (a missing or malformed email, a time zone
// the IANA database does not know); the CRD's own rules are the authority for the rest.
func tenantManifest(o tenantOptions) (*v1alpha1.WorkPulseTenant, error) {
	if msgs := validation.IsDNS1123Subdomain(o.name); len(msgs) > 0 {
		return nil, fmt.Errorf("tenant name %q: %s", o.name, msgs[0])
	}
	if o.adminEmail == "" {
		return nil, errors.New("--admin-email is required: the tenant's first administrator signs in with it")
	}
	addr, err := mail.ParseAddress(o.adminEmail)
	if err != nil || addr.Address != o.adminEmail {
		return nil, fmt.Errorf("--admin-email %q is not an email address", o.adminEmail)
	}
	if o.timeZone != "" {
		if _, err := time.LoadLocation(o.timeZone); err != nil || o.timeZone == "Local" {
			return nil, fmt.Errorf("--time-zone %q is not an IANA time zone (for example Europe/Paris)", o.timeZone)
		}
	}
	if msgs := validation.IsValidLabelValue(o.installation); len(msgs) > 0 {
		return nil, fmt.Errorf("--installation %q: %s", o.installation, msgs[0])
	}
	if o.retentionMonths < 0 || o.premakeMonths < 0 {
		return nil, errors.New("--retention-months and --premake-months count months: they cannot be negative")
	}
	adminName := o.adminName
	if adminName == "" {
		adminName, _, _ = strings.Cut(o.adminEmail, "@")
	}
	displayName := o.displayName
	if displayName == "" {
		displayName = o.name
	}
	// Written up front rather than left to the first operator to claim it: with two installations
	// watching the namespace, that one is whichever reconciles first.
	var labels map[string]string
	if o.installation != "" {
		labels = map[string]string{v1alpha1.LabelInstallation: o.installation}
	}
	return &v1alpha1.WorkPulseTenant{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "WorkPulseTenant"},
		ObjectMeta: metav1.ObjectMeta{Name: o.name, Namespace: o.namespace, Labels: labels},
		Spec: v1alpha1.WorkPulseTenantSpec{
			DisplayName:     displayName,
			Plan:            v1alpha1.Plan(o.plan),
			TimeZone:        o.timeZone,
			Storage:         v1alpha1.StorageIsolation(o.storage),
			RetentionMonths: int32(o.retentionMonths),
			PremakeMonths:   int32(o.premakeMonths),
			DailySummary:    v1alpha1.DailySummary{Schedule: o.schedule},
			Admin:           &v1alpha1.BootstrapAdmin{Email: o.adminEmail, Name: adminName},
			DeletionPolicy:  v1alpha1.DeletionPolicy(o.deletionPolicy),
		},
	}, nil
}

// pruneEmpty drops the empty objects the spec's struct fields leave (thresholds: {}), which
// say nothing: the CRD's defaults apply either way.
func pruneEmpty(m map[string]any) {
	for k, v := range m {
		if child, ok := v.(map[string]any); ok {
			pruneEmpty(child)
			if len(child) == 0 {
				delete(m, k)
			}
		}
	}
}

// printManifest writes t as the YAML someone would commit: no status, no server fields.
func printManifest(out IO, t *v1alpha1.WorkPulseTenant) error {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(t)
	if err != nil {
		return err
	}
	delete(obj, "status")
	if m, ok := obj["metadata"].(map[string]any); ok {
		delete(m, "creationTimestamp")
	}
	pruneEmpty(obj)
	b, err := yaml.Marshal(obj)
	if err != nil {
		return err
	}
	_, err = out.Out.Write(b)
	return err
}
