package chartcheck

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// dbServices log in to PostgreSQL, each as its own role (migrations/roles.Services).
var dbServices = []string{"auth", "session", "ingest", "report", "realtime"}

// envSources maps each env var of the first container of o to its value, or to
// "secret:<name>/<key>" when it comes from a Secret.
func envSources(o *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	for _, ct := range podSpec(o)["containers"].([]any)[:1] {
		env, _ := ct.(map[string]any)["env"].([]any)
		for _, v := range env {
			v := v.(map[string]any)
			name := v["name"].(string)
			if ref, ok := nested(v, "valueFrom", "secretKeyRef").(map[string]any); ok {
				out[name] = "secret:" + ref["name"].(string) + "/" + ref["key"].(string)
			} else if s, ok := v["value"].(string); ok {
				out[name] = s
			}
		}
	}
	return out
}

func TestEachServiceLogsInAsItsOwnRoleNamedAfterTheInstallation(t *testing.T) {
	objs := render(t, "workpulse", "--set", "database.serviceURL=postgres://db:5432/workpulse?sslmode=require")
	prefix := "wp_workpulse_wp" // wp_<namespace>_<release>
	owner := "secret:workpulse-database/DATABASE_URL"
	byName := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		byName[o.GetKind()+"/"+o.GetName()] = o
	}

	for _, svc := range dbServices {
		t.Run("The "+svc+" service logs in as its own role with its own Secret, never with the owner's.", func(t *testing.T) {
			dep := byName["Deployment/"+fullname+"-"+svc]
			if dep == nil {
				t.Fatal("no Deployment")
			}
			env := envSources(dep)
			secret := fullname + "-db-" + svc
			if env["DATABASE_USER"] != prefix+"_"+svc || env["DATABASE_PASSWORD"] != "secret:"+secret+"/password" ||
				env["DATABASE_URL"] != "secret:"+secret+"/DATABASE_URL" {
				t.Fatalf("DATABASE_USER %q, DATABASE_PASSWORD %q, DATABASE_URL %q", env["DATABASE_USER"], env["DATABASE_PASSWORD"], env["DATABASE_URL"])
			}
			for name, src := range env {
				if src == owner {
					t.Errorf("%s comes from the owner's Secret", name)
				}
			}
			s := byName["Secret/"+secret]
			if s == nil {
				t.Fatalf("no Secret %s", secret)
			}
			data, _, _ := unstructured.NestedStringMap(s.Object, "stringData")
			if len(data["password"]) < 32 || data["username"] != prefix+"_"+svc || strings.Contains(data["DATABASE_URL"], "@") {
				t.Fatalf("Secret %s: username %q, a %d-character password, DATABASE_URL %q (no credentials in it)",
					secret, data["username"], len(data["password"]), data["DATABASE_URL"])
			}
			// Before the migrations Job, which sets the password on the role.
			if a := s.GetAnnotations(); a["helm.sh/hook"] != "pre-install,pre-upgrade" || a["helm.sh/hook-weight"] != "-20" {
				t.Fatalf("Secret %s annotations %v: want a pre-install,pre-upgrade hook before the Job (weight 0)", secret, a)
			}
			job := envSources(byName["Job/"+fullname+"-migrations"])
			if job["DB_ROLE_PREFIX"] != prefix || job["DB_ROLE_PASSWORD_"+strings.ToUpper(svc)] != "secret:"+secret+"/password" {
				t.Fatalf("the migrations Job: DB_ROLE_PREFIX %q, DB_ROLE_PASSWORD_%s %q", job["DB_ROLE_PREFIX"], strings.ToUpper(svc), job["DB_ROLE_PASSWORD_"+strings.ToUpper(svc)])
			}
		})
	}

	t.Run("The report CronJobs log in as the report role.", func(t *testing.T) {
		env := envSources(byName["Deployment/"+fullname+"-operator"])
		if env["REPORT_DATABASE_SECRET"] != fullname+"-db-report" || env["REPORT_DATABASE_USER"] != prefix+"_report" ||
			env["REPORT_DATABASE_PASSWORD_SECRET"] != fullname+"-db-report" {
			t.Fatalf("operator env %v", env)
		}
	})

	t.Run("Installations in two namespaces get roles of their own.", func(t *testing.T) {
		other := envSources(byName["Job/"+fullname+"-migrations"])
		for _, o := range render(t, "workpulse", "--namespace", "staging") {
			if o.GetKind() == "Job" && o.GetName() == fullname+"-migrations" {
				if got := envSources(o)["DB_ROLE_PREFIX"]; got != "wp_staging_wp" || got == other["DB_ROLE_PREFIX"] {
					t.Fatalf("the staging installation's prefix is %q; want wp_staging_wp", got)
				}
				return
			}
		}
		t.Fatal("no migrations Job rendered")
	})
}
