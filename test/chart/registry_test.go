package chartcheck

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// digestOf is a well-formed digest distinct for each image name.
func digestOf(name string) string {
	return "sha256:" + strings.Repeat(string("0123456789abcdef"[len(name)%16]), 64)
}

// podImages returns every image a rendered pod runs, by "<kind>/<name>/<container>", with the
// report image the operator hands its CronJobs, and whether each pod names the pull secret.
func podImages(objs []*unstructured.Unstructured) (images map[string]string, withoutSecret []string) {
	images = map[string]string{}
	for _, o := range objs {
		switch o.GetKind() {
		case "Deployment", "Job", "Pod":
		default:
			continue
		}
		spec := podSpec(o)
		secrets, _ := spec["imagePullSecrets"].([]any)
		if len(secrets) != 1 || secrets[0].(map[string]any)["name"] != "regcred" {
			withoutSecret = append(withoutSecret, o.GetKind()+"/"+o.GetName())
		}
		containers, _ := spec["containers"].([]any)
		for _, c := range containers {
			c := c.(map[string]any)
			key := o.GetKind() + "/" + o.GetName() + "/" + c["name"].(string)
			images[key] = c["image"].(string)
			env, _ := c["env"].([]any)
			for _, e := range env {
				if e := e.(map[string]any); e["name"] == "REPORT_IMAGE" {
					images[key+"/REPORT_IMAGE"] = e["value"].(string)
				}
			}
		}
	}
	return images, withoutSecret
}

func TestTheChartRunsTheReleasedImagesFromTheRegistryByDigest(t *testing.T) {
	const registry = "registry.example.com/team/workpulse"
	version := appVersion(t)
	// web keeps its tag: a digest applies only to the images it is given for.
	digested := []string{"auth", "session", "ingest", "report", "realtime", "operator", "migrate", "busybox"}
	args := []string{"--set", "image.registry=" + registry, "--set", "image.pullSecrets={regcred}"}
	for _, n := range digested {
		args = append(args, "--set", "image.digests."+n+"="+digestOf(n))
	}
	objs := render(t, "workpulse", args...)
	images, withoutSecret := podImages(objs)

	cases := []struct {
		name, key, want string
	}{
		{"A service with a digest runs <registry>/<name>@<digest>.", "Deployment/" + fullname + "-auth/auth", registry + "/auth@" + digestOf("auth")},
		{"A service without a digest runs <registry>/<name>:<tag>.", "Deployment/" + fullname + "-web/web", registry + "/web:" + version},
		{"The operator runs its digest.", "Deployment/" + fullname + "-operator/operator", registry + "/operator@" + digestOf("operator")},
		{"The operator's CronJobs get the report image by digest.", "Deployment/" + fullname + "-operator/operator/REPORT_IMAGE", registry + "/report@" + digestOf("report")},
		{"The migrations hook runs the migrate digest.", "Job/" + fullname + "-migrations/migrate", registry + "/migrate@" + digestOf("migrate")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := images[c.key]; got != c.want {
				t.Fatalf("%s runs %q, want %q (all: %v)", c.key, got, c.want, images)
			}
		})
	}
	t.Run("Every image comes from the registry, and every pod names the pull secret.", func(t *testing.T) {
		for key, img := range images {
			if !strings.HasPrefix(img, registry+"/") {
				t.Errorf("%s runs %q, not from %s", key, img, registry)
			}
		}
		if len(withoutSecret) > 0 {
			t.Errorf("without imagePullSecrets regcred: %v", withoutSecret)
		}
	})
	t.Run("The operator's CronJob pods pull the report image with the secret through the ServiceAccount it gives them.", func(t *testing.T) {
		account := ""
		for _, d := range find(objs, "Deployment") {
			if d.GetName() == fullname+"-operator" {
				account = envSources(d)["JOB_SERVICE_ACCOUNT"]
			}
		}
		var secrets []any
		for _, sa := range find(objs, "ServiceAccount") {
			if sa.GetName() == account {
				secrets, _, _ = unstructured.NestedSlice(sa.Object, "imagePullSecrets")
			}
		}
		if account == "" || len(secrets) != 1 || secrets[0].(map[string]any)["name"] != "regcred" {
			t.Fatalf("the operator's JOB_SERVICE_ACCOUNT %q pulls with %v, want regcred", account, secrets)
		}
	})
}

func TestTheChartRefusesImageValuesThatNoRegistryCouldServe(t *testing.T) {
	cases := []struct{ name, set, named string }{
		{"A digest that is not sha256 and 64 hex digits is refused.", "image.digests.auth=sha256:abc", "sha256:abc"},
		{"A digest for an image the chart does not run is refused.", "image.digests.nginx=" + digestOf("nginx"), "nginx"},
		{"A registry with a trailing slash is refused.", "image.registry=registry.example.com/", "registry.example.com/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := helm(t, "template", release, "charts/workpulse", "--namespace", namespace, "--set", c.set)
			if err == nil {
				t.Fatalf("--set %s rendered:\n%.300s", c.set, out)
			}
			if !strings.Contains(err.Error(), "schema") || !strings.Contains(err.Error(), c.named) {
				t.Fatalf("--set %s: the error is not the schema's about %q: %v", c.set, c.named, err)
			}
		})
	}
}
