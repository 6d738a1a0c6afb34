package plugin

import (
	"strings"
	"testing"
)

func TestTenantManifest(t *testing.T) {
	cases := []struct {
		name    string
		options tenantOptions
		wantErr string // empty: the manifest is built
	}{
		{"a name and an admin email are enough", tenantOptions{name: "acme", adminEmail: "it@acme.example"}, ""},
		{"every option is carried into the spec", tenantOptions{name: "acme", adminEmail: "it@acme.example", timeZone: "Europe/Paris",
			plan: "pro", storage: "Dedicated", retentionMonths: 12, premakeMonths: 3, schedule: "0 1 * * *", deletionPolicy: "Delete"}, ""},
		{"a tenant needs its first administrator", tenantOptions{name: "acme"}, "--admin-email is required"},
		{"an admin email must be an address", tenantOptions{name: "acme", adminEmail: "IT <it@acme.example>"}, "is not an email address"},
		{"a name Kubernetes would refuse is refused here", tenantOptions{name: "Acme Corp", adminEmail: "it@acme.example"}, "tenant name"},
		{"a time zone the IANA database does not know is refused", tenantOptions{name: "acme", adminEmail: "it@acme.example", timeZone: "Mars/Olympus_Mons"},
			"is not an IANA time zone"},
		{"the machine's local zone is not a zone a cluster shares", tenantOptions{name: "acme", adminEmail: "it@acme.example", timeZone: "Local"},
			"is not an IANA time zone"},
		{"months cannot be negative", tenantOptions{name: "acme", adminEmail: "it@acme.example", retentionMonths: -1}, "cannot be negative"},
		{"an installation that cannot be a label value is refused", tenantOptions{name: "acme", adminEmail: "it@acme.example", installation: "eu/wp"},
			"--installation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tn, err := tenantManifest(c.options)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tn.Spec.Admin == nil || tn.Spec.Admin.Email != c.options.adminEmail || tn.Spec.Admin.Name != "it" {
				t.Fatalf("admin = %+v", tn.Spec.Admin)
			}
			if tn.Spec.TimeZone != c.options.timeZone || string(tn.Spec.Storage) != c.options.storage ||
				int(tn.Spec.RetentionMonths) != c.options.retentionMonths || tn.Spec.DailySummary.Schedule != c.options.schedule {
				t.Fatalf("spec = %+v, from %+v", tn.Spec, c.options)
			}
		})
	}
}

func TestPrintedManifestHasNoServerFields(t *testing.T) {
	tn, err := tenantManifest(tenantOptions{name: "acme", namespace: "customers", adminEmail: "it@acme.example", installation: "workpulse.workpulse"})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := printManifest(IO{Out: &out}, tn); err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: workpulse.io/v1alpha1
kind: WorkPulseTenant
metadata:
  labels:
    workpulse.io/installation: workpulse.workpulse
  name: acme
  namespace: customers
spec:
  admin:
    email: it@acme.example
    name: it
  displayName: acme
`
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
}
