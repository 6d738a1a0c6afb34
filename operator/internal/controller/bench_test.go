package controller

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// BenchmarkTwoHundredTenants creates 200 tenants (one in four Dedicated)
// and measures until every one is Ready, then runs a second full pass of
// reconciles, which must change nothing: no write to any tenant and no
// DDL. Run it with:
//
//	hack/with-deps.sh go test ./operator/internal/controller -run '^$' -bench TwoHundredTenants -benchtime 1x
func BenchmarkTwoHundredTenants(b *testing.B) {
	const n = 200
	for range b.N {
		e := newEnv(b, func(c *Config) { c.MaxConcurrentReconciles, c.DatabaseMaxConn = 8, 12 })
		start := clock.Start()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				e.create(e.tenant(fmt.Sprintf("bench-%03d", i), func(s *v1alpha1.WorkPulseTenantSpec) {
					if i%4 == 0 {
						s.Storage = v1alpha1.StorageDedicated
					}
				}))
			}()
		}
		wg.Wait()
		// Polled once a second: listing 200 tenants costs the API server.
		e.poll = time.Second
		e.eventually(5*time.Minute, "200 tenants Ready", func() (bool, string) {
			var list v1alpha1.WorkPulseTenantList
			if err := e.c.List(e.ctx, &list, client.InNamespace(e.ns)); err != nil {
				return false, err.Error()
			}
			ready := 0
			for _, t := range list.Items {
				if c := meta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionReady); c != nil && c.Status == "True" && c.ObservedGeneration == t.Generation {
					ready++
				}
			}
			return ready == n, fmt.Sprintf("%d of %d Ready", ready, n)
		})
		toReady := start.Elapsed()

		var list v1alpha1.WorkPulseTenantList
		if err := e.c.List(e.ctx, &list, client.InNamespace(e.ns)); err != nil {
			b.Fatal(err)
		}
		ddl := e.ddlLog()
		r := e.reconciler()
		start = clock.Start()
		for _, t := range list.Items {
			if _, err := r.Reconcile(e.ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&t)}); err != nil {
				b.Fatal(err)
			}
		}
		secondPass := start.Elapsed()
		var after v1alpha1.WorkPulseTenantList
		if err := e.c.List(e.ctx, &after, client.InNamespace(e.ns)); err != nil {
			b.Fatal(err)
		}
		versions := map[string]string{}
		for _, t := range list.Items {
			versions[t.Name] = t.ResourceVersion
		}
		changed := 0
		for _, t := range after.Items {
			if versions[t.Name] != t.ResourceVersion {
				changed++
			}
		}
		tags := ddl()
		if changed > 0 || len(tags) > 0 {
			b.Errorf("the second pass changed %d tenants and ran %d DDL commands", changed, len(tags))
		}
		if toReady > 60*time.Second {
			b.Errorf("200 tenants took %s to be Ready, more than 60s", toReady)
		}
		b.ReportMetric(toReady.Seconds(), "s-to-ready")
		b.ReportMetric(secondPass.Seconds(), "s-second-pass")
		b.ReportMetric(float64(changed), "tenants-changed")
		b.ReportMetric(float64(len(tags)), "ddl-second-pass")
	}
}
