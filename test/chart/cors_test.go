package chartcheck

import (
	"fmt"
	"strings"
	"testing"

	"github.com/workpulse/workpulse/api/routes"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestEveryServiceGetsTheAllowedOriginsOfTheValues(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"By default any origin may call the API.", nil, "*"},
		{"A list of origins reaches every service as one comma list.",
			[]string{"--set", "cors.allowedOrigins={https://dash.example.com,http://localhost:5173}"}, "https://dash.example.com,http://localhost:5173"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := envOfEachService(t, render(t, "workpulse", c.args...), "CORS_ALLOWED_ORIGINS")
			for _, svc := range routes.Services {
				if got[svc.Name] != c.want {
					t.Errorf("%s: CORS_ALLOWED_ORIGINS %q; want %q", svc.Name, got[svc.Name], c.want)
				}
			}
		})
	}
	t.Run("A value that is no origin is refused.", func(t *testing.T) {
		if out, err := helm(t, "template", release, "charts/workpulse", "--set", "cors.allowedOrigins={https://dash.example.com/app}"); err == nil {
			t.Fatalf("rendered: %.200s", out)
		}
	})
}

func TestEveryServiceGetsTheEnvelopeOfTheValues(t *testing.T) {
	for _, want := range []string{"none", "legacy"} {
		got := envOfEachService(t, render(t, "workpulse", "--set", "common.apiEnvelope="+want), "API_ENVELOPE")
		for _, svc := range routes.Services {
			if got[svc.Name] != want {
				t.Errorf("%s: API_ENVELOPE %q; want %q", svc.Name, got[svc.Name], want)
			}
		}
	}
	if out, err := helm(t, "template", release, "charts/workpulse", "--set", "common.apiEnvelope=nest"); err == nil {
		t.Fatalf("rendered: %.200s", out)
	}
}

// envOfEachService is the value of the environment variable name in each
// service's Deployment, by service.
func envOfEachService(t *testing.T, objs []*unstructured.Unstructured, name string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, o := range find(objs, "Deployment") {
		for _, ct := range podSpec(o)["containers"].([]any) {
			env, _ := ct.(map[string]any)["env"].([]any)
			for _, v := range env {
				if v := v.(map[string]any); v["name"] == name {
					got[strings.TrimPrefix(o.GetName(), fullname+"-")] = v["value"].(string)
				}
			}
		}
	}
	return got
}

func TestTheReplacedSystemsJWTSecretReachesEveryVerifyingServiceFromItsSecretOnly(t *testing.T) {
	secretOf := func(objs []*unstructured.Unstructured) map[string]string {
		got := map[string]string{}
		for _, o := range find(objs, "Deployment") {
			for _, ct := range podSpec(o)["containers"].([]any) {
				env, _ := ct.(map[string]any)["env"].([]any)
				for _, v := range env {
					v := v.(map[string]any)
					if v["name"] != "LEGACY_JWT_SECRET" {
						continue
					}
					ref, _ := v["valueFrom"].(map[string]any)["secretKeyRef"].(map[string]any)
					got[strings.TrimPrefix(o.GetName(), fullname+"-")] = fmt.Sprint(ref["name"], "/", ref["key"])
				}
			}
		}
		return got
	}
	if got := secretOf(render(t, "workpulse")); len(got) != 0 {
		t.Errorf("by default LEGACY_JWT_SECRET is set in %v; want nowhere", got)
	}
	got := secretOf(render(t, "workpulse", "--set", "common.legacyJwtSecret.existingSecret=old-jwt"))
	for _, svc := range routes.Services {
		want := "old-jwt/secret"
		if svc.Name == routes.Web { // serves files and verifies no token
			want = ""
		}
		if got[svc.Name] != want {
			t.Errorf("%s: LEGACY_JWT_SECRET from %q; want %q", svc.Name, got[svc.Name], want)
		}
	}
}
