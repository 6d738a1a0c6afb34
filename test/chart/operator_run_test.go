package chartcheck

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/workpulse/workpulse/test/testkit"
)

// TestTheOperatorReconcilesATenantToReadyWithOnlyTheChartsRBAC runs the real operator binary
// with the environment the chart gives its container, against the envtest API server as the
// chart's operator ServiceAccount (impersonation), a real database and the real auth
// service; the sample tenant must become Ready, get its CronJob, and be deleted cleanly.
// Both processes' /metrics are scraped for the series the rules and dashboard query.
func TestTheOperatorReconcilesATenantToReadyWithOnlyTheChartsRBAC(t *testing.T) {
	c := startCluster(t)
	installOperatorRBAC(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	bin := t.TempDir()
	for _, name := range []string{"auth", "operator"} {
		pkg := "./services/auth/cmd/auth"
		if name == "operator" {
			pkg = "./operator/cmd/operator"
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}

	// The Secrets of the installation: the database one is the user's, the operator token
	// the chart's own (rendered, created as helm would).
	db := testkit.NewDB(t)
	if _, err := c.kube.CoreV1().Secrets(namespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "workpulse-database"},
		StringData: map[string]string{"DATABASE_URL": db.URL},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	objs := render(t, "workpulse")
	var operator *unstructured.Unstructured
	for _, o := range objs {
		switch {
		case o.GetKind() == "Secret":
			if err := c.apply(ctx, o, false); err != nil {
				t.Fatal(err)
			}
		case o.GetKind() == "Deployment" && o.GetName() == fullname+"-operator":
			operator = o
		}
	}
	// The Deployment itself exists, as in a cluster: it owns the install-wide CronJobs.
	if err := c.apply(ctx, operator, false); err != nil {
		t.Fatal(err)
	}
	env := containerEnv(t, c, operator)

	_, redisPrefix := testkit.Redis(t)
	brokers := testkit.Kafka(t)
	authAddr, authInternalAddr, authMetrics := testkit.FreeAddr(t), testkit.FreeAddr(t), ""
	authMetrics = "http://" + authAddr + "/metrics"
	testkit.StartBinary(t, filepath.Join(bin, "auth"), "http://"+authAddr+"/readyz", []string{
		"DATABASE_URL=" + db.URL, "REDIS_URL=" + testkit.RedisURL(), "REDIS_PREFIX=" + redisPrefix,
		"KAFKA_BROKERS=" + strings.Join(brokers, ","), "KAFKA_TOPIC_PARTITIONS=1",
		"HTTP_ADDR=" + authAddr, "TENANT_API_ADDR=" + authInternalAddr, "OPERATOR_TOKEN=" + env["OPERATOR_TOKEN"], "LOG_LEVEL=warn",
	})

	// The chart's environment, except what only the cluster provides: Service DNS for auth,
	// and ports of its own for this process.
	metricsAddr, probeAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	// As in the chart: the operator calls auth's internal port, the one its NetworkPolicy opens.
	env["AUTH_URL"] = "http://" + authInternalAddr
	env["METRICS_ADDR"], env["PROBE_ADDR"] = metricsAddr, probeAddr
	// The test database's login roles carry testkit's prefix, not the one the chart derives from
	// the release and namespace, and trust needs no password.
	env["DATABASE_URL"], env["DATABASE_USER"], env["DATABASE_PASSWORD"] = db.URL, testkit.Roles.Name("operator"), ""
	env["KUBECONFIG"] = impersonatingKubeconfig(t, c)
	var operatorEnv []string
	for k, v := range env {
		operatorEnv = append(operatorEnv, k+"="+v)
	}
	logs := testkit.StartBinary(t, filepath.Join(bin, "operator"), "http://"+probeAddr+"/readyz", operatorEnv)

	// An administrator applies a tenant in its own namespace.
	if _, err := c.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "globex"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tenants := schema.GroupVersionResource{Group: "workpulse.io", Version: "v1alpha1", Resource: "workpulsetenants"}
	b, err := os.ReadFile(filepath.Join(repo, "hack/samples/tenant.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tenant *unstructured.Unstructured
	for _, o := range decode(t, string(b)) {
		if o.GetKind() == "WorkPulseTenant" {
			tenant = o
		}
	}
	tenant.SetNamespace("globex")
	tenant.SetName("globex")
	if _, err := c.dyn.Resource(tenants).Namespace("globex").Create(ctx, tenant, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	res := c.dyn.Resource(tenants).Namespace("globex")
	var last *unstructured.Unstructured
	for ready := false; !ready; {
		if ctx.Err() != nil {
			t.Fatalf("the tenant is not Ready: %v\noperator output:\n%s", last.Object["status"], logs.String())
		}
		time.Sleep(250 * time.Millisecond)
		last, err = res.Get(ctx, "globex", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		conds, _, _ := unstructured.NestedSlice(last.Object, "status", "conditions")
		for _, cd := range conds {
			cd := cd.(map[string]any)
			ready = ready || cd["type"] == "Ready" && cd["status"] == "True"
		}
	}
	crons, err := c.kube.BatchV1().CronJobs(namespace).List(ctx, metav1.ListOptions{LabelSelector: "workpulse.io/tenant-name=globex"})
	if err != nil || len(crons.Items) == 0 {
		t.Errorf("no CronJob for the tenant in %s: %v", namespace, err)
	}

	// The series the rules and dashboard query exist on the running processes.
	scraped := scrape(t, "http://"+metricsAddr+"/metrics")
	for k := range scrape(t, authMetrics) {
		scraped[k] = true
	}
	for _, name := range []string{"workpulse_operator_tenant_partitions", "workpulse_operator_tenant_partition_months_ahead",
		"workpulse_http_requests_total", "workpulse_http_request_duration_seconds_bucket"} {
		if !scraped[name] {
			t.Errorf("%s is not on the operator's or auth's /metrics", name)
		}
	}

	// Deletion: the operator's finalizer runs with the same permissions.
	if err := res.Delete(ctx, "globex", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := res.Get(ctx, "globex", metav1.GetOptions{}); err != nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the tenant was not deleted\noperator output:\n%s", logs.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	if os.Getenv("CHARTCHECK_LOGS") != "" {
		t.Logf("operator output:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "forbidden") {
		t.Errorf("the operator was refused something:\n%s", logs.String())
	}
}

// containerEnv resolves the first container's environment of a rendered Deployment as the
// kubelet would: values, Secret keys from the cluster, the pod's namespace, the container's
// memory limit in bytes.
func containerEnv(t *testing.T, c *cluster, dep *unstructured.Unstructured) map[string]string {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	vars, _ := containers[0].(map[string]any)["env"].([]any)
	env := map[string]string{}
	for _, v := range vars {
		v := v.(map[string]any)
		name := v["name"].(string)
		switch {
		case v["value"] != nil:
			env[name] = fmt.Sprint(v["value"])
		case nested(v, "valueFrom", "secretKeyRef") != nil:
			ref := nested(v, "valueFrom", "secretKeyRef").(map[string]any)
			s, err := c.kube.CoreV1().Secrets(namespace).Get(context.Background(), ref["name"].(string), metav1.GetOptions{})
			if err != nil {
				t.Fatalf("env %s: %v", name, err)
			}
			env[name] = string(s.Data[ref["key"].(string)])
		case nested(v, "valueFrom", "fieldRef", "fieldPath") == "metadata.namespace":
			env[name] = namespace
		case nested(v, "valueFrom", "resourceFieldRef", "resource") == "limits.memory":
			limit, err := resource.ParseQuantity(fmt.Sprint(nested(containers[0].(map[string]any), "resources", "limits", "memory")))
			if err != nil {
				t.Fatalf("env %s: the container's memory limit: %v", name, err)
			}
			env[name] = strconv.FormatInt(limit.Value(), 10)
		default:
			t.Fatalf("env %s: unsupported source %v", name, v)
		}
	}
	return env
}

// impersonatingKubeconfig writes a kubeconfig of an envtest admin that impersonates the
// chart's operator ServiceAccount, so every request is authorized as that account.
func impersonatingKubeconfig(t *testing.T, c *cluster) string {
	t.Helper()
	user, err := c.env.AddUser(envtest.User{Name: "chartcheck-admin", Groups: []string{"system:masters"}}, c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cfg.AuthInfos {
		a.Impersonate = operatorUser
		a.ImpersonateGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// scrape returns the metric names on a /metrics page (series names, so histograms give
// _bucket, _sum and _count).
func scrape(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		names[name] = true
	}
	return names
}
