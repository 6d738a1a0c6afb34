package chartcheck

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	promql "github.com/prometheus/prometheus/promql/parser"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// query is one PromQL expression the chart ships, and where.
type query struct{ where, expr string }

// ruleQueries are the rendered PrometheusRule's expressions.
func ruleQueries(t *testing.T) []query {
	t.Helper()
	rules := find(render(t, "workpulse", "--set", "monitoring.mode=always"), "PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("want one PrometheusRule, got %d", len(rules))
	}
	groups, _, _ := unstructured.NestedSlice(rules[0].Object, "spec", "groups")
	var out []query
	for _, g := range groups {
		rs, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rs {
			r := r.(map[string]any)
			out = append(out, query{where: "alert " + r["alert"].(string), expr: r["expr"].(string)})
		}
	}
	return out
}

// dashboardQueries are the Grafana dashboard's targets, with its variables given values.
func dashboardQueries(t *testing.T) []query {
	t.Helper()
	cms := find(render(t, "workpulse"), "ConfigMap")
	if len(cms) != 1 {
		t.Fatalf("want the dashboard ConfigMap, got %d ConfigMaps", len(cms))
	}
	data, _, _ := unstructured.NestedStringMap(cms[0].Object, "data")
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal([]byte(data["workpulse.json"]), &dash); err != nil {
		t.Fatal(err)
	}
	vars := strings.NewReplacer("$__rate_interval", "5m", "$namespace", namespace)
	var out []query
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			out = append(out, query{where: "panel " + p.Title, expr: vars.Replace(tg.Expr)})
		}
	}
	for _, v := range dash.Templating.List {
		// label_values(metric, label) is Grafana's, not PromQL: its metric is checked.
		if m, ok := strings.CutPrefix(v.Definition, "label_values("); ok {
			metric, _, _ := strings.Cut(m, ",")
			out = append(out, query{where: "variable " + v.Name, expr: strings.TrimSpace(metric)})
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d dashboard queries", len(out))
	}
	return out
}

// metricNames parses expr and returns the metric names it selects.
func metricNames(t *testing.T, q query) []string {
	t.Helper()
	expr, err := promql.NewParser(promql.Options{}).ParseExpr(q.expr)
	if err != nil {
		t.Errorf("%s: %v\n%s", q.where, err, q.expr)
		return nil
	}
	var names []string
	promql.Inspect(expr, func(n promql.Node, _ []promql.Node) error {
		vs, ok := n.(*promql.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			t.Errorf("%s: a selector without a metric name: %s", q.where, vs)
		}
		names = append(names, name)
		return nil
	})
	return names
}

func TestPrometheusRuleExpressionsParseAndEveryAlertTheIssueAsksForExists(t *testing.T) {
	// What promtool check rules checks: the rule file's fields, every expression, every label
	// and annotation template, durations.
	rules := find(render(t, "workpulse", "--set", "monitoring.mode=always"), "PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("want one PrometheusRule, got %d", len(rules))
	}
	spec, _, _ := unstructured.NestedMap(rules[0].Object, "spec")
	content, err := yaml.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, errs := rulefmt.Parse(content, false, model.UTF8Validation, promql.NewParser(promql.Options{}), slog.Default()); len(errs) > 0 {
		t.Errorf("the rules do not load into Prometheus: %v", errs)
	}

	var alerts []string
	for _, q := range ruleQueries(t) {
		metricNames(t, q)
		alerts = append(alerts, strings.TrimPrefix(q.where, "alert "))
	}
	for _, want := range []string{"WorkPulseServiceDown", "WorkPulseHighErrorRate", "WorkPulseHighLatency",
		"WorkPulseOutboxBacklog", "WorkPulseKafkaConsumerLag", "WorkPulseEventsDeadLettered", "WorkPulsePartitionsRunningOut", "WorkPulseActivityStorageRunningOut", "WorkPulseTenantNotReady",
		"WorkPulseSummaryReconciliationDifferences", "WorkPulseWebhookDeliveriesStuck"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s in %v", want, alerts)
		}
	}
}

func TestEveryMetricTheDashboardAndRulesQueryIsExportedBySomeComponent(t *testing.T) {
	exported := exportedMetrics(t)
	for _, name := range []string{"workpulse_http_requests_total", "workpulse_http_request_duration_seconds_bucket",
		"workpulse_outbox_oldest_age_seconds", "workpulse_kafka_consumer_lag"} {
		if !exported[name] {
			t.Fatalf("the scan of the services' sources misses %s; found %d metrics", name, len(exported))
		}
	}
	queries := append(ruleQueries(t), dashboardQueries(t)...)
	for _, q := range queries {
		for _, name := range metricNames(t, q) {
			if !exported[name] {
				t.Errorf("%s queries %s, which no service or the operator exports", q.where, name)
			}
		}
	}
}

// exportedMetrics scans the services', the operator's and storage maintenance's Go sources for Prometheus metric
// definitions (prometheus.<Kind>Opts literals and prometheus.NewDesc calls) and returns the
// series names they expose, plus "up" and "ALERTS", which Prometheus records itself.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{"up": true, "ALERTS": true}
	fset := token.NewFileSet()
	// The operator links the migrations' storage maintenance and serves its metrics.
	for _, dir := range []string{"services", "operator", "migrations/storage"} {
		err := filepath.WalkDir(filepath.Join(repo, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if name, ok := descName(n); ok {
					out[name] = true
					return true
				}
				lit, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				sel, ok := lit.Type.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "prometheus" || !strings.HasSuffix(sel.Sel.Name, "Opts") {
					return true
				}
				parts := map[string]string{}
				for _, e := range lit.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					key, _ := kv.Key.(*ast.Ident)
					val, _ := kv.Value.(*ast.BasicLit)
					if key != nil && val != nil && val.Kind == token.STRING {
						parts[key.Name], _ = strconv.Unquote(val.Value)
					}
				}
				if parts["Name"] == "" {
					return true
				}
				var full []string
				for _, p := range []string{parts["Namespace"], parts["Subsystem"], parts["Name"]} {
					if p != "" {
						full = append(full, p)
					}
				}
				name := strings.Join(full, "_")
				switch sel.Sel.Name {
				case "HistogramOpts":
					out[name+"_bucket"], out[name+"_sum"], out[name+"_count"] = true, true, true
				case "SummaryOpts":
					out[name], out[name+"_sum"], out[name+"_count"] = true, true, true
				default:
					out[name] = true
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// descName is the series name of a prometheus.NewDesc("name", ...) call, the
// form of collectors that compute their figures on scrape.
func descName(n ast.Node) (string, bool) {
	call, ok := n.(*ast.CallExpr)
	if !ok || len(call.Args) == 0 {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "NewDesc" {
		return "", false
	}
	if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "prometheus" {
		return "", false
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	name, err := strconv.Unquote(lit.Value)
	return name, err == nil
}
