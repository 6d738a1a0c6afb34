package controller

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/jackc/pgx/v5"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/hack/repo"
	activity "github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/test/testkit"
	"github.com/workpulse/workpulse/test/testkit/testenv"
)

// The suite runs one real kube-apiserver and etcd (envtest, built by
// hack/envtest-bins.sh into bin/k8s, see testenv) for every test; each test gets its
// own namespaces, its own migrated PostgreSQL database, a real auth
// service process on that database, and its own operator manager
// watching only its namespaces.
var suite struct {
	rest      *rest.Config
	authBin   string
	reportBin string
}

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	ctrl.SetLogger(logr.Discard())
	root, err := repo.Root()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env, err := testenv.Start(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	suite.rest = env.Config
	bin, err := os.MkdirTemp("", "workpulse-operator-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(bin)
	// The services are other modules with internal packages: the tests
	// run their real binaries, as the cluster would.
	suite.authBin = filepath.Join(bin, "auth")
	if err := goBuild(root, suite.authBin, "./services/auth/cmd/auth"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	suite.reportBin = filepath.Join(bin, "report")
	if err := goBuild(root, suite.reportBin, "./services/report/cmd/report"); err != nil {
		suite.reportBin = ""
		fmt.Fprintln(os.Stderr, "report binary unavailable, its test will fail:", err)
	}
	return m.Run()
}

func goBuild(root, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// testEnv is one test's world.
type testEnv struct {
	t      testing.TB
	ctx    context.Context
	c      client.Client
	db     *testkit.DB
	ns     string // tenants
	jobsNS string // CronJobs and the report database Secret
	// authURL is auth's public API, authInternalURL its tenant API: the
	// port the operator calls, as in the chart.
	authURL, authInternalURL string
	brokers                  []string
	cfg                      Config
	// clock is the operator's: it stands still at testInstant unless the
	// test moves it, so partitions are planned for the same months on
	// whatever day the suite runs.
	clock *testkit.Clock
	poll  time.Duration // between checks of eventually; 100ms when zero
}

// testInstant is where every operator of the suite starts: mid-month, an
// ordinary day. The calendar's edges have their own test.
var testInstant = time.Date(2027, 5, 14, 12, 0, 0, 0, time.UTC)

const operatorToken = "operator-test-token-0123456789"

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newParallelEnv is newEnv for a test that runs beside the others: each
// has its own database, auth and namespaces, so none waits for another.
func newParallelEnv(t *testing.T, configure ...func(*Config)) *testEnv {
	t.Helper()
	t.Parallel()
	return newEnv(t, configure...)
}

// newEnv prepares the database, auth and namespaces and starts an
// operator; configure may change the operator's configuration first.
func newEnv(t testing.TB, configure ...func(*Config)) *testEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, err := client.New(suite.rest, client.Options{Scheme: Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, ctx: ctx, c: c, db: testkit.NewDB(t), clock: testkit.NewClock(testInstant)}
	e.authURL, e.authInternalURL, e.brokers = startAuth(t, e.db.URL)
	suffix := randomSuffix()
	e.ns, e.jobsNS = "tenants-"+suffix, "workpulse-"+suffix
	for _, ns := range []string{e.ns, e.jobsNS} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	// The jobs' connection string and the report role's password, as the
	// chart makes them (the test server trusts its clients).
	for name, data := range map[string]map[string]string{
		"workpulse-report-database": {"DATABASE_URL": e.db.URL},
		"workpulse-db-report":       {"password": "unused-by-a-trusting-server"},
	} {
		if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.jobsNS, Name: name}, StringData: data}); err != nil {
			t.Fatal(err)
		}
	}
	// The installation's operator Deployment, which owns the install-wide CronJobs.
	labels := map[string]string{"app": "workpulse-operator"}
	if err := c.Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.jobsNS, Name: "workpulse-operator"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "operator", Image: "workpulse/operator:test"}}},
		}},
	}); err != nil {
		t.Fatal(err)
	}
	e.cfg = Config{
		InstallOwner: "workpulse-operator",
		// The operator's own role, as installed: what it cannot do is
		// shown by operator_role_test.go.
		DatabaseURL: e.db.URL, DatabaseLogin: pg.Login{User: testkit.Roles.Name("operator")}, DatabaseMaxConn: 8,
		AuthURL: e.authInternalURL, OperatorToken: operatorToken, AuthTimeout: 10 * time.Second,
		JobsNamespace: e.jobsNS, ReportImage: "workpulse/report:test", ReportImagePullPolicy: "IfNotPresent",
		ReportDatabaseSecret: "workpulse-report-database", ReportDatabaseSecretKey: "DATABASE_URL",
		ReportDatabaseUser: "workpulse_report", ReportDatabasePasswordSecret: "workpulse-db-report",
		JobCPURequest: mustQuantity("50m"), JobMemoryRequest: mustQuantity("64Mi"),
		JobCPULimit: mustQuantity("500m"), JobMemoryLimit: mustQuantity("256Mi"),
		Storage:      activity.Policy{Premake: 3, Window: activity.Window(activity.DefaultWindowDays), Retention: 13},
		ResyncPeriod: time.Hour, DeleteBatchSize: 100, MaxConcurrentReconciles: 4,
		WatchNamespaces: []string{e.ns},
	}
	for _, f := range configure {
		f(&e.cfg)
	}
	e.startOperator()
	return e
}

// startOperator runs one more operator manager (replica) until the test
// ends.
func (e *testEnv) startOperator() {
	e.t.Helper()
	opts := ManagerOptions(e.cfg)
	opts.Logger = logr.Discard()
	opts.Metrics = metricsserver.Options{BindAddress: "0"}
	opts.HealthProbeBindAddress = "0"
	// Every replica of every test registers the same controller name.
	skip := true
	opts.Controller.SkipNameValidation = &skip
	mgr, err := ctrl.NewManager(suite.rest, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	db, err := pg.Connect(e.ctx, e.cfg.DatabaseURL, e.cfg.DatabaseLogin, e.cfg.DatabaseMaxConn)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &TenantReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("workpulse-operator"), Config: e.cfg, DB: db, Clock: e.clock,
	}
	shared := NewSharedStorage(e.cfg, db, e.clock)
	// The test moves the clock; the operator sees it move within Poll.
	shared.Poll = 50 * time.Millisecond
	if err := errors.Join(r.SetupWithManager(mgr), shared.SetupWithManager(mgr)); err != nil {
		db.Close()
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("operator: %v", err)
		}
		db.Close()
	})
}

// startAuth runs the auth service binary on the test's database, with
// its own Kafka broker and its tenant API on a port of its own, and
// returns its public and internal base URLs and the broker.
func startAuth(t testing.TB, dbURL string) (string, string, []string) {
	t.Helper()
	_, prefix := testkit.Redis(t)
	brokers := testkit.Kafka(t)
	addr, internal := testkit.FreeAddr(t), testkit.FreeAddr(t)
	base := "http://" + addr
	testkit.StartBinary(t, suite.authBin, base+"/readyz", []string{
		"DATABASE_URL=" + dbURL, "REDIS_URL=" + testkit.RedisURL(), "REDIS_PREFIX=" + prefix,
		"KAFKA_BROKERS=" + strings.Join(brokers, ","), "KAFKA_TOPIC_PARTITIONS=3",
		"HTTP_ADDR=" + addr, "TENANT_API_ADDR=" + internal, "OPERATOR_TOKEN=" + operatorToken, "LOG_LEVEL=warn",
	})
	return base, "http://" + internal, brokers
}

// tenant is a valid WorkPulseTenant in the test's namespace.
func (e *testEnv) tenant(name string, mutate ...func(*v1alpha1.WorkPulseTenantSpec)) *v1alpha1.WorkPulseTenant {
	t := &v1alpha1.WorkPulseTenant{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name},
		Spec: v1alpha1.WorkPulseTenantSpec{
			DisplayName: "Org " + name,
			Admin:       &v1alpha1.BootstrapAdmin{Email: name + "-" + randomSuffix() + "@example.com", Name: "Admin " + name},
		},
	}
	for _, m := range mutate {
		m(&t.Spec)
	}
	return t
}

func (e *testEnv) create(t *v1alpha1.WorkPulseTenant) *v1alpha1.WorkPulseTenant {
	e.t.Helper()
	if err := e.c.Create(e.ctx, t); err != nil {
		e.t.Fatalf("create %s: %v", t.Name, err)
	}
	return t
}

// update applies mutate to the latest version of the tenant.
func (e *testEnv) update(name string, mutate func(*v1alpha1.WorkPulseTenantSpec)) {
	e.t.Helper()
	if err := e.tryUpdate(name, mutate); err != nil {
		e.t.Fatalf("update %s: %v", name, err)
	}
}

// tryUpdate applies mutate to the latest version of the tenant, retrying
// on conflicts with the operator's own writes, and returns the API
// server's answer.
func (e *testEnv) tryUpdate(name string, mutate func(*v1alpha1.WorkPulseTenantSpec)) error {
	e.t.Helper()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		t := e.get(name)
		mutate(&t.Spec)
		return e.c.Update(e.ctx, t)
	})
}

func (e *testEnv) get(name string) *v1alpha1.WorkPulseTenant {
	e.t.Helper()
	var t v1alpha1.WorkPulseTenant
	if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: name}, &t); err != nil {
		e.t.Fatalf("get %s: %v", name, err)
	}
	return &t
}

// eventually polls cond until it holds, failing the test with the last
// reason after timeout.
func (e *testEnv) eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	e.t.Helper()
	watch := clock.Start()
	for {
		ok, why := cond()
		if ok {
			return
		}
		if watch.Elapsed() > timeout {
			e.t.Fatalf("%s: not after %s: %s", what, timeout, why)
		}
		time.Sleep(cmp.Or(e.poll, 100*time.Millisecond))
	}
}

// waitReady waits until the tenant is Ready for its current generation.
func (e *testEnv) waitReady(name string) *v1alpha1.WorkPulseTenant {
	e.t.Helper()
	var t *v1alpha1.WorkPulseTenant
	e.eventually(60*time.Second, name+" Ready", func() (bool, string) {
		t = e.get(name)
		c := meta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil {
			return false, "no Ready condition"
		}
		return c.Status == metav1.ConditionTrue && c.ObservedGeneration == t.Generation && t.Status.ObservedGeneration == t.Generation,
			fmt.Sprintf("Ready=%s %s: %s (generation %d, observed %d)", c.Status, c.Reason, c.Message, t.Generation, c.ObservedGeneration)
	})
	return t
}

// months lists the month partitions under tracking.<parent>, from pg_inherits.
func (e *testEnv) months(parent string) []string {
	e.t.Helper()
	rows, err := e.db.Owner.Query(e.ctx, `
		SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass('tracking.' || quote_ident($1)) ORDER BY 1`, parent)
	if err != nil {
		e.t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		e.t.Fatal(err)
	}
	return names
}

// attached reports whether tracking.<table> is a partition of tracking.activity_logs.
func (e *testEnv) attached(table string) bool {
	e.t.Helper()
	var ok bool
	if err := e.db.Owner.QueryRow(e.ctx, `SELECT EXISTS (SELECT 1 FROM pg_inherits
		WHERE inhrelid = to_regclass('tracking.' || quote_ident($1)) AND inhparent = 'tracking.activity_logs'::regclass)`, table).Scan(&ok); err != nil {
		e.t.Fatal(err)
	}
	return ok
}

func (e *testEnv) queryInt(sql string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.db.Owner.QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// partitionNames returns the names of tracking.<parent>'s partitions for
// the months from..to relative to now.
func partitionNames(parent string, now time.Time, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, policy.MonthOf(now).Add(i).Partition(parent))
	}
	return out
}
