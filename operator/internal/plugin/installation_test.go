package plugin

import (
	"strings"
	"testing"
)

func TestInstallationForPicksTheOneOperatorWatchingTheNamespace(t *testing.T) {
	everywhere := operatorInstallation{Namespace: "workpulse", Deployment: "workpulse-operator", Installation: "workpulse.workpulse"}
	eu := operatorInstallation{Namespace: "eu", Deployment: "wp-operator", Installation: "eu.wp", Watches: []string{"acme", "eu"}}
	us := operatorInstallation{Namespace: "us", Deployment: "wp-operator", Installation: "us.wp", Watches: []string{"acme", "us"}}
	legacy := operatorInstallation{Namespace: "old", Deployment: "wp-operator"}
	cases := []struct {
		name      string
		operators []operatorInstallation
		namespace string
		want      string
		wantErr   string
	}{
		{"one operator watching every namespace has every tenant", []operatorInstallation{everywhere}, "acme", "workpulse.workpulse", ""},
		{"an operator that does not watch the namespace is not a candidate", []operatorInstallation{eu, everywhere}, "beta", "workpulse.workpulse", ""},
		{"of two watching the namespace, the one installed in it has it", []operatorInstallation{eu, us}, "eu", "eu.wp", ""},
		{"two watching the namespace, neither in it, is not guessed", []operatorInstallation{eu, us}, "acme", "",
			"2 WorkPulse installations watch namespace acme, pass --installation with one of: eu.wp (deployment eu/wp-operator), us.wp (deployment us/wp-operator)"},
		{"no operator watching the namespace is said", []operatorInstallation{eu}, "beta", "", "no WorkPulse operator watches namespace beta"},
		{"an operator without an installation name leaves the tenant unlabelled", []operatorInstallation{legacy}, "acme", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := installationFor(c.operators, c.namespace)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("installationFor = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}
