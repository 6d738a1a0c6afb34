package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/workpulse/workpulse/hack/repo"
	"github.com/workpulse/workpulse/operator/internal/controller"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
	"github.com/workpulse/workpulse/test/testkit/testenv"
)

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// buildInfo is the operator's workpulse_build_info series, which it registers on
// controller-runtime's registry beside the services' own.
var buildInfo = regexp.MustCompile(`(?m)^workpulse_build_info\{[^}]*service="operator"[^}]*\} 1$`)

// testInstant is the operator's time in these tests, whatever the day.
var testInstant = time.Date(2027, 5, 14, 12, 0, 0, 0, time.UTC)

func TestRunRefusesAnIncompleteConfigurationAtOnce(t *testing.T) {
	err := run(context.Background(), nil, lookup(map[string]string{"RESYNC_PERIOD": "1s"}), io.Discard, testkit.NewClock(testInstant))
	if err == nil {
		t.Fatal("run started without OPERATOR_TOKEN, REPORT_IMAGE and JOBS_NAMESPACE")
	}
	for _, key := range []string{"OPERATOR_TOKEN", "REPORT_IMAGE", "JOBS_NAMESPACE", "RESYNC_PERIOD"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("the error does not name %s: %v", key, err)
		}
	}
}

// The process as deployed: configuration from the environment, a
// kubeconfig, leader election, probes and metrics.
func TestRunLeadsServesProbesAndMetricsAndStopsCleanly(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	env, err := testenv.Start(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	user, err := env.AddUser(envtest.User{Name: "operator-test", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", path)
	c, err := client.New(env.Config, client.Options{Scheme: controller.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "workpulse-system"}}); err != nil {
		t.Fatal(err)
	}
	metrics, probes := testkit.FreeAddr(t), testkit.FreeAddr(t)
	db := testkit.NewDB(t)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--leader-election-id", "operator-test"}, lookup(map[string]string{
			"DATABASE_URL": db.URL, "OPERATOR_TOKEN": "x", "REPORT_IMAGE": "workpulse/report:test",
			"POD_NAMESPACE": "workpulse-system", "METRICS_ADDR": metrics, "PROBE_ADDR": probes, "LOG_LEVEL": "warn",
		}), io.Discard, testkit.NewClock(testInstant))
	}()
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	eventually := func(what string, cond func() (bool, string)) {
		t.Helper()
		watch := clock.Start()
		for {
			ok, why := cond()
			if ok {
				return
			}
			select {
			case err := <-done:
				t.Fatalf("%s: run returned %v", what, err)
			default:
			}
			if watch.Elapsed() > 30*time.Second {
				t.Fatalf("%s: %s", what, why)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		eventually(p, func() (bool, string) {
			code, body := get("http://" + probes + p)
			return code == http.StatusOK, fmt.Sprint(code, body)
		})
	}
	eventually("the leader election Lease", func() (bool, string) {
		var lease coordinationv1.Lease
		err := c.Get(ctx, client.ObjectKey{Namespace: "workpulse-system", Name: "operator-test"}, &lease)
		return err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "", fmt.Sprint(err)
	})
	eventually("/metrics", func() (bool, string) {
		code, body := get("http://" + metrics + "/metrics")
		// The shared tree's gauge appears once the leader's first pass is done.
		return code == http.StatusOK && strings.Contains(body, "workpulse_operator_storage_move_lock_seconds") &&
			strings.Contains(body, `workpulse_activity_storage_months_ahead{tree="activity_logs_shared"} 4`) &&
			strings.Contains(body, "controller_runtime_reconcile_total") && buildInfo.MatchString(body), fmt.Sprint(code)
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop 30s after its context ended")
	}
}
