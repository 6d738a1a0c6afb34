package controller

import (
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	activity "github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// Config is the operator's configuration, read from the environment.
type Config struct {
	// DatabaseURL is the database, which the operator logs in to as
	// DatabaseLogin: its own role (<prefix>_operator), never the schema
	// owner. It changes the partition trees through the owner's functions.
	DatabaseURL     string
	DatabaseLogin   pg.Login
	DatabaseMaxConn int

	// AuthURL is the auth service's base URL; the internal tenant API
	// lives under /internal/tenants, which no Ingress routes.
	AuthURL       string
	OperatorToken string
	AuthTimeout   time.Duration

	// JobsNamespace holds every CronJob the operator creates, next to the
	// report database Secret they read: tenants live in their own
	// namespaces, the jobs run with the installation.
	JobsNamespace string
	// ReportImage runs the report job commands.
	ReportImage           string
	ReportImagePullPolicy string
	// ReportDatabaseSecret (in JobsNamespace) holds the report role's
	// connection string under ReportDatabaseSecretKey; the jobs log in as
	// ReportDatabaseUser with the password under "password" in
	// ReportDatabasePasswordSecret.
	ReportDatabaseSecret         string
	ReportDatabaseSecretKey      string
	ReportDatabaseUser           string
	ReportDatabasePasswordSecret string
	JobCPURequest                resource.Quantity
	JobMemoryRequest             resource.Quantity
	JobCPULimit                  resource.Quantity
	JobMemoryLimit               resource.Quantity
	// JobServiceAccount runs the jobs' pods; its token is not mounted.
	JobServiceAccount string
	// InstallOwner names the Deployment (in JobsNamespace, the operator's
	// own) that owns the install-wide CronJobs, so that removing the
	// installation (helm uninstall) garbage-collects them. Empty: they stay.
	InstallOwner string

	// Storage is the installation's storage policy for the shared tree
	// every Shared tenant's and self-registered organization's rows live
	// in (STORAGE_PREMAKE_MONTHS, ACTIVITY_WINDOW_DAYS, as migrate reads
	// them) and its retention, SHARED_RETENTION_MONTHS, which organizations
	// without their own keep too; months of the widest accepted window are
	// kept whatever it says.
	Storage activity.Policy
	// ResyncPeriod is how often a tenant is looked at again without any
	// change, so months roll over and retention applies.
	ResyncPeriod time.Duration
	// DeleteBatchSize bounds each DELETE when a Shared tenant's rows are
	// removed, so deletion never holds long locks.
	DeleteBatchSize int
	// MaxConcurrentReconciles bounds parallel reconciles.
	MaxConcurrentReconciles int
	// WatchNamespaces limits the tenants watched (empty: all namespaces).
	WatchNamespaces []string
	// Installation is the installation this operator reconciles tenants
	// for (INSTALLATION, the chart's <namespace>.<release>): those labelled
	// v1alpha1.LabelInstallation with it, and those without the label,
	// which it claims first (see claimOf). Empty: the tenants without the
	// label, unclaimed, and never another installation's.
	Installation string
}

// LoadConfig reads the configuration; env.Err reports every problem.
func LoadConfig(env *config.Env) Config {
	c := Config{
		DatabaseURL:     env.URL("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/workpulse?sslmode=disable", "postgres", "postgresql"),
		DatabaseMaxConn: env.Int("DATABASE_MAX_CONNS", 8, 2, 100),
		// The password is a secret: never logged.
		DatabaseLogin:                pg.Login{User: env.String("DATABASE_USER", "workpulse_operator"), Password: env.String("DATABASE_PASSWORD", "")}, // roles.DefaultPrefix
		AuthURL:                      env.URL("AUTH_URL", "http://workpulse-auth:3001", "http", "https"),
		OperatorToken:                env.Required("OPERATOR_TOKEN"),
		AuthTimeout:                  env.Duration("AUTH_TIMEOUT", 10*time.Second, time.Second, time.Minute),
		JobsNamespace:                env.String("JOBS_NAMESPACE", env.String("POD_NAMESPACE", "")),
		ReportImage:                  env.Required("REPORT_IMAGE"),
		ReportImagePullPolicy:        env.String("REPORT_IMAGE_PULL_POLICY", "IfNotPresent"),
		ReportDatabaseSecret:         env.String("REPORT_DATABASE_SECRET", "workpulse-report-database"),
		ReportDatabaseSecretKey:      env.String("REPORT_DATABASE_SECRET_KEY", "DATABASE_URL"),
		ReportDatabaseUser:           env.String("REPORT_DATABASE_USER", "workpulse_report"),
		ReportDatabasePasswordSecret: env.String("REPORT_DATABASE_PASSWORD_SECRET", "workpulse-db-report"),
		JobCPURequest:                quantity(env, "JOB_CPU_REQUEST", "50m"),
		JobMemoryRequest:             quantity(env, "JOB_MEMORY_REQUEST", "64Mi"),
		JobCPULimit:                  quantity(env, "JOB_CPU_LIMIT", "500m"),
		JobMemoryLimit:               quantity(env, "JOB_MEMORY_LIMIT", "256Mi"),
		JobServiceAccount:            env.String("JOB_SERVICE_ACCOUNT", ""),
		InstallOwner:                 env.String("INSTALL_OWNER_DEPLOYMENT", ""),
		Storage:                      activity.LoadPolicy(env),
		ResyncPeriod:                 env.Duration("RESYNC_PERIOD", time.Hour, 10*time.Second, 24*time.Hour),
		DeleteBatchSize:              env.Int("DELETE_BATCH_SIZE", 5000, 1, 1_000_000),
		MaxConcurrentReconciles:      env.Int("MAX_CONCURRENT_RECONCILES", 4, 1, 64),
		WatchNamespaces:              env.List("WATCH_NAMESPACES", nil),
		Installation:                 env.String("INSTALLATION", ""),
	}
	if errs := validation.IsValidLabelValue(c.Installation); len(errs) > 0 {
		env.Fail("INSTALLATION", "must be a label value (%s)", strings.Join(errs, "; "))
	}
	if c.JobsNamespace == "" {
		env.Fail("JOBS_NAMESPACE", "is required (or POD_NAMESPACE, set from the downward API)")
	}
	switch c.ReportImagePullPolicy {
	case "Always", "IfNotPresent", "Never":
	default:
		env.Fail("REPORT_IMAGE_PULL_POLICY", "must be Always, IfNotPresent or Never")
	}
	return c
}

func quantity(env *config.Env, key, def string) resource.Quantity {
	q, err := resource.ParseQuantity(env.String(key, def))
	if err != nil {
		env.Fail(key, "must be a Kubernetes quantity such as %s", def)
		return resource.MustParse(def)
	}
	return q
}
