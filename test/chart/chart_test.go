package chartcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/workpulse/workpulse/api/routes"
)

func TestChartsPassHelmLintStrictWithEveryValueSet(t *testing.T) {
	for _, chart := range charts {
		for _, vs := range valueSets(t, chart) {
			t.Run(chart+"/"+vs.name, func(t *testing.T) {
				args := append([]string{"lint", "--strict", filepath.Join("charts", chart)}, vs.args...)
				if out, err := helm(t, args...); err != nil {
					t.Fatalf("helm lint: %v\n%s", err, out)
				}
			})
		}
	}
}

func TestChartsCopiesOfTheOperatorsGeneratedManifestsAreCurrent(t *testing.T) {
	for _, c := range []struct{ generated, copy string }{
		{"operator/config/crd/bases/workpulse.io_workpulsetenants.yaml", "charts/workpulse-crds/files/workpulse.io_workpulsetenants.yaml"},
		{"operator/config/rbac/role.yaml", "charts/workpulse/files/operator-role.yaml"},
	} {
		t.Run(c.copy, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(repo, c.generated))
			if err != nil {
				t.Fatalf("the operator's generated manifest is missing: %v", err)
			}
			got, err := os.ReadFile(filepath.Join(repo, c.copy))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs from %s: run hack/chart-sync.sh", c.copy, c.generated)
			}
		})
	}
}

// appVersion is the chart's appVersion, the default tag of every image.
func appVersion(t testing.TB) string {
	t.Helper()
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	readYAMLLoose(t, "charts/workpulse/Chart.yaml", &chart)
	return chart.AppVersion
}

func TestChartsAppVersionIsTheVersionMakeImagesTagsWith(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repo, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(b))
	for _, chart := range charts {
		var c struct {
			AppVersion string `json:"appVersion"`
		}
		readYAMLLoose(t, filepath.Join("charts", chart, "Chart.yaml"), &c)
		if c.AppVersion != version {
			t.Errorf("charts/%s appVersion %q, VERSION %q: make images tags with VERSION", chart, c.AppVersion, version)
		}
	}
}

// images are the images the chart runs: hack/images builds them, and hack/images/Dockerfile.
var images = []string{"auth", "session", "ingest", "report", "realtime", "web", "operator", "migrate"}

// podSpec returns the pod spec of a Deployment, Job or Pod.
func podSpec(o *unstructured.Unstructured) map[string]any {
	path := []string{"spec", "template", "spec"}
	if o.GetKind() == "Pod" {
		path = []string{"spec"}
	}
	spec, _, _ := unstructured.NestedMap(o.Object, path...)
	return spec
}

func TestEveryWorkloadIsHardenedProbedAndUsesTheBuiltImages(t *testing.T) {
	version := appVersion(t)
	for _, vs := range valueSets(t, "workpulse") {
		t.Run(vs.name, func(t *testing.T) {
			objs := render(t, "workpulse", vs.args...)
			var used []string
			for _, o := range objs {
				switch o.GetKind() {
				case "Deployment", "Job", "Pod":
				default:
					continue
				}
				spec := podSpec(o)
				name := o.GetKind() + "/" + o.GetName()
				psc, _ := spec["securityContext"].(map[string]any)
				if psc["runAsNonRoot"] != true {
					t.Errorf("%s: pod runAsNonRoot is not true", name)
				}
				if sc, _ := psc["seccompProfile"].(map[string]any); sc["type"] != "RuntimeDefault" {
					t.Errorf("%s: pod seccompProfile is not RuntimeDefault", name)
				}
				containers, _ := spec["containers"].([]any)
				for _, c := range containers {
					c := c.(map[string]any)
					cname := name + "/" + c["name"].(string)
					sc, _ := c["securityContext"].(map[string]any)
					if sc["readOnlyRootFilesystem"] != true || sc["allowPrivilegeEscalation"] != false {
						t.Errorf("%s: root filesystem writable or privilege escalation allowed: %v", cname, sc)
					}
					if caps, _ := sc["capabilities"].(map[string]any); !slices.Equal(toStrings(caps["drop"]), []string{"ALL"}) {
						t.Errorf("%s: capabilities not all dropped: %v", cname, caps)
					}
					if _, ok := c["resources"].(map[string]any)["limits"]; !ok {
						t.Errorf("%s: no resource limits", cname)
					}
					if o.GetKind() == "Deployment" && !setsGOMEMLIMIT(c) {
						t.Errorf("%s: GOMEMLIMIT is not set from the container's memory limit", cname)
					}
					used = append(used, c["image"].(string))
					if o.GetKind() != "Deployment" {
						continue
					}
					live := nested(c, "livenessProbe", "httpGet", "path")
					ready := nested(c, "readinessProbe", "httpGet", "path")
					component := o.GetLabels()["app.kubernetes.io/component"]
					wantLive := "/livez"
					if component == "operator" {
						wantLive = "/healthz"
					}
					if live != wantLive || ready != "/readyz" {
						t.Errorf("%s: probes %q and %q, want %q and /readyz", cname, live, ready, wantLive)
					}
				}
			}
			if vs.name != "defaults" {
				return
			}
			// With the defaults every image is exactly what make images builds; busybox is
			// the helm test's shell.
			var want []string
			for _, name := range append(slices.Clone(images), "busybox") {
				want = append(want, "workpulse/"+name+":"+version)
			}
			slices.Sort(used)
			slices.Sort(want)
			used = slices.Compact(used)
			if !slices.Equal(used, want) {
				t.Errorf("images used %v, want %v", used, want)
			}
		})
	}
}

// setsGOMEMLIMIT reports whether container c gives the Go runtime its memory limit, so
// that the collector works harder before the kernel's OOM killer steps in.
func setsGOMEMLIMIT(c map[string]any) bool {
	env, _ := c["env"].([]any)
	for _, v := range env {
		v := v.(map[string]any)
		if v["name"] == "GOMEMLIMIT" {
			return nested(v, "valueFrom", "resourceFieldRef", "resource") == "limits.memory"
		}
	}
	return false
}

// The API is on the routing table's port; probes and /metrics on the
// internal port, which the Ingress never routes to (TestIngressRoutesLikeTheRoutingTable
// checks every backend is the http port), so the web service's catch-all
// does not publish them.
func TestEveryServiceHasAServicePDBItsRoutingTablePortAndProbesOnAnInternalPort(t *testing.T) {
	objs := render(t, "workpulse")
	byName := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		byName[o.GetKind()+"/"+o.GetName()] = o
	}
	for _, svc := range routes.Services {
		name := fullname + "-" + svc.Name
		for _, kind := range []string{"Deployment", "Service", "ServiceAccount", "PodDisruptionBudget"} {
			if byName[kind+"/"+name] == nil {
				t.Errorf("no %s %s", kind, name)
			}
		}
		s := byName["Service/"+name]
		if s == nil {
			continue
		}
		ports, _, _ := unstructured.NestedSlice(s.Object, "spec", "ports")
		// Auth's third port, its tenant API, is TestAuthServesTheTenantAPIOnItsOwnPortWhichTheOperatorCalls's.
		if len(ports) != 2 && (svc.Name != "auth" || len(ports) != 3) || fmt.Sprint(ports[0].(map[string]any)["port"]) != strconv.Itoa(svc.Port) || ports[0].(map[string]any)["name"] != "http" ||
			fmt.Sprint(ports[1].(map[string]any)["port"]) != "9090" || ports[1].(map[string]any)["name"] != "internal" {
			t.Errorf("Service %s ports %v, want http %d and internal 9090", name, ports, svc.Port)
		}
		d := byName["Deployment/"+name]
		if d == nil {
			continue
		}
		c := podSpec(d)["containers"].([]any)[0].(map[string]any)
		for _, probe := range []string{"startupProbe", "livenessProbe", "readinessProbe"} {
			if port := nested(c, probe, "httpGet", "port"); port != "internal" {
				t.Errorf("%s: %s on port %q, want internal", name, probe, port)
			}
		}
		var internalAddr string
		for _, e := range c["env"].([]any) {
			if e := e.(map[string]any); e["name"] == "INTERNAL_HTTP_ADDR" {
				internalAddr = fmt.Sprint(e["value"])
			}
		}
		if internalAddr != ":9090" {
			t.Errorf("%s: INTERNAL_HTTP_ADDR %q, want :9090, the container's internal port", name, internalAddr)
		}
	}
	hooks := find(objs, "Job")
	if len(hooks) != 1 {
		t.Fatalf("want one migrations Job, got %d", len(hooks))
	}
	job := hooks[0]
	if got := job.GetAnnotations()["helm.sh/hook"]; got != "pre-install,pre-upgrade" {
		t.Errorf("migrations Job hook %q", got)
	}
	c := podSpec(job)["containers"].([]any)[0].(map[string]any)
	if !slices.Equal(toStrings(c["args"]), []string{"up"}) {
		t.Errorf("migrations Job runs %v, want migrate up", c["args"])
	}
	var tests int
	for _, o := range find(objs, "Pod") {
		if o.GetAnnotations()["helm.sh/hook"] == "test" {
			tests++
		}
	}
	if tests != 1 {
		t.Errorf("want one helm test Pod, got %d", tests)
	}
}

func TestEveryServiceDrainsOnARollingUpdateWithinItsGracePeriodAndKeepsAReadyPod(t *testing.T) {
	objs := render(t, "workpulse", "--set", "common.drainSeconds=7", "--set", "common.shutdownTimeoutSeconds=25")
	byName := map[string]*unstructured.Unstructured{}
	for _, o := range find(objs, "Deployment") {
		byName[o.GetName()] = o
	}
	for _, svc := range routes.Services {
		d := byName[fullname+"-"+svc.Name]
		if d == nil {
			t.Errorf("no Deployment for %s", svc.Name)
			continue
		}
		if got := fmt.Sprint(nested(d.Object, "spec", "strategy", "rollingUpdate", "maxUnavailable")); got != "0" {
			t.Errorf("%s: maxUnavailable %s, want 0 so that the old pod serves until the new one is ready", svc.Name, got)
		}
		// The kubelet kills at the end of the grace period: it must cover
		// the drain, the requests in flight and the workers' stop.
		if got := fmt.Sprint(podSpec(d)["terminationGracePeriodSeconds"]); got != "42" {
			t.Errorf("%s: terminationGracePeriodSeconds %s, want 7 + 25 + 10", svc.Name, got)
		}
		env := map[string]string{}
		for _, e := range podSpec(d)["containers"].([]any)[0].(map[string]any)["env"].([]any) {
			e := e.(map[string]any)
			env[fmt.Sprint(e["name"])] = fmt.Sprint(e["value"])
		}
		if env["DRAIN_DELAY"] != "7s" || env["SHUTDOWN_TIMEOUT"] != "25s" {
			t.Errorf("%s: DRAIN_DELAY %q and SHUTDOWN_TIMEOUT %q, want 7s and 25s", svc.Name, env["DRAIN_DELAY"], env["SHUTDOWN_TIMEOUT"])
		}
	}
}

func TestMonitoringObjectsRenderOnlyWhenTheAPIExistsOrAreForced(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want bool
	}{
		{"auto without the monitoring API", nil, false},
		{"auto with the monitoring API", []string{"--api-versions", "monitoring.coreos.com/v1"}, true},
		{"always without the monitoring API", []string{"--set", "monitoring.mode=always"}, true},
		{"never with the monitoring API", []string{"--api-versions", "monitoring.coreos.com/v1", "--set", "monitoring.mode=never"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			objs := render(t, "workpulse", c.args...)
			sm, pr := len(find(objs, "ServiceMonitor")), len(find(objs, "PrometheusRule"))
			if c.want && (sm != 2 || pr != 1) || !c.want && (sm != 0 || pr != 0) {
				t.Fatalf("%d ServiceMonitors and %d PrometheusRules", sm, pr)
			}
		})
	}
}

func TestDashboardConfigMapIsLabelledForTheSidecarAndHoldsTheIssuesPanelsWithThresholds(t *testing.T) {
	cms := find(render(t, "workpulse"), "ConfigMap")
	if len(cms) != 1 || cms[0].GetLabels()["grafana_dashboard"] != "1" {
		t.Fatalf("want one ConfigMap labelled grafana_dashboard=1, got %d", len(cms))
	}
	data, _, _ := unstructured.NestedStringMap(cms[0].Object, "data")
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Type        string `json:"type"`
			Title       string `json:"title"`
			FieldConfig struct {
				Defaults struct {
					Thresholds struct {
						Steps []json.RawMessage `json:"steps"`
					} `json:"thresholds"`
				} `json:"defaults"`
			} `json:"fieldConfig"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(data["workpulse.json"]), &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	var titles []string
	for _, p := range dash.Panels {
		titles = append(titles, strings.ToLower(p.Title))
	}
	all := strings.Join(titles, "\n")
	for _, want := range []string{"ingest rate", "ingest latency", "active sessions", "websocket connections",
		"consumer lag", "outbox backlog", "partitions", "jobs",
		"people tracking now", "tracked hours today", "open alerts by kind", "firing alerts by severity"} {
		if !strings.Contains(all, want) {
			t.Errorf("no panel about %q in %q", want, titles)
		}
	}
	for i, p := range dash.Panels {
		// The business row's figures are install-wide: no tenant or person
		// label may multiply their series.
		if i <= 4 {
			if i == 0 && (p.Type != "row" || p.Title != "Business") {
				t.Errorf("the first row is %q, want Business", p.Title)
			}
			for _, tg := range p.Targets {
				if strings.Contains(tg.Expr, "organization") || strings.Contains(tg.Expr, "user") {
					t.Errorf("%s: %s groups by tenant or person", p.Title, tg.Expr)
				}
			}
		}
		business := i >= 1 && i <= 4
		wanted := business || slices.Contains([]string{"Services up", "5xx ratio by service", "Ingest latency", "Kafka consumer lag",
			"Outbox backlog", "Outbox oldest event age", "Partition months ahead"}, p.Title)
		if wanted && len(p.FieldConfig.Defaults.Thresholds.Steps) < 2 {
			t.Errorf("%s: no thresholds", p.Title)
		}
	}
}

func nested(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, s := range l {
		str, _ := s.(string)
		out = append(out, str)
	}
	return out
}
