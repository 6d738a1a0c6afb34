package chartcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/workpulse/workpulse/test/testkit"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// defaultRunbooks is monitoring.rules.runbookBaseURL's default: the repository's docs/runbooks.
const defaultRunbooks = "https://github.com/workpulse/workpulse/blob/main/docs/runbooks"

// alertRule is one alerting rule of the rendered PrometheusRule.
type alertRule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	Annotations map[string]string `json:"annotations"`
}

// renderedRules returns the PrometheusRule's spec (a promtool rule file) and its alerting rules.
func renderedRules(t *testing.T, args ...string) (map[string]any, []alertRule) {
	t.Helper()
	objs := find(render(t, "workpulse", append([]string{"--set", "monitoring.mode=always"}, args...)...), "PrometheusRule")
	if len(objs) != 1 {
		t.Fatalf("want one PrometheusRule, got %d", len(objs))
	}
	spec, _, _ := unstructured.NestedMap(objs[0].Object, "spec")
	var file struct {
		Groups []struct {
			Rules []alertRule `json:"rules"`
		} `json:"groups"`
	}
	b, err := yaml.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	var rules []alertRule
	for _, g := range file.Groups {
		rules = append(rules, g.Rules...)
	}
	return spec, rules
}

func TestEveryAlertLinksARunbookThatExistsAndGivesCauseChecksAndFixes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		base string
	}{
		{name: "the default base URL is the repository's docs/runbooks", base: defaultRunbooks},
		{name: "a base URL given with a trailing slash is joined without a double slash",
			args: []string{"--set", "monitoring.rules.runbookBaseURL=https://wiki.example.com/runbooks/"},
			base: "https://wiki.example.com/runbooks"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, rules := renderedRules(t, c.args...)
			for _, r := range rules {
				if want := c.base + "/" + r.Alert + ".md"; r.Annotations["runbook_url"] != want {
					t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
				}
				b, err := os.ReadFile(filepath.Join(repo, "docs", "runbooks", r.Alert+".md"))
				if err != nil {
					t.Errorf("%s has no runbook: %v", r.Alert, err)
					continue
				}
				for _, section := range []string{"\n## Cause\n", "\n## Checks\n", "\n## Fixes\n"} {
					if !strings.Contains(string(b), section) {
						t.Errorf("docs/runbooks/%s.md has no %q section", r.Alert, strings.TrimSpace(section))
					}
				}
				if !strings.Contains(string(b), "kubectl ") {
					t.Errorf("docs/runbooks/%s.md gives no kubectl command to check with", r.Alert)
				}
			}
		})
	}
}

// promtool runs the Prometheus project's rule checker on files in dir.
func promtool(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(testkit.DebianBinary(t, "/usr/bin/promtool"), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// missingTargetTest is a promtool unit test in which every scrape job but missing reports up;
// missing == "" has every job reporting.
func missingTargetTest(jobs []string, missing string, annotations map[string]string) map[string]any {
	var series []map[string]any
	for _, j := range jobs {
		if j != missing {
			series = append(series, map[string]any{"series": `up{namespace="` + namespace + `", job="` + j + `"}`, "values": "1x15"})
		}
	}
	exp := []map[string]any{}
	if missing != "" {
		labels := strings.NewReplacer("{{ $labels.job }}", missing, "{{ $labels.namespace }}", namespace)
		want := map[string]string{}
		for k, v := range annotations {
			want[k] = labels.Replace(v)
		}
		exp = append(exp, map[string]any{
			"exp_labels":      map[string]string{"severity": "critical", "namespace": namespace, "job": missing},
			"exp_annotations": want,
		})
	}
	return map[string]any{
		"interval":     "1m",
		"input_series": series,
		"alert_rule_test": []map[string]any{
			// Before the rule's 5 minutes nothing fires; after them only the missing job does.
			{"eval_time": "4m", "alertname": "WorkPulseTargetMissing", "exp_alerts": []map[string]any{}},
			{"eval_time": "10m", "alertname": "WorkPulseTargetMissing", "exp_alerts": exp},
		},
	}
}

// serviceDownTest is a promtool unit test in which every scrape job reports up but down, whose
// every target answers down: WorkPulseServiceDown must fire for exactly that job, so a metrics
// Service the alert's job list leaves out fails here.
func serviceDownTest(jobs []string, down string, annotations map[string]string) map[string]any {
	var series []map[string]any
	for _, j := range jobs {
		values := "1x15"
		if j == down {
			values = "0x15"
		}
		series = append(series, map[string]any{"series": `up{namespace="` + namespace + `", job="` + j + `", pod="` + j + `-a"}`, "values": values})
	}
	want := map[string]string{}
	for k, v := range annotations {
		want[k] = strings.ReplaceAll(v, "{{ $labels.job }}", down)
	}
	const rule = "WorkPulseServiceDown"
	return map[string]any{
		"interval":     "1m",
		"input_series": series,
		"alert_rule_test": []map[string]any{
			{"eval_time": "1m", "alertname": rule, "exp_alerts": []map[string]any{}},
			{"eval_time": "5m", "alertname": rule, "exp_alerts": []map[string]any{{
				"exp_labels": map[string]string{"severity": "critical", "job": down}, "exp_annotations": want}}},
		},
	}
}

// reconciliationTest is a promtool unit test of WorkPulseSummaryReconciliationDifferences: two
// report replicas export the same installation total, which a nightly run raises by 3 on the
// second day; a rollout then replaces both replicas, whose new series start at the raised total.
func reconciliationTest(annotations map[string]string) map[string]any {
	series := func(pod, values string) map[string]any {
		return map[string]any{"series": `workpulse_summary_reconciliation_differences_total{namespace="` + namespace + `", pod="` + pod + `"}`, "values": values}
	}
	want := map[string]string{}
	for k, v := range annotations {
		want[k] = strings.ReplaceAll(v, "{{ $value }}", "3")
	}
	fired := []map[string]any{{"exp_labels": map[string]string{"severity": "warning"}, "exp_annotations": want}}
	const rule = "WorkPulseSummaryReconciliationDifferences"
	return map[string]any{
		"interval": "1h",
		"input_series": []map[string]any{
			// Hours 0-29 the old replicas, then the new ones from hour 30 on.
			series("report-a", "2x24 5x5"), series("report-b", "2x24 5x5"),
			series("report-c", "_x29 5x30"), series("report-d", "_x29 5x30"),
		},
		"alert_rule_test": []map[string]any{
			{"eval_time": "24h", "alertname": rule, "exp_alerts": []map[string]any{}},
			{"eval_time": "25h", "alertname": rule, "exp_alerts": fired},
			// The replicas' restart neither hides the difference nor counts it again.
			{"eval_time": "40h", "alertname": rule, "exp_alerts": fired},
			// A day after the difference, and with none since, it resolves.
			{"eval_time": "50h", "alertname": rule, "exp_alerts": []map[string]any{}},
		},
	}
}

// webhookStuckTest is a promtool unit test of WorkPulseWebhookDeliveriesStuck: two report
// replicas export the same queue age, which grows a minute per minute from 0 while a delivery
// keeps failing, until it is delivered at minute 180 and the queue is empty.
func webhookStuckTest(annotations map[string]string) map[string]any {
	series := func(pod string) map[string]any {
		return map[string]any{"series": `workpulse_webhook_oldest_pending_age_seconds{namespace="` + namespace + `", pod="` + pod + `"}`,
			"values": "0+60x180 0x60"}
	}
	want := map[string]string{}
	for k, v := range annotations {
		// At minute 150 the delivery has been pending 9,000 s.
		want[k] = strings.ReplaceAll(v, "{{ $value | humanizeDuration }}", "2h 30m 0s")
	}
	const rule = "WorkPulseWebhookDeliveriesStuck"
	return map[string]any{
		"interval":     "1m",
		"input_series": []map[string]any{series("report-a"), series("report-b")},
		"alert_rule_test": []map[string]any{
			// Past the 7,200 s threshold at minute 121, firing after its 15 minutes.
			{"eval_time": "130m", "alertname": rule, "exp_alerts": []map[string]any{}},
			{"eval_time": "150m", "alertname": rule, "exp_alerts": []map[string]any{{"exp_labels": map[string]string{"severity": "warning"}, "exp_annotations": want}}},
			{"eval_time": "200m", "alertname": rule, "exp_alerts": []map[string]any{}},
		},
	}
}

func TestPromtoolAcceptsTheRulesAndServiceDownTargetMissingReconciliationDifferencesAndStuckWebhooksFireExactlyWhenDue(t *testing.T) {
	spec, rules := renderedRules(t)
	var jobs []string
	for _, s := range find(render(t, "workpulse"), "Service") {
		if s.GetLabels()["workpulse.io/metrics"] == "true" {
			jobs = append(jobs, s.GetName())
		}
	}
	if len(jobs) < 7 {
		t.Fatalf("want the six services' and the operator's metrics Services, got %v", jobs)
	}
	i := slices.IndexFunc(rules, func(r alertRule) bool { return r.Alert == "WorkPulseTargetMissing" })
	if i < 0 {
		t.Fatal("no WorkPulseTargetMissing alert")
	}
	d := slices.IndexFunc(rules, func(r alertRule) bool { return r.Alert == "WorkPulseServiceDown" })
	if d < 0 {
		t.Fatal("no WorkPulseServiceDown alert")
	}

	dir := t.TempDir()
	write := func(name string, v any) {
		b, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("rules.yaml", spec)
	promtool(t, dir, "check", "rules", "rules.yaml")

	r := slices.IndexFunc(rules, func(r alertRule) bool { return r.Alert == "WorkPulseSummaryReconciliationDifferences" })
	if r < 0 {
		t.Fatal("no WorkPulseSummaryReconciliationDifferences alert")
	}
	w := slices.IndexFunc(rules, func(r alertRule) bool { return r.Alert == "WorkPulseWebhookDeliveriesStuck" })
	if w < 0 {
		t.Fatal("no WorkPulseWebhookDeliveriesStuck alert")
	}
	tests := []map[string]any{missingTargetTest(jobs, "", nil), reconciliationTest(rules[r].Annotations), webhookStuckTest(rules[w].Annotations)}
	for _, j := range jobs {
		tests = append(tests, missingTargetTest(jobs, j, rules[i].Annotations), serviceDownTest(jobs, j, rules[d].Annotations))
	}
	write("tests.yaml", map[string]any{"rule_files": []string{"rules.yaml"}, "evaluation_interval": "1m", "tests": tests})
	promtool(t, dir, "test", "rules", "tests.yaml")
}
