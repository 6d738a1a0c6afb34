package controller

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-logr/logr"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// ManagerOptions are the process-level settings, from flags.
type ManagerOptions struct {
	MetricsAddr             string
	ProbeAddr               string
	LeaderElection          bool
	LeaderElectionNamespace string
	LeaderElectionID        string
	// SkipNameValidation lets one process run several managers (tests).
	SkipNameValidation bool
	// Clock is the time the reconciler's decisions stand on: clock.Real
	// in production, a test clock in tests.
	Clock clock.Clock
}

// Scheme knows the built-in types and WorkPulseTenant.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(s), v1alpha1.AddToScheme(s)); err != nil {
		panic(err)
	}
	return s
}

// NewManager connects to PostgreSQL and builds the manager with the
// tenant controller, health and readiness checks. close releases the
// database pool once the manager has stopped.
func NewManager(ctx context.Context, restCfg *rest.Config, cfg Config, o ManagerOptions, logger logr.Logger) (mgr ctrl.Manager, close func(), err error) {
	if o.Clock == nil {
		return nil, nil, errors.New("manager: no clock")
	}
	db, err := pg.Connect(ctx, cfg.DatabaseURL, cfg.DatabaseRole, cfg.DatabaseMaxConn)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	var namespaces map[string]cache.Config
	if len(cfg.WatchNamespaces) > 0 {
		namespaces = map[string]cache.Config{}
		for _, ns := range cfg.WatchNamespaces {
			namespaces[ns] = cache.Config{}
		}
	}
	mgr, err = ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                        Scheme(),
		Logger:                        logger,
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:        o.ProbeAddr,
		LeaderElection:                o.LeaderElection,
		LeaderElectionID:              o.LeaderElectionID,
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Cache: cache.Options{
			DefaultNamespaces: namespaces,
			ByObject: map[client.Object]cache.ByObject{
				// Only the operator's own CronJobs, only where it puts them.
				&batchv1.CronJob{}: {
					Namespaces: map[string]cache.Config{cfg.JobsNamespace: {}},
					Label:      labels.SelectorFromSet(labels.Set{specs.LabelManagedBy: specs.ManagedBy}),
				},
			},
		},
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("manager: %w", err)
	}
	r := NewTenantReconciler(mgr, cfg, db, o.Clock)
	opts := controller.Options{}
	if o.SkipNameValidation {
		opts.SkipNameValidation = &o.SkipNameValidation
	}
	if err = r.SetupWithManager(mgr, opts); err != nil {
		return nil, nil, fmt.Errorf("controller: %w", err)
	}
	ping := func(req *http.Request) error { return r.store.Ping(req.Context()) }
	// Liveness does not depend on the database: restarting the operator
	// cannot bring PostgreSQL back.
	if err = errors.Join(mgr.AddHealthzCheck("ping", healthz.Ping), mgr.AddReadyzCheck("database", ping)); err != nil {
		return nil, nil, err
	}
	if err = mgr.AddReadyzCheck("informers", func(req *http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(req.Context()) {
			return errors.New("informers not synced")
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	return mgr, db.Close, nil
}
