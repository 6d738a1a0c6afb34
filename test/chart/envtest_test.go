package chartcheck

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// cluster is a real kube-apiserver and etcd (envtest) with every CRD the charts need:
// WorkPulseTenant from the rendered workpulse-crds chart, the monitoring.coreos.com
// ones vendored in testdata/crds, and the Gateway API's standard ones of the release
// hack/gateway-api-crds.sh pins.
type cluster struct {
	env    *envtest.Environment
	cfg    *rest.Config
	kube   kubernetes.Interface
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

var (
	envOnce    sync.Once
	envCluster *cluster
	envErr     error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if envCluster != nil {
		if err := envCluster.env.Stop(); err != nil {
			code = 1
		}
	}
	os.Exit(code)
}

// startCluster starts the API server once for the package.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	envOnce.Do(func() { envCluster, envErr = newCluster(t) })
	if envErr != nil {
		t.Fatal(envErr)
	}
	return envCluster
}

func newCluster(t *testing.T) (*cluster, error) {
	// The operator's script builds kube-apiserver and etcd from the module proxy, once.
	if out, err := exec.Command(filepath.Join(repo, "hack", "envtest-bins.sh"), "envtest").CombinedOutput(); err != nil {
		return nil, errors.New("hack/envtest-bins.sh: " + err.Error() + "\n" + string(out))
	}
	gatewayCRDs, err := exec.Command(filepath.Join(repo, "hack", "gateway-api-crds.sh")).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = errors.New(err.Error() + "\n" + string(ee.Stderr))
		}
		return nil, errors.New("hack/gateway-api-crds.sh: " + err.Error())
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, o := range find(render(t, "workpulse-crds"), "CustomResourceDefinition") {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &crd); err != nil {
			return nil, err
		}
		crds = append(crds, &crd)
	}
	if len(crds) != 1 {
		return nil, errors.New("the workpulse-crds chart does not render one CRD")
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: filepath.Join(repo, "bin", "k8s"),
		CRDs:                  crds,
		CRDDirectoryPaths:     []string{filepath.Join("testdata", "crds"), strings.TrimSpace(string(gatewayCRDs))},
		ErrorIfCRDPathMissing: true,
		// envtest's 20 s default is too short for a cold kube-apiserver on a loaded 2-core machine.
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, err
	}
	c := &cluster{env: env, cfg: cfg}
	if c.kube, err = kubernetes.NewForConfig(cfg); err == nil {
		c.dyn, err = dynamic.NewForConfig(cfg)
	}
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	c.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	for _, ns := range []string{namespace, "monitoring", "acme"} {
		_, err := c.kube.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil {
			_ = env.Stop()
			return nil, err
		}
	}
	return c, nil
}

// adminKubeconfig writes a kubeconfig of a new cluster admin of c, for helm's
// --dry-run=server (whose lookup then reads the cluster).
func adminKubeconfig(t *testing.T, c *cluster, name string) string {
	t.Helper()
	user, err := c.env.AddUser(envtest.User{Name: name, Groups: []string{"system:masters"}}, c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

// ensureNamespaces creates the namespaces objs name (operator.watchNamespaces' Roles), as
// they exist where the chart is installed.
func (c *cluster) ensureNamespaces(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" {
			_, err := c.kube.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
		}
	}
}

// apply server-side applies obj; dryRun leaves the cluster unchanged but runs every
// validation and admission step.
func (c *cluster) apply(ctx context.Context, obj *unstructured.Unstructured, dryRun bool) error {
	gvk := obj.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = c.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := obj.GetNamespace()
		if ns == "" {
			ns = namespace
		}
		ri = c.dyn.Resource(m.Resource).Namespace(ns)
	}
	body, err := obj.MarshalJSON()
	if err != nil {
		return err
	}
	// Strict: an unknown or duplicated field is an error, not a warning.
	opts := metav1.PatchOptions{FieldManager: "chartcheck", Force: ptr.To(true), FieldValidation: "Strict"}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, opts)
	return err
}

func TestRenderedChartsPassServerSideDryRunAgainstARealAPIServer(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, chart := range charts {
		for _, vs := range valueSets(t, chart) {
			t.Run(chart+"/"+vs.name, func(t *testing.T) {
				// The monitoring API exists here, so ServiceMonitors and the rule render too.
				objs := render(t, chart, append(vs.args, "--api-versions", "monitoring.coreos.com/v1")...)
				if len(objs) == 0 {
					t.Fatal("nothing rendered")
				}
				c.ensureNamespaces(t, objs)
				kinds := map[string]int{}
				for _, o := range objs {
					kinds[o.GetKind()]++
					if err := c.apply(ctx, o, true); err != nil {
						t.Errorf("%s %s: %v", o.GetKind(), o.GetName(), err)
					}
				}
				t.Logf("%d objects validated: %v", len(objs), kinds)
			})
		}
	}
}
