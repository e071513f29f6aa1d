package deploycheck_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/connectingest/connect-ingest/internal/config"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// helmVersion is the helm `make test` builds into the cache.
const helmVersion = "v4.3.2"

// helm runs the helm that `make test` builds from its Go module.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := os.Getenv("HELM")
	if bin == "" {
		cache := os.Getenv("CONNECT_INGEST_CACHE")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache", "connect-ingest")
		}
		bin = filepath.Join(cache, "helm-"+helmVersion, "helm")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("helm %s is not built (run `make test`, which builds it into the cache): %v", helmVersion, err)
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Dir = testenv.RepoRoot(t)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String() + errOut.String(), err
}

const chart = "deploy/helm/connect-ingest"

// full turns every optional part of the chart on.
var full = []string{
	"--set", "secrets.DATABASE_URL=postgres://u:p@db:5432/connect_ingest", "--set", "secrets.AMQP_URL=amqp://u:p@mq:5672/",
	"--set", "secrets.MINIO_ACCESS_KEY=k", "--set", "secrets.MINIO_SECRET_KEY=s", "--set", "secrets.WORKER_ADMIN_TOKEN=t",
	"--set", "gateway.tlsSecret=ingest-tls", "--set", "worker.autoscaling.enabled=true", "--set", "serviceMonitor.enabled=true",
	"--set", "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::111122223333:role/connect-ingest",
}

// objects renders the chart and decodes each manifest strictly into its
// Kubernetes API type: a field the API does not have fails.
func objects(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, err := helm(t, append([]string{"template", "r", chart}, args...)...)
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	got := map[string]any{}
	for _, doc := range strings.Split(out, "\n---") {
		if strings.TrimSpace(strings.TrimPrefix(doc, "---")) == "" {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("rendered manifest is not YAML: %v\n%s", err, doc)
		}
		var obj any
		switch head.APIVersion + "/" + head.Kind {
		case "apps/v1/Deployment":
			obj = &appsv1.Deployment{}
		case "v1/Service":
			obj = &corev1.Service{}
		case "v1/ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1/Secret":
			obj = &corev1.Secret{}
		case "v1/ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "policy/v1/PodDisruptionBudget":
			obj = &policyv1.PodDisruptionBudget{}
		case "autoscaling/v2/HorizontalPodAutoscaler":
			obj = &autoscalingv2.HorizontalPodAutoscaler{}
		case "batch/v1/Job":
			obj = &batchv1.Job{}
		case "monitoring.coreos.com/v1/ServiceMonitor":
			obj = &serviceMonitor{}
		default:
			t.Fatalf("the chart renders %s %s, which this test does not know", head.APIVersion, head.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Errorf("%s %s does not match the Kubernetes API: %v", head.Kind, head.Metadata.Name, err)
		}
		got[head.Kind+"/"+head.Metadata.Name] = obj
	}
	return got
}

// serviceMonitor is the part of the Prometheus Operator's CRD the chart
// uses.
type serviceMonitor struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}

func TestChart(t *testing.T) {
	t.Run("helm lint passes", func(t *testing.T) {
		if out, err := helm(t, append([]string{"lint", "--strict", chart}, full...)...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	})

	objs := objects(t, full...)
	gateway := objs["Deployment/r-connect-ingest-gateway"].(*appsv1.Deployment)
	worker := objs["Deployment/r-connect-ingest-worker"].(*appsv1.Deployment)

	t.Run("every manifest matches its Kubernetes type, and each program has probes, limits and a disruption budget", func(t *testing.T) {
		for _, d := range []*appsv1.Deployment{gateway, worker} {
			c := d.Spec.Template.Spec.Containers[0]
			if c.ReadinessProbe == nil || c.LivenessProbe == nil || c.Resources.Limits.Memory().IsZero() ||
				c.SecurityContext == nil || c.SecurityContext.RunAsNonRoot == nil || !*c.SecurityContext.RunAsNonRoot {
				t.Errorf("%s: probes, limits or security context missing: %+v", d.Name, c)
			}
			pdb, ok := objs["PodDisruptionBudget/"+d.Name].(*policyv1.PodDisruptionBudget)
			if !ok || !matches(pdb.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
				t.Errorf("%s: no disruption budget selecting its pods", d.Name)
			}
		}
	})

	t.Run("the programs read only variables config declares, and the secrets from the Secret", func(t *testing.T) {
		declared := map[string]bool{}
		for _, v := range config.Vars() {
			declared[v.Name] = true
		}
		cm := objs["ConfigMap/r-connect-ingest-config"].(*corev1.ConfigMap)
		for k := range cm.Data {
			if !declared[k] {
				t.Errorf("the ConfigMap sets %s, which config does not declare", k)
			}
		}
		secret := objs["Secret/r-connect-ingest-secrets"].(*corev1.Secret)
		for k := range secret.StringData {
			if !declared[k] {
				t.Errorf("the Secret sets %s, which config does not declare", k)
			}
		}
		for _, d := range []*appsv1.Deployment{gateway, worker} {
			for _, e := range d.Spec.Template.Spec.Containers[0].Env {
				if !declared[e.Name] {
					t.Errorf("%s sets %s, which config does not declare", d.Name, e.Name)
				}
			}
		}
	})

	t.Run("the gateway serves the TLS Secret; the worker scales on the CTR queue's depth", func(t *testing.T) {
		var certFile string
		for _, e := range gateway.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "GATEWAY_TLS_CERT_FILE" {
				certFile = e.Value
			}
		}
		vols := gateway.Spec.Template.Spec.Volumes
		if certFile == "" || len(vols) != 1 || vols[0].Secret == nil || vols[0].Secret.SecretName != "ingest-tls" {
			t.Errorf("gateway TLS: cert %q, volumes %+v", certFile, vols)
		}
		hpa := objs["HorizontalPodAutoscaler/r-connect-ingest-worker"].(*autoscalingv2.HorizontalPodAutoscaler)
		if hpa.Spec.ScaleTargetRef.Name != worker.Name || hpa.Spec.Metrics[0].External == nil ||
			hpa.Spec.Metrics[0].External.Metric.Selector.MatchLabels["queue"] != "connect.ctr" || worker.Spec.Replicas != nil {
			t.Errorf("HPA %+v over worker with replicas %v", hpa.Spec, worker.Spec.Replicas)
		}
		sm := objs["ServiceMonitor/r-connect-ingest"].(*serviceMonitor)
		if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "metrics" {
			t.Errorf("ServiceMonitor endpoints %+v: want the metrics ports only", sm.Spec.Endpoints)
		}
		for _, name := range []string{"Service/r-connect-ingest-gateway", "Service/r-connect-ingest-worker"} {
			svc := objs[name].(*corev1.Service)
			if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == "metrics" }) {
				t.Errorf("%s has no metrics port for the ServiceMonitor", name)
			}
		}
	})

	t.Run("without secrets or an existing Secret the chart refuses to render", func(t *testing.T) {
		out, err := helm(t, "template", "r", chart)
		if err == nil || !strings.Contains(out, "is required unless existingSecret names a Secret") {
			t.Fatalf("rendered without secrets: %v\n%.300s", err, out)
		}
		objs := objects(t, "--set", "existingSecret=from-vault")
		if _, ok := objs["Secret/from-vault"]; ok {
			t.Error("an existing Secret was rendered again")
		}
	})
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}
