package controller

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgxpool"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/specs"
	"github.com/workpulse/workpulse/operator/internal/storage"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// The operator's permissions, generated into config/rbac/role.yaml: its
// own resources, the CronJobs it runs, the bootstrap admin Secrets (read
// and created one by one, never listed or watched) and events.
//
// +kubebuilder:rbac:groups=workpulse.io,resources=workpulsetenants,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=workpulse.io,resources=workpulsetenants/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=workpulse.io,resources=workpulsetenants/finalizers,verbs=update
// +kubebuilder:rbac:groups=batch,resources=cronjobs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// TenantReconciler reconciles WorkPulseTenant resources. main fills the
// exported fields from the manager; SetupWithManager builds the rest.
type TenantReconciler struct {
	client.Client
	// APIReader reads what is not cached (Secrets).
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	Config    Config
	// DB logs in as the operator's role, which changes the partition
	// trees through the schema owner's functions (package storage).
	DB *pgxpool.Pool
	// Clock tells the month partitions are planned for and the time
	// every other decision stands on.
	Clock clock.Clock

	store   *storage.Store
	auth    *authClient
	metrics *operatorMetrics
	shared  *SharedStorage
}

// init builds what the exported fields imply, once.
func (r *TenantReconciler) init() error {
	if r.Clock == nil || r.DB == nil {
		return errors.New("tenant reconciler: no clock or no database")
	}
	m := newMetrics()
	r.store = storage.New(r.DB, func(kind string) { m.ddl.WithLabelValues(kind).Inc() })
	r.auth = newAuthClient(r.Config.AuthURL, r.Config.OperatorToken, r.Config.AuthTimeout)
	r.metrics = m
	r.shared = NewSharedStorage(r.Config, r.DB, r.Clock)
	return nil
}

// SetupWithManager registers the controller. Tenants are reconciled on
// spec changes and deletion (not on their own status writes), and when a
// CronJob of theirs changes or disappears.
func (r *TenantReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := r.init(); err != nil {
		return err
	}
	// Another installation's tenants are not even queued; a change of the
	// label or the annotations (a tenant handed to this installation, or
	// one asked to leave it) is reconciled.
	notOthers := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return claimOf(o.GetLabels(), o.GetAnnotations(), r.Config.Installation) != claimOthers
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.WorkPulseTenant{}, builder.WithPredicates(notOthers, predicate.Or(
			predicate.GenerationChangedPredicate{},
			predicate.LabelChangedPredicate{},
			predicate.AnnotationChangedPredicate{},
			predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
				return e.ObjectOld.GetDeletionTimestamp() == nil && e.ObjectNew.GetDeletionTimestamp() != nil
			}},
		))).
		Watches(&batchv1.CronJob{}, handler.EnqueueRequestsFromMapFunc(r.tenantOfCronJob)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Config.MaxConcurrentReconciles}).
		Named("workpulsetenant").
		Complete(r)
}

// tenantOfCronJob maps a tenant's CronJob to its tenant, and an
// install-wide one to any tenant, whose reconcile restores it.
func (r *TenantReconciler) tenantOfCronJob(ctx context.Context, o client.Object) []reconcile.Request {
	l := o.GetLabels()
	if l[specs.LabelManagedBy] != specs.ManagedBy {
		return nil
	}
	if ns, name := l[specs.LabelTenantNamespace], l[specs.LabelTenantName]; name != "" {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
	}
	var list v1alpha1.WorkPulseTenantList
	var opts []client.ListOption
	if r.Config.Installation != "" {
		opts = append(opts, client.MatchingLabels{v1alpha1.LabelInstallation: r.Config.Installation})
	}
	if err := r.List(ctx, &list, append(opts, client.Limit(1))...); err != nil || len(list.Items) == 0 {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKeyFromObject(&list.Items[0])}}
}

type step struct {
	name      string
	condition string
	run       func(context.Context, *v1alpha1.WorkPulseTenant) error
}

// Reconcile brings one tenant to its spec: organization, partitions and
// jobs, each step on its own condition, then Ready and the status.
func (r *TenantReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var t v1alpha1.WorkPulseTenant
	if err := r.Get(ctx, req.NamespacedName, &t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	held := false
	switch claimOf(t.Labels, t.Annotations, r.Config.Installation) {
	case claimOthers:
		return ctrl.Result{}, nil
	case claimUnclaimed:
		if ok, err := r.claim(ctx, &t); !ok || err != nil {
			// Refused: another operator labelled it first (read again).
			return ctrl.Result{Requeue: err == nil}, err
		}
	case claimAbandoned:
		if t.DeletionTimestamp.IsZero() {
			return r.release(ctx, &t)
		}
	case claimHeld:
		held = true
	}
	if !t.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, &t)
	}
	if err := r.ensureFinalizer(ctx, &t); err != nil {
		return ctrl.Result{}, err
	}
	base := t.DeepCopy()
	if held && meta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionInstallationChangeHeld) == nil {
		r.event(&t, corev1.EventTypeWarning, "InstallationChangeHeld", "Claim", "labelled for %s, but its data is in %s: not moved",
			t.Labels[v1alpha1.LabelInstallation], r.Config.Installation)
	}
	r.holdInstallationChange(&t, held)
	// The steps depend only on the organization ID, which is known
	// up front, so one failing does not hold the others back; except that
	// an organization to adopt is not this resource's until auth accepted
	// the adoption, so until then none of its partitions, rows or CronJobs
	// is touched.
	steps := []step{
		{"organization", v1alpha1.ConditionOrganizationProvisioned, r.reconcileOrganization},
		{"partitions", v1alpha1.ConditionPartitionsReady, r.reconcilePartitions},
		{"jobs", v1alpha1.ConditionJobsScheduled, r.reconcileJobs},
	}
	var retry, unproven error
	for i, s := range steps {
		if unproven != nil {
			failCondition(&t, s.condition, unproven)
			continue
		}
		err := s.run(ctx, &t)
		if err == nil {
			continue
		}
		if i == 0 && t.Spec.AdoptOrganizationID != "" {
			unproven = err
		}
		failCondition(&t, s.condition, err)
		r.metrics.reconcileErrors.WithLabelValues(s.name).Inc()
		var se *stepError
		if errors.As(err, &se) {
			r.event(&t, corev1.EventTypeWarning, se.Reason, s.name, "%s", se.Error())
		}
		if se == nil || !se.Permanent {
			retry = errors.Join(retry, err)
		}
		log.FromContext(ctx).Info("reconcile step failed", "step", s.name, "error", err.Error())
	}
	summarize(&t)
	r.metrics.observeReady(&t)
	if !equality.Semantic.DeepEqual(base.Status, t.Status) {
		patch := client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})
		if err := r.Status().Patch(ctx, &t, patch); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	if retry != nil {
		return ctrl.Result{}, retry
	}
	return ctrl.Result{RequeueAfter: r.Config.ResyncPeriod}, nil
}

func (r *TenantReconciler) event(t *v1alpha1.WorkPulseTenant, typ, reason, action, format string, args ...any) {
	r.Recorder.Eventf(t, nil, typ, reason, action, format, args...)
}
