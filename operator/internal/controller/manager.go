package controller

import (
	"errors"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
)

// Scheme knows the built-in types and WorkPulseTenant.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(s), v1alpha1.AddToScheme(s)); err != nil {
		panic(err)
	}
	return s
}

// ManagerOptions are the manager options the reconciler depends on: the
// scheme, what the cache watches and what it must not cache. The process
// adds its addresses, logger and leader election.
func ManagerOptions(cfg Config) ctrl.Options {
	var namespaces map[string]cache.Config
	if len(cfg.WatchNamespaces) > 0 {
		namespaces = map[string]cache.Config{}
		for _, ns := range cfg.WatchNamespaces {
			namespaces[ns] = cache.Config{}
		}
	}
	return ctrl.Options{
		Scheme: Scheme(),
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
		// Secrets are read one by one, never listed or watched (RBAC).
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
	}
}
