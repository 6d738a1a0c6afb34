// Package report is the report service: daily productivity summaries,
// idle and overtime alerts, the reports API, and the jobs the operator's
// CronJobs run (daily-summary, idle-detection, overtime-check).
package report

import (
	"crypto/x509"
	"os"
	"time"

	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/export"
	"github.com/workpulse/workpulse/services/platform/sealbox"
)

// Config is the report service's own configuration. The thresholds are
// defaults; a tenant's settings (tenant.updated) override them.
type Config struct {
	InactiveThreshold time.Duration
	IdleThreshold     time.Duration
	OvertimeThreshold time.Duration
	// MaxCatchUpDays bounds how far back the first summary run of a
	// tenant (one without recorded progress) goes.
	MaxCatchUpDays int
	// RecomputeDays is how many days before yesterday every catch-up
	// summarizes again, for activity uploaded late.
	RecomputeDays int
	// DueBatchDays is how many days one organization summarizes in a turn
	// of a daily-summary --due run before the next organization's turn.
	DueBatchDays int
	// DueBudget is how long a daily-summary --due run starts new turns.
	DueBudget time.Duration
	// JobWorkers is how many organizations a scheduled job works on at
	// once, each on its own connection.
	JobWorkers int
	// MaxRangeDays bounds the date range of a report.
	MaxRangeDays int
	// ReportCacheBytes bounds the memory of cached organization reports;
	// 0 disables the cache.
	ReportCacheBytes int
	// WebhookTimeout bounds one attempt at a webhook delivery.
	WebhookTimeout time.Duration
	// WebhookAllowPrivateTargets lets webhooks reach loopback, private and
	// link-local addresses: for installations whose receivers live on the
	// internal network. Off, an endpoint can not make the service call the
	// installation's own components or the cloud metadata address.
	WebhookAllowPrivateTargets bool
	// WebhookRoots are the certificate authorities a webhook receiver's
	// certificate may chain to: the system's plus those of WEBHOOK_CA_FILE,
	// for receivers whose certificates a private CA issued; nil (no file)
	// is the system's alone. Only deliveries trust them: the service's
	// other connections keep their own roots.
	WebhookRoots *x509.CertPool
	// SecretCipher seals the webhook endpoints' secrets at rest; nil (no
	// SIGNING_KEY_ENCRYPTION_KEY) stores them as they are.
	SecretCipher *sealbox.Cipher
	// KafkaBrokers feed the event consumers of the serving process.
	KafkaBrokers []string
	// Export bounds report's part of a member's export (the platform's
	// EXPORT_MAX_ROWS and EXPORT_TIMEOUT).
	Export export.Limits
}

// LoadConfig reads report's settings.
func LoadConfig(e *config.Env, common config.Common) Config {
	return Config{
		InactiveThreshold:          time.Duration(e.Int("INACTIVE_THRESHOLD_SECONDS", 600, 1, 86400)) * time.Second,
		IdleThreshold:              time.Duration(e.Int("IDLE_THRESHOLD_SECONDS", 300, 1, 86400)) * time.Second,
		OvertimeThreshold:          time.Duration(e.Int("OVERTIME_THRESHOLD_HOURS", 9, 1, 24)) * time.Hour,
		MaxCatchUpDays:             e.Int("SUMMARY_MAX_CATCHUP_DAYS", 31, 1, 366),
		RecomputeDays:              e.Int("SUMMARY_RECOMPUTE_DAYS", 1, 0, 31),
		DueBatchDays:               e.Int("SUMMARY_DUE_BATCH_DAYS", 7, 1, 366),
		DueBudget:                  e.Duration("SUMMARY_DUE_BUDGET", dueBudgetDefault, time.Second, 24*time.Hour),
		JobWorkers:                 e.Int("JOB_WORKERS", 4, 1, 64),
		MaxRangeDays:               e.Int("REPORT_MAX_RANGE_DAYS", 366, 1, 3660),
		ReportCacheBytes:           e.Int("REPORT_CACHE_MB", 128, 0, 64<<10) << 20,
		WebhookTimeout:             e.Duration("WEBHOOK_TIMEOUT", 10*time.Second, time.Second, time.Minute),
		WebhookAllowPrivateTargets: e.Bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", false),
		WebhookRoots:               webhookRoots(e),
		SecretCipher:               sealbox.FromEnv(e),
		KafkaBrokers:               common.KafkaBrokers,
		Export:                     export.LimitsOf(common),
	}
}

// DefaultConfig is the configuration with every default, for tests and tools.
func DefaultConfig() Config {
	e := config.FromMap(nil)
	return LoadConfig(e, config.LoadCommon(e, "report", ":0"))
}

// webhookRoots is the system's certificate pool plus the PEM certificates
// of the file WEBHOOK_CA_FILE names; nil without the setting. A file that
// cannot be read or holds no certificate fails the start, rather than the
// deliveries a day later.
func webhookRoots(e *config.Env) *x509.CertPool {
	path := e.String("WEBHOOK_CA_FILE", "")
	if path == "" {
		return nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		e.Fail("WEBHOOK_CA_FILE", "cannot be read: %v", err)
		return nil
	}
	// An image without a CA bundle has an empty system pool (or none):
	// the file's authorities are then the only ones.
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		e.Fail("WEBHOOK_CA_FILE", "holds no PEM certificate: %s", path)
		return nil
	}
	return pool
}
