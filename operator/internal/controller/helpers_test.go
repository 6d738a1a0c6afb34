package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/workpulse/workpulse/api/events"
	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/services/platform/kafkax"
)

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }

func (e *testEnv) cronJob(name string) (*batchv1.CronJob, error) {
	var cj batchv1.CronJob
	err := e.c.Get(e.ctx, client.ObjectKey{Namespace: e.jobsNS, Name: name}, &cj)
	return &cj, err
}

func (e *testEnv) mustCronJob(name string) *batchv1.CronJob {
	e.t.Helper()
	cj, err := e.cronJob(name)
	if err != nil {
		e.t.Fatalf("CronJob %s: %v", name, err)
	}
	return cj
}

// login signs in to the auth service, proving the credentials work.
func (e *testEnv) login(email, password string) int {
	e.t.Helper()
	status, _ := e.callAuth("/api/auth/login", "", map[string]string{"email": email, "password": password})
	return status
}

// callAuth POSTs body to the auth service's public API as bearer.
func (e *testEnv) callAuth(path, bearer string, body any) (int, map[string]any) {
	e.t.Helper()
	return e.authRequest(http.MethodPost, path, bearer, body)
}

// authRequest sends body to the auth service's public API as bearer.
func (e *testEnv) authRequest(method, path, bearer string, body any) (int, map[string]any) {
	e.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(e.ctx, method, e.authURL+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// adoptionToken signs in as an admin of an organization and issues an
// adoption token, as the organization's admin hands it to the platform
// team.
func (e *testEnv) adoptionToken(email, password string) string {
	e.t.Helper()
	status, login := e.callAuth("/api/auth/login", "", map[string]string{"email": email, "password": password})
	if status != http.StatusOK {
		e.t.Fatalf("admin login: %d %v", status, login)
	}
	status, tok := e.callAuth("/api/organization/adoption-tokens", login["access_token"].(string), nil)
	if status != http.StatusCreated {
		e.t.Fatalf("issue an adoption token: %d %v", status, tok)
	}
	return tok["token"].(string)
}

// adminAdoptionToken is adoptionToken for the bootstrap admin of tenant name.
func (e *testEnv) adminAdoptionToken(name string) string {
	e.t.Helper()
	var s corev1.Secret
	if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: name + "-admin-credentials"}, &s); err != nil {
		e.t.Fatal(err)
	}
	return e.adoptionToken(string(s.Data["email"]), string(s.Data["password"]))
}

// tokenSecret stores token in Secret name of the tenants' namespace.
func (e *testEnv) tokenSecret(name, token string) {
	e.t.Helper()
	if err := e.c.Create(e.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name},
		StringData: map[string]string{"token": token}}); err != nil {
		e.t.Fatal(err)
	}
}

// adopting makes a spec adopt org with the token in Secret secret.
func adopting(org, secret string) func(*v1alpha1.WorkPulseTenantSpec) {
	return func(s *v1alpha1.WorkPulseTenantSpec) {
		s.AdoptOrganizationID, s.Admin = org, nil
		s.AdoptionTokenSecretRef = &v1alpha1.SecretKeyReference{Name: secret}
	}
}

// ddlLog makes PostgreSQL itself record every DDL command run in the test
// database from now on, so "no DDL" is checked at the source.
func (e *testEnv) ddlLog() func() []string {
	e.t.Helper()
	for _, q := range []string{
		`CREATE TABLE public.ddl_log (tag text, at timestamptz DEFAULT clock_timestamp())`,
		`CREATE FUNCTION public.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
		 BEGIN INSERT INTO public.ddl_log (tag) VALUES (tg_tag); END $$`,
		`CREATE EVENT TRIGGER log_ddl ON ddl_command_start EXECUTE FUNCTION public.log_ddl()`,
	} {
		if _, err := e.db.Owner.Exec(e.ctx, q); err != nil {
			e.t.Fatal(err)
		}
	}
	return func() []string {
		rows, err := e.db.Owner.Query(e.ctx, "SELECT tag FROM public.ddl_log ORDER BY at")
		if err != nil {
			e.t.Fatal(err)
		}
		defer rows.Close()
		var tags []string
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			tags = append(tags, s)
		}
		return tags
	}
}

// reconciler is a reconciler of the test's own, for calling Reconcile
// directly; it shares the cluster, database and auth with the running one.
func (e *testEnv) reconciler() *TenantReconciler {
	e.t.Helper()
	mgr, err := ctrl.NewManager(suite.rest, ctrl.Options{Scheme: Scheme(), Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
	if err != nil {
		e.t.Fatal(err)
	}
	r := &TenantReconciler{
		Client: e.c, APIReader: e.c, Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("workpulse-operator"), Config: e.cfg, DB: e.db.Owner, Clock: e.clock,
	}
	if err := r.init(); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func isSubset(want, got []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

// insertActivity stores one activity row for org at at, as ingest would.
func insertActivity(t testing.TB, e *testEnv, org string, at time.Time) {
	t.Helper()
	if _, err := e.db.Owner.Exec(e.ctx, `INSERT INTO tracking.activity_logs
		(id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)
		VALUES (gen_random_uuid(), $1, gen_random_uuid(), gen_random_uuid(), $2, 'active', 30)`, org, at); err != nil {
		t.Fatalf("insert activity at %s: %v", at, err)
	}
}

// eventLog collects the tenant.updated events on the test's broker.
type eventLog struct {
	mu     sync.Mutex
	events []events.TenantUpdated
}

func (l *eventLog) all() []events.TenantUpdated {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

func (e *testEnv) tenantUpdates() *eventLog {
	l := &eventLog{}
	c := kafkax.NewConsumer(kafkax.ConsumerConfig{Brokers: e.brokers, GroupID: "operator-test", Topics: []string{events.TopicTenants}},
		func(_ context.Context, env events.Envelope) error {
			if env.Type != events.TypeTenantUpdated {
				return nil
			}
			var p events.TenantUpdated
			if err := json.Unmarshal(env.Data, &p); err != nil {
				return err
			}
			l.mu.Lock()
			l.events = append(l.events, p)
			l.mu.Unlock()
			return nil
		}, nil, slog.New(slog.DiscardHandler))
	go func() { _ = c.Run(e.ctx) }()
	return l
}
