package chartcheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestEveryValueIsCommented(t *testing.T) {
	key := regexp.MustCompile(`^(\s*)([A-Za-z_][\w.-]*):`)
	for _, chart := range charts {
		b, err := os.ReadFile(filepath.Join(repo, "charts", chart, "values.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		// Open blocks: their indentation and whether a comment explains them (and so
		// everything inside).
		type block struct {
			indent    int
			commented bool
		}
		var open []block
		for i, line := range lines {
			m := key.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			indent := len(m[1])
			j := i - 1
			for j >= 0 && strings.TrimSpace(lines[j]) == "" {
				j--
			}
			commented := j >= 0 && strings.HasPrefix(strings.TrimSpace(lines[j]), "#")
			for len(open) > 0 && open[len(open)-1].indent >= indent {
				open = open[:len(open)-1]
			}
			explained := commented
			for _, b := range open {
				explained = explained || b.commented
			}
			if !explained {
				t.Errorf("charts/%s/values.yaml:%d: %q has no comment", chart, i+1, strings.TrimSpace(line))
			}
			open = append(open, block{indent, commented})
		}
	}
}

func TestValuesSchemaRefusesMisspeltAndMistypedValues(t *testing.T) {
	for _, set := range []string{
		"services.auth.replicas=2",
		"services.ingest.port=http",
		"monitoring.mode=sometimes",
		"database.existingSecret=",
		"common.logLevel=verbose",
		"operator.resyncPeriod=hourly",
	} {
		t.Run(set, func(t *testing.T) {
			out, err := helm(t, "template", release, "charts/workpulse", "--set", set)
			if err == nil {
				t.Fatalf("helm template accepted %s", set)
			}
			if !strings.Contains(err.Error(), "schema") {
				t.Fatalf("refused, but not by the schema: %v\n%s", err, out)
			}
		})
	}
}
