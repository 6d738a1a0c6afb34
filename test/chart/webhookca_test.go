package chartcheck

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestReportTrustsThePrivateReceiversCAOfTheValuesAndNoOtherServiceDoes
// renders services.report.webhookCA: report gets WEBHOOK_CA_FILE pointing
// into the named Secret mounted read-only; no other service sees it.
func TestReportTrustsThePrivateReceiversCAOfTheValuesAndNoOtherServiceDoes(t *testing.T) {
	for _, c := range []struct {
		name  string
		args  []string
		env   map[string]string
		mount map[string]any
	}{
		{"Without the value no service gets a webhook CA.", nil, map[string]string{}, nil},
		{"With the value report reads the bundle from the Secret's key, mounted read-only.",
			[]string{"--set", "services.report.webhookCA.existingSecret=receivers-ca", "--set", "services.report.webhookCA.key=bundle.pem"},
			map[string]string{"report": "/etc/workpulse/webhook-ca/bundle.pem"},
			map[string]any{"secret": "receivers-ca", "mountPath": "/etc/workpulse/webhook-ca", "readOnly": true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			objs := render(t, "workpulse", c.args...)
			if got := envOfEachService(t, objs, "WEBHOOK_CA_FILE"); !reflect.DeepEqual(got, c.env) {
				t.Errorf("WEBHOOK_CA_FILE by service %v; want %v", got, c.env)
			}
			for _, o := range find(objs, "Deployment") {
				got := webhookCAVolume(o)
				want := map[string]any(nil)
				if o.GetName() == fullname+"-report" {
					want = c.mount
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: webhook CA volume %v; want %v", o.GetName(), got, want)
				}
			}
		})
	}
}

// webhookCAVolume is the Secret and mount of o's webhook-ca volume, nil
// without one.
func webhookCAVolume(o *unstructured.Unstructured) map[string]any {
	spec := podSpec(o)
	var got map[string]any
	for _, v := range spec["volumes"].([]any) {
		if v := v.(map[string]any); v["name"] == "webhook-ca" {
			got = map[string]any{"secret": nested(v, "secret", "secretName")}
		}
	}
	for _, ct := range spec["containers"].([]any) {
		mounts, _ := ct.(map[string]any)["volumeMounts"].([]any)
		for _, m := range mounts {
			if m := m.(map[string]any); m["name"] == "webhook-ca" {
				if got == nil {
					got = map[string]any{}
				}
				got["mountPath"], got["readOnly"] = m["mountPath"], m["readOnly"]
			}
		}
	}
	return got
}
