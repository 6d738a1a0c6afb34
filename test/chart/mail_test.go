package chartcheck

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestAuthGetsTheMailSettingsOfTheValuesAndItsPasswordFromTheSecretOnly
// renders the chart's mail values: what reaches auth is the SMTP_* settings
// it reads at start, the password only as a reference to the Secret.
func TestAuthGetsTheMailSettingsOfTheValuesAndItsPasswordFromTheSecretOnly(t *testing.T) {
	server := []string{"--set", "services.auth.publicURL=https://time.example.com",
		"--set", "services.auth.mail.host=smtp.example.com", "--set", "services.auth.mail.from=WorkPulse <no-reply@example.com>"}
	for _, c := range []struct {
		name string
		args []string
		want map[string]any
	}{
		{"Without a mail host auth gets no SMTP setting and sends no mail.", nil, map[string]any{}},
		{"A mail host reaches auth with its port, transport security and sender, and no credentials.", server,
			map[string]any{"SMTP_HOST": "smtp.example.com", "SMTP_PORT": "587", "SMTP_SECURITY": "starttls",
				"SMTP_FROM": "WorkPulse <no-reply@example.com>"}},
		{"A user name brings the password as a reference to the named Secret's key password.",
			append(append([]string{}, server...), "--set", "services.auth.mail.security=tls", "--set", "services.auth.mail.port=465",
				"--set", "services.auth.mail.username=mailer", "--set", "services.auth.mail.passwordSecret=smtp-credentials"),
			map[string]any{"SMTP_HOST": "smtp.example.com", "SMTP_PORT": "465", "SMTP_SECURITY": "tls",
				"SMTP_FROM": "WorkPulse <no-reply@example.com>", "SMTP_USERNAME": "mailer",
				"SMTP_PASSWORD": map[string]any{"secretKeyRef": map[string]any{"name": "smtp-credentials", "key": "password"}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := smtpEnvOfAuth(t, render(t, "workpulse", c.args...)); !reflect.DeepEqual(got, c.want) {
				t.Errorf("auth's SMTP settings %v; want %v", got, c.want)
			}
		})
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"A mail host without a sender is refused.", []string{"--set", "services.auth.publicURL=https://time.example.com", "--set", "services.auth.mail.host=smtp.example.com"}},
		{"A mail host without a public address for the links is refused.", []string{"--set", "services.auth.mail.host=smtp.example.com", "--set", "services.auth.mail.from=no-reply@example.com"}},
		{"A user name without the password's Secret is refused.", append(append([]string{}, server...), "--set", "services.auth.mail.username=mailer")},
	} {
		t.Run(c.name, func(t *testing.T) {
			if out, err := helm(t, append([]string{"template", release, "charts/workpulse"}, c.args...)...); err == nil {
				t.Fatalf("rendered: %.200s", out)
			}
		})
	}
}

// smtpEnvOfAuth is auth's SMTP_* environment: each variable's value, or its
// valueFrom where it has no value.
func smtpEnvOfAuth(t *testing.T, objs []*unstructured.Unstructured) map[string]any {
	t.Helper()
	got := map[string]any{}
	for _, o := range find(objs, "Deployment") {
		if o.GetName() != fullname+"-auth" {
			continue
		}
		for _, ct := range podSpec(o)["containers"].([]any) {
			env, _ := ct.(map[string]any)["env"].([]any)
			for _, v := range env {
				v := v.(map[string]any)
				name := v["name"].(string)
				if !strings.HasPrefix(name, "SMTP_") {
					continue
				}
				if value, ok := v["value"]; ok {
					got[name] = value
				} else {
					got[name] = v["valueFrom"]
				}
			}
		}
	}
	return got
}
