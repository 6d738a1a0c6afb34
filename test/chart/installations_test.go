package chartcheck

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// defaultRolePrefix is the chart's default role prefix: readable (wp_<namespace>_<release>,
// given here as the chart writes it) and a digest of namespace/release.
func defaultRolePrefix(readable, ns, rel string) string {
	sum := sha256.Sum256([]byte(ns + "/" + rel))
	return readable + "_" + hex.EncodeToString(sum[:])[:8]
}

// installation is one release's rendered objects, by where their names must be unique.
type installation struct {
	// cluster holds kind/name of each cluster-scoped object; namespaced kind/namespace/name.
	cluster, namespaced map[string]bool
	// rolePrefix and lease are the names it takes outside its own objects: in PostgreSQL
	// (every role is the whole database cluster's) and the operator's leader Lease.
	rolePrefix, lease string
	// tenants is the installation label its operator reconciles WorkPulseTenants by.
	tenants string
	// topics and keys are the prefixes of its Kafka topics and groups and of its Redis keys,
	// each as every service of it runs with it.
	topics, keys map[string]bool
	crds         int
}

func install(t *testing.T, c *cluster, rel, ns string) installation {
	t.Helper()
	in := installation{cluster: map[string]bool{}, namespaced: map[string]bool{}, topics: map[string]bool{}, keys: map[string]bool{}}
	out := mustHelm(t, "template", rel, filepath.Join("charts", "workpulse"), "--namespace", ns,
		"--api-versions", "monitoring.coreos.com/v1", "--set", "database.serviceURL=postgres://db:5432/workpulse")
	for _, o := range decode(t, out) {
		gvk := o.GroupVersionKind()
		m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
		}
		if o.GetKind() == "CustomResourceDefinition" {
			in.crds++
		}
		if m.Scope.Name() == meta.RESTScopeNameRoot {
			in.cluster[o.GetKind()+"/"+o.GetName()] = true
		} else {
			objNS := o.GetNamespace()
			if objNS == "" {
				objNS = ns
			}
			in.namespaced[o.GetKind()+"/"+objNS+"/"+o.GetName()] = true
		}
		if k := o.GetKind(); k != "Deployment" && k != "Job" {
			continue
		}
		env := envSources(o)
		if v := env["DB_ROLE_PREFIX"]; v != "" {
			in.rolePrefix = v
		}
		if v := env["LEADER_ELECTION_ID"]; v != "" {
			in.lease = ns + "/" + v
		}
		if v := env["INSTALLATION"]; v != "" {
			in.tenants = v
		}
		if v, ok := env["KAFKA_TOPIC_PREFIX"]; ok {
			in.topics[v] = true
		}
		if v, ok := env["REDIS_PREFIX"]; ok {
			in.keys[v] = true
		}
	}
	if len(in.topics) != 1 || len(in.keys) != 1 {
		t.Fatalf("%s in %s: its services run with the topic prefixes %v and the key prefixes %v; want one of each", rel, ns, in.topics, in.keys)
	}
	if in.rolePrefix == "" || in.lease == "" || len(in.cluster) == 0 {
		t.Fatalf("%s in %s: role prefix %q, lease %q, %d cluster-scoped objects", rel, ns, in.rolePrefix, in.lease, len(in.cluster))
	}
	return in
}

// Two installations in one Kubernetes cluster, and on one PostgreSQL cluster, one Kafka cluster
// and one Redis, must not claim the same name anywhere both reach: a cluster-scoped object (which
// Helm would refuse to adopt, or worse, which one uninstall would delete from under the other),
// a namespaced object of a shared namespace, a PostgreSQL role, the operator's leader Lease, a
// Kafka topic or consumer group (each would read the other's events), a Redis key or channel. The CRD is
// the one thing they share, and the workpulse-crds chart installs it once.
func TestTwoInstallationsInOneClusterClaimNoNameOfEachOther(t *testing.T) {
	c := startCluster(t)
	for _, tc := range []struct {
		name                 string
		relA, nsA, relB, nsB string
	}{
		{"One release name in two namespaces.", "workpulse", "team-a", "workpulse", "team-b"},
		{"Two releases in one namespace.", "wp-a", "workpulse", "wp-b", "workpulse"},
		{"Two releases whose long names start alike, in one long-named namespace.", "workpulse-eu-1", "workpulse-production-europe-west", "workpulse-eu-2", "workpulse-production-europe-west"},
		{"Names that read alike once - is _: namespace a-b release c, namespace a release b-c.", "c", "a-b", "b-c", "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := install(t, c, tc.relA, tc.nsA), install(t, c, tc.relB, tc.nsB)
			for name := range a.cluster {
				if b.cluster[name] {
					t.Errorf("both claim the cluster-scoped %s", name)
				}
			}
			for name := range a.namespaced {
				if b.namespaced[name] {
					t.Errorf("both claim %s", name)
				}
			}
			if a.rolePrefix == b.rolePrefix {
				t.Errorf("both log in to PostgreSQL as the roles %s_*", a.rolePrefix)
			}
			if a.lease == b.lease {
				t.Errorf("both operators elect their leader on the Lease %s", a.lease)
			}
			if a.tenants == b.tenants || a.tenants == "" {
				t.Errorf("both operators reconcile the tenants labelled workpulse.io/installation=%q", a.tenants)
			}
			// One Kafka cluster and one Redis for both, as a platform team provides them.
			for p := range a.topics {
				if b.topics[p] {
					t.Errorf("both name their Kafka topics and consumer groups %q+workpulse.activity.v1 ...", p)
				}
			}
			for p := range a.keys {
				if b.keys[p] {
					t.Errorf("both keep their Redis keys and channels under %q", p)
				}
			}
			if a.crds+b.crds != 0 {
				t.Errorf("the workpulse chart renders a CRD: the second installation would take it over; it is workpulse-crds's")
			}
		})
	}
	t.Run("The CRD both use is the workpulse-crds chart's, the same whatever its release.", func(t *testing.T) {
		one, two := find(render(t, "workpulse-crds"), "CustomResourceDefinition"), find(decode(t, mustHelm(t, "template", "other", "charts/workpulse-crds", "--namespace", "elsewhere")), "CustomResourceDefinition")
		if len(one) != 1 || len(two) != 1 || one[0].GetName() != two[0].GetName() {
			t.Fatalf("CRDs %d and %d", len(one), len(two))
		}
		if a := one[0].GetAnnotations(); a["helm.sh/resource-policy"] != "keep" {
			t.Errorf("the CRD has no helm.sh/resource-policy keep: uninstalling its chart would delete every installation's tenants")
		}
	})
}

func mustHelm(t *testing.T, args ...string) string {
	t.Helper()
	out, err := helm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An installation made by an older chart, whose default prefix had no digest, keeps its
// roles across an upgrade: the prefix is read back from its auth role Secret.
func TestAnUpgradeKeepsTheRolePrefixOfItsInstallation(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	kubeconfig := adminKubeconfig(t, c, "chartcheck-upgrader")
	// Release names of their own: the other tests' releases have no such Secret.
	old := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "upgraded-workpulse-db-auth"},
		StringData: map[string]string{"username": "wp_workpulse_upgraded_auth", "password": "kept"}}
	if _, err := c.kube.CoreV1().Secrets(namespace).Create(ctx, old, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	prefixOf := func(t *testing.T, rel string) string {
		out := mustHelm(t, "template", rel, filepath.Join("charts", "workpulse"), "--namespace", namespace, "--dry-run=server",
			"--kubeconfig", kubeconfig, "--set", "database.serviceURL=postgres://db:5432/workpulse")
		for _, o := range find(decode(t, out), "Job") {
			if p := envSources(o)["DB_ROLE_PREFIX"]; p != "" {
				return p
			}
		}
		t.Fatal("no migrations Job")
		return ""
	}
	t.Run("The upgraded installation keeps the prefix its Secret names.", func(t *testing.T) {
		if got := prefixOf(t, "upgraded"); got != "wp_workpulse_upgraded" {
			t.Fatalf("prefix %q; want wp_workpulse_upgraded, its roles' own", got)
		}
	})
	t.Run("A new installation gets the default with its digest.", func(t *testing.T) {
		if got, want := prefixOf(t, "fresh"), defaultRolePrefix("wp_workpulse_fresh", namespace, "fresh"); got != want {
			t.Fatalf("prefix %q; want %q", got, want)
		}
	})
	t.Run("A prefix set in the values wins over the Secret's.", func(t *testing.T) {
		out := mustHelm(t, "template", "upgraded", filepath.Join("charts", "workpulse"), "--namespace", namespace, "--dry-run=server",
			"--kubeconfig", kubeconfig, "--set", "database.serviceURL=postgres://db:5432/workpulse", "--set", "database.roles.prefix=wp_renamed")
		if !strings.Contains(out, `value: "wp_renamed"`) {
			t.Fatal("database.roles.prefix was not used")
		}
	})
}

// An installation keeps its Kafka topics and Redis keys across an upgrade: the chart reads the
// prefixes back from the auth Deployment it runs. One made by a chart without the topic prefix
// keeps the fixed topic names (workpulse.activity.v1, ...) and the key prefix it had; events
// waiting in its topics are not left behind, nor its throttles and presence in Redis.
func TestAnUpgradeKeepsTheKafkaTopicsAndRedisKeysOfItsInstallation(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	kubeconfig := adminKubeconfig(t, c, "chartcheck-prefixes")
	// running creates rel's auth Deployment as a chart made it, with env.
	running := func(t *testing.T, rel string, env ...corev1.EnvVar) {
		labels := map[string]string{"app": rel}
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: rel + "-workpulse-auth"},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "auth", Image: "auth", Env: env}}}}}}
		if _, err := c.kube.AppsV1().Deployments(namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	prefixes := func(t *testing.T, rel string, set ...string) (topics, keys string) {
		args := []string{"template", rel, filepath.Join("charts", "workpulse"), "--namespace", namespace, "--dry-run=server",
			"--kubeconfig", kubeconfig, "--set", "database.serviceURL=postgres://db:5432/workpulse"}
		for _, s := range set {
			args = append(args, "--set-string", s)
		}
		for _, o := range find(decode(t, mustHelm(t, args...)), "Deployment") {
			if env := envSources(o); o.GetName() == rel+"-workpulse-auth" {
				return env["KAFKA_TOPIC_PREFIX"], env["REDIS_PREFIX"]
			}
		}
		t.Fatal("no auth Deployment")
		return "", ""
	}
	for _, tc := range []struct {
		name, rel string
		env       []corev1.EnvVar
		set       []string
		topics    string
		keys      string
	}{
		{"An installation made before the topic prefix keeps the topic names and the key prefix it runs with.", "older",
			[]corev1.EnvVar{{Name: "REDIS_PREFIX", Value: "wp"}}, nil, "", "wp"},
		{"One whose key prefix was set keeps it.", "older-keys",
			[]corev1.EnvVar{{Name: "REDIS_PREFIX", Value: "acme"}}, nil, "", "acme"},
		{"One made by this chart keeps its prefixes, whatever the default is now.", "current",
			[]corev1.EnvVar{{Name: "KAFKA_TOPIC_PREFIX", Value: "eu.current."}, {Name: "REDIS_PREFIX", Value: "wp:eu:current"}}, nil, "eu.current.", "wp:eu:current"},
		{"A new installation gets prefixes of its namespace and release.", "fresh", nil, nil, namespace + ".fresh.", "wp:" + namespace + ":fresh"},
		{"Values win over what runs: \"\" is the fixed topic names.", "renamed",
			[]corev1.EnvVar{{Name: "KAFKA_TOPIC_PREFIX", Value: "old."}, {Name: "REDIS_PREFIX", Value: "old"}},
			[]string{"kafka.topicPrefix=", "redis.prefix=new"}, "", "new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != nil {
				running(t, tc.rel, tc.env...)
			}
			topics, keys := prefixes(t, tc.rel, tc.set...)
			if topics != tc.topics || keys != tc.keys {
				t.Fatalf("topic prefix %q, key prefix %q; want %q and %q", topics, keys, tc.topics, tc.keys)
			}
		})
	}
	t.Run("A topic prefix Kafka would refuse is refused at install.", func(t *testing.T) {
		out, err := helm(t, "template", "bad", filepath.Join("charts", "workpulse"), "--namespace", namespace,
			"--set", "database.serviceURL=postgres://db:5432/workpulse", "--set-string", "kafka.topicPrefix=team a/")
		if err == nil || !strings.Contains(err.Error()+out, "topicPrefix") {
			t.Fatalf("got %v; want the prefix refused, naming kafka.topicPrefix", err)
		}
	})
}
