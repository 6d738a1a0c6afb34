package chartcheck

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// dbServices log in to PostgreSQL, each as its own role (migrations/roles.Services).
var dbServices = []string{"auth", "session", "ingest", "report", "realtime", "operator"}

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
	prefix := defaultRolePrefix("wp_workpulse_wp", namespace, release)
	owner := "secret:workpulse-database/DATABASE_URL"
	byName := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		byName[o.GetKind()+"/"+o.GetName()] = o
	}

	for _, svc := range dbServices {
		t.Run("The "+svc+" Deployment logs in as its own role with its own Secret, never with the owner's.", func(t *testing.T) {
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
		got := func(o *unstructured.Unstructured) string { return envSources(o)["DB_ROLE_PREFIX"] }
		other := envSources(byName["Job/"+fullname+"-migrations"])
		for _, o := range render(t, "workpulse", "--namespace", "staging") {
			if o.GetKind() == "Job" && o.GetName() == fullname+"-migrations" {
				if want := defaultRolePrefix("wp_staging_wp", "staging", release); got(o) != want || want == other["DB_ROLE_PREFIX"] {
					t.Fatalf("the staging installation's prefix is %q; want %s", got(o), want)
				}
				return
			}
		}
		t.Fatal("no migrations Job rendered")
	})
}

// ownerSecret is the Secret the migrations Job reads the owner's connection string from.
func ownerSecret(t *testing.T, objs []*unstructured.Unstructured) string {
	t.Helper()
	for _, o := range find(objs, "Job") {
		if o.GetName() == fullname+"-migrations" {
			name, _, ok := strings.Cut(strings.TrimPrefix(envSources(o)["DATABASE_URL"], "secret:"), "/")
			if !ok {
				t.Fatalf("the migrations Job's DATABASE_URL is not from a Secret")
			}
			return name
		}
	}
	// Without the hook (migrated elsewhere), the owner's Secret is still the values' one.
	var values struct {
		Database struct {
			ExistingSecret string `json:"existingSecret"`
		} `json:"database"`
	}
	readYAMLLoose(t, "charts/workpulse/values.yaml", &values)
	return values.Database.ExistingSecret
}

func TestNoPodButTheMigrationsJobReferencesTheOwnersSecret(t *testing.T) {
	sets := append(valueSets(t, "workpulse"), valueSet{name: "with database.serviceURL", args: []string{"--set", "database.serviceURL=postgres://db:5432/workpulse"}})
	for _, vs := range sets {
		t.Run("With "+vs.name+" only the migrations Job names the owner's Secret.", func(t *testing.T) {
			objs := render(t, "workpulse", vs.args...)
			owner := ownerSecret(t, objs)
			workloads := 0
			for _, o := range objs {
				var spec any
				switch o.GetKind() {
				case "Deployment", "StatefulSet", "DaemonSet", "Job", "Pod":
					spec = podSpec(o)
				case "CronJob":
					spec, _, _ = unstructured.NestedMap(o.Object, "spec", "jobTemplate", "spec", "template", "spec")
				default:
					continue
				}
				if o.GetKind() == "Job" && o.GetName() == fullname+"-migrations" {
					continue
				}
				workloads++
				// Any mention: an env var, envFrom, a volume, or a value naming it for
				// the operator to hand on to the pods it makes.
				raw, err := json.Marshal(spec)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(raw), `"`+owner+`"`) {
					t.Errorf("%s/%s names the owner's Secret %s", o.GetKind(), o.GetName(), owner)
				}
			}
			if workloads < 7 {
				t.Fatalf("only %d workloads rendered", workloads)
			}
		})
	}
}

func TestTheServicesConnectionStringIsTheOwnersWithoutItsCredentials(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	kubeconfig := adminKubeconfig(t, c, "chartcheck-installer")
	const password = "0wner-pa55word"
	cases := []struct {
		name, ownerURL, want, fails string
	}{
		{"The owner's user and password are taken out and the host, database and parameters kept.",
			"postgres://workpulse_owner:" + password + "@db.example:5432/workpulse?sslmode=require", "postgres://db.example:5432/workpulse?sslmode=require", ""},
		{"A connection string with the password in its parameters is refused: database.serviceURL must be set.",
			"postgres://db.example:5432/workpulse?user=owner&password=" + password, "", "carries credentials in its parameters"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "owner-db-" + string(rune('a'+i))
			secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, StringData: map[string]string{"DATABASE_URL": tc.ownerURL}}
			if _, err := c.kube.CoreV1().Secrets(namespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			out, err := helm(t, "template", release, filepath.Join("charts", "workpulse"), "--namespace", namespace,
				"--dry-run=server", "--kubeconfig", kubeconfig, "--set", "database.existingSecret="+name)
			if tc.fails != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fails) {
					t.Fatalf("helm template: %v; want an error saying %q", err, tc.fails)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out, password) {
				t.Fatal("the rendered chart holds the owner's password")
			}
			secrets := map[string]*unstructured.Unstructured{}
			for _, o := range find(decode(t, out), "Secret") {
				secrets[o.GetName()] = o
			}
			for _, svc := range dbServices {
				s := secrets[fullname+"-db-"+svc]
				if s == nil {
					t.Fatalf("no Secret for %s", svc)
				}
				if got, _, _ := unstructured.NestedString(s.Object, "stringData", "DATABASE_URL"); got != tc.want {
					t.Errorf("%s's DATABASE_URL is %q; want %q", svc, got, tc.want)
				}
			}
		})
	}
}
