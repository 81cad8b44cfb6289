package helm

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/mudscf/mudscf/exporter"
	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/proxy"
)

const chartDir = "mudscf"

// kubeVersion stands in for a cluster: helm built by go install believes it
// talks to Kubernetes 1.20, below the chart's kubeVersion.
const kubeVersion = "1.31.0"

// helmBinary finds helm on PATH or where `go install` puts it (see
// testenv.Tool).
func helmBinary(t *testing.T) string {
	return testenv.Tool(t, "helm", "go install helm.sh/helm/v3/cmd/helm@v3.22.0, as .ci/run does")
}

// runHelm returns helm's standard output; stderr goes into the error, and
// for lint (which logs what templates would fail instead of failing) into
// stdout as well.
func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Keep helm off the developer's own repositories and caches.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	err := cmd.Run()
	if args[0] == "lint" {
		stdout.Write(stderr.Bytes())
	}
	if err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

func valuesArgs(files []string, set []string) []string {
	var args []string
	for _, f := range files {
		args = append(args, "-f", f)
	}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return args
}

const allFeatures = "testdata/all-features.yaml"

// releaseNamespace is where render installs the release.
const releaseNamespace = "obs"

func TestLintStrict(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
	}{
		{"defaults", nil},
		{"all features", []string{allFeatures}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runHelm(t, append([]string{"lint", "--strict", "--kube-version", kubeVersion, chartDir}, valuesArgs(tc.values, nil)...)...)
			if err != nil {
				t.Fatal(err)
			}
			// [INFO] too: helm's recommendations (an icon, say) are the
			// metadata Artifact Hub and users read.
			if !strings.Contains(out, "0 chart(s) failed") || strings.Contains(out, "Fail:") || strings.Contains(out, "[WARNING]") || strings.Contains(out, "[INFO]") {
				t.Fatalf("helm lint did not report a clean chart:\n%s", out)
			}
		})
	}
}

// rendered is one release's objects, each decoded strictly into its type.
type rendered struct {
	deployments map[string]*appsv1.Deployment
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	services    map[string]*corev1.Service
	pods        map[string]*corev1.Pod
	networkPols map[string]*networkingv1.NetworkPolicy
	hpas        map[string]*autoscalingv2.HorizontalPodAutoscaler
	pdbs        map[string]*policyv1.PodDisruptionBudget
	monitors    map[string]*monitoringv1.ServiceMonitor
	rules       map[string]*prometheusRule
	kinds       []string
	// Every object, for what all of them must carry (commonLabels).
	objects []renderedObject
}

type renderedObject struct {
	kind string
	meta metav1.Object
}

// prometheusRule is monitoring.coreos.com/v1 PrometheusRule, its spec
// being a Prometheus rules file's groups.
type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ruleFile `json:"spec"`
}

// ruleFile is what dashboards/alerts.yaml holds and a PrometheusRule's spec
// carries; decoding strictly rejects any field Prometheus does not know.
type ruleFile struct {
	Groups []struct {
		Name     string `json:"name"`
		Interval string `json:"interval,omitempty"`
		Rules    []struct {
			Alert       string            `json:"alert,omitempty"`
			Record      string            `json:"record,omitempty"`
			Expr        string            `json:"expr"`
			For         string            `json:"for,omitempty"`
			Labels      map[string]string `json:"labels,omitempty"`
			Annotations map[string]string `json:"annotations,omitempty"`
		} `json:"rules"`
	} `json:"groups"`
}

func render(t *testing.T, values []string, set []string) *rendered {
	t.Helper()
	out, err := runHelm(t, append([]string{"template", "rel", chartDir, "--namespace", releaseNamespace, "--kube-version", kubeVersion}, valuesArgs(values, set)...)...)
	if err != nil {
		t.Fatal(err)
	}
	return decodeRendered(t, out)
}

// decodeRendered decodes helm template's output.
func decodeRendered(t *testing.T, out string) *rendered {
	t.Helper()
	r := &rendered{
		deployments: map[string]*appsv1.Deployment{}, configMaps: map[string]*corev1.ConfigMap{},
		secrets: map[string]*corev1.Secret{}, services: map[string]*corev1.Service{}, pods: map[string]*corev1.Pod{},
		networkPols: map[string]*networkingv1.NetworkPolicy{}, hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{}, monitors: map[string]*monitoringv1.ServiceMonitor{},
		rules: map[string]*prometheusRule{},
	}
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(out, -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var meta metav1.TypeMeta
		if err := sigsyaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("not a Kubernetes object: %v\n%s", err, doc)
		}
		r.kinds = append(r.kinds, meta.APIVersion+"/"+meta.Kind)
		var obj metav1.Object
		switch meta.APIVersion + "/" + meta.Kind {
		case "apps/v1/Deployment":
			obj = strictInto(t, doc, r.deployments)
		case "v1/ConfigMap":
			obj = strictInto(t, doc, r.configMaps)
		case "v1/Secret":
			obj = strictInto(t, doc, r.secrets)
		case "v1/Service":
			obj = strictInto(t, doc, r.services)
		case "v1/Pod":
			obj = strictInto(t, doc, r.pods)
		case "networking.k8s.io/v1/NetworkPolicy":
			obj = strictInto(t, doc, r.networkPols)
		case "autoscaling/v2/HorizontalPodAutoscaler":
			obj = strictInto(t, doc, r.hpas)
		case "policy/v1/PodDisruptionBudget":
			obj = strictInto(t, doc, r.pdbs)
		case "monitoring.coreos.com/v1/ServiceMonitor":
			obj = strictInto(t, doc, r.monitors)
		case "monitoring.coreos.com/v1/PrometheusRule":
			obj = strictInto(t, doc, r.rules)
		case "v1/ServiceAccount":
			obj = strictInto(t, doc, map[string]*corev1.ServiceAccount{})
		case "v1/PersistentVolumeClaim":
			obj = strictInto(t, doc, map[string]*corev1.PersistentVolumeClaim{})
		default:
			t.Fatalf("the chart renders %s/%s, which this test does not decode: add its type", meta.APIVersion, meta.Kind)
		}
		if obj.GetName() == "" {
			t.Errorf("%s without a name", meta.Kind)
		}
		r.objects = append(r.objects, renderedObject{meta.Kind, obj})
	}
	return r
}

func stripComments(doc string) string {
	var b strings.Builder
	for line := range strings.Lines(doc) {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// strictInto decodes doc into a new T as the API server's strict field
// validation does: through JSON, case-sensitively (encoding/json would take
// "readonly" for readOnly), failing on unknown and duplicate fields. It
// files the object by name.
func strictInto[T any, PT interface {
	*T
	metav1.Object
}](t *testing.T, doc string, into map[string]PT) PT {
	t.Helper()
	obj := PT(new(T))
	j, err := sigsyaml.YAMLToJSONStrict([]byte(doc))
	if err != nil {
		t.Fatalf("not strict YAML (a duplicate key?): %v\n%s", err, doc)
	}
	strictErrs, err := k8sjson.UnmarshalStrict(j, obj)
	if err = errors.Join(append(strictErrs, err)...); err != nil {
		t.Fatalf("%T does not decode strictly: %v\n%s", obj, err, doc)
	}
	into[obj.GetName()] = obj
	return obj
}

func TestTemplate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		values    []string
		set       []string
		wantKinds []string
		// What the pods must show: which containers run where.
		proxyContainers    []string
		exporterDeployment bool
		dashboards         bool
		// The proxy Deployment's strategy, as strategyString writes it.
		strategy string
		// Rule groups beyond alerts.yaml's, when a PrometheusRule renders.
		extraRuleGroups []string
	}{
		{
			name:            "defaults",
			wantKinds:       []string{"v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount", "apps/v1/Deployment", "v1/Pod"},
			proxyContainers: []string{"proxy", "exporter"},
			strategy:        "Recreate",
		},
		{
			name:            "a strategy value without redis still recreates",
			set:             []string{"strategy.rollingUpdate.maxSurge=1"},
			wantKinds:       []string{"v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount", "apps/v1/Deployment", "v1/Pod"},
			proxyContainers: []string{"proxy", "exporter"},
			strategy:        "Recreate",
		},
		{
			name:            "redis with the strategy value",
			set:             []string{"redis.enabled=true", "redis.existingSecret=r", "strategy.rollingUpdate.maxSurge=1", "strategy.rollingUpdate.maxUnavailable=0"},
			wantKinds:       []string{"v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount", "apps/v1/Deployment", "v1/Pod"},
			proxyContainers: []string{"proxy", "exporter"},
			strategy:        "RollingUpdate maxSurge=1 maxUnavailable=0",
		},
		{
			name:            "redis with Recreate",
			set:             []string{"redis.enabled=true", "redis.existingSecret=r", "strategy.type=Recreate"},
			wantKinds:       []string{"v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount", "apps/v1/Deployment", "v1/Pod"},
			proxyContainers: []string{"proxy", "exporter"},
			strategy:        "Recreate",
		},
		{
			name:            "redis through Sentinels that need no password, without a URL",
			set:             []string{"redis.enabled=true", "redis.sentinel.enabled=true", "redis.sentinel.addresses={s0:26379,s1:26379}", "networkPolicy.enabled=true"},
			wantKinds:       []string{"v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount", "apps/v1/Deployment", "v1/Pod", "networking.k8s.io/v1/NetworkPolicy"},
			proxyContainers: []string{"proxy", "exporter"},
			strategy:        "RollingUpdate maxSurge=0 maxUnavailable=1",
		},
		{
			name:            "alerting rules alone",
			set:             []string{"prometheusRule.enabled=true"},
			wantKinds:       []string{"v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount", "apps/v1/Deployment", "v1/Pod", "monitoring.coreos.com/v1/PrometheusRule"},
			proxyContainers: []string{"proxy", "exporter"},
			strategy:        "Recreate",
		},
		{
			name:            "tencent keys in the chart's secret",
			set:             []string{"secret.tencentSecretId=AKIDexample", "secret.tencentSecretKey=example-key", "secret.jwtSecret=0123456789abcdef0123456789abcdef"},
			wantKinds:       []string{"v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount", "apps/v1/Deployment", "v1/Pod"},
			proxyContainers: []string{"proxy", "exporter"},
			strategy:        "Recreate",
		},
		{
			name: "public-key tokens, workload identity, no exporter",
			set: []string{
				"exporter.enabled=false", "proxy.config.jwt.algorithms={RS256}", "proxy.config.jwt.jwksURL=https://auth.example.com/jwks.json",
				"workloadIdentity.enabled=true", "workloadIdentity.region=ap-guangzhou", "workloadIdentity.providerId=cls-x", "workloadIdentity.roleArn=qcs::cam::uin/1:roleName/r",
			},
			wantKinds:       []string{"v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount", "apps/v1/Deployment", "v1/Pod"},
			proxyContainers: []string{"proxy"},
			strategy:        "Recreate",
		},
		{
			name: "metrics over HTTPS from a certificate Secret, scraped by a ServiceMonitor",
			set: []string{
				"webConfig.tlsSecret=metrics-tls", "serviceMonitor.enabled=true",
				"serviceMonitor.tlsConfig.ca.secret.name=metrics-tls", "serviceMonitor.tlsConfig.ca.secret.key=ca.crt",
			},
			wantKinds:       []string{"v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount", "apps/v1/Deployment", "v1/Pod", "monitoring.coreos.com/v1/ServiceMonitor"},
			proxyContainers: []string{"proxy", "exporter"},
			strategy:        "Recreate",
		},
		{
			name:               "a web configuration of one's own, with HTTPS from its certificate Secret",
			set:                []string{"webConfig.existingSecret=metrics-web", "webConfig.tlsSecret=metrics-tls", "exporter.mode=deployment"},
			wantKinds:          []string{"v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount", "apps/v1/Deployment", "v1/Pod"},
			proxyContainers:    []string{"proxy"},
			exporterDeployment: true,
			strategy:           "Recreate",
		},
		{
			name: "TLS from a certificate in extraVolumes",
			set: []string{
				"webConfig.config.tls_server_config.cert_file=/etc/certs/tls.crt", "webConfig.config.tls_server_config.key_file=/etc/certs/tls.key",
				"extraVolumes[0].name=certs", "extraVolumes[0].secret.secretName=own-tls",
				"extraVolumes[0].secret.items[0].key=tls.crt", "extraVolumes[0].secret.items[0].path=tls.crt",
				"extraVolumes[0].secret.items[1].key=tls.key", "extraVolumes[0].secret.items[1].path=tls.key",
				"proxy.extraVolumeMounts[0].name=certs", "proxy.extraVolumeMounts[0].mountPath=/etc/certs",
				"exporter.extraVolumeMounts[0].name=certs", "exporter.extraVolumeMounts[0].mountPath=/etc/certs",
			},
			wantKinds:       []string{"v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount", "apps/v1/Deployment", "v1/Pod"},
			proxyContainers: []string{"proxy", "exporter"},
			strategy:        "Recreate",
		},
		{
			name:            "basic auth over plain HTTP, spans by gRPC",
			set:             []string{"webConfig.config.basic_auth_users.prometheus=$2a$10$lUCS9sZbeFxQ32xwkyqNQeY0JoLIWcdqhtDUj4wSN2FAZbQP67Pim", "otlp.endpoint=http://collector:4317", "otlp.protocol=grpc"},
			wantKinds:       []string{"v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount", "apps/v1/Deployment", "v1/Pod"},
			proxyContainers: []string{"proxy", "exporter"},
			strategy:        "Recreate",
		},
		{
			name:   "all features",
			values: []string{allFeatures},
			wantKinds: []string{
				"v1/ConfigMap", "v1/Service", "v1/ServiceAccount", "apps/v1/Deployment", "v1/Pod",
				"networking.k8s.io/v1/NetworkPolicy", "autoscaling/v2/HorizontalPodAutoscaler", "policy/v1/PodDisruptionBudget",
				"monitoring.coreos.com/v1/ServiceMonitor", "v1/PersistentVolumeClaim", "monitoring.coreos.com/v1/PrometheusRule",
			},
			proxyContainers:    []string{"proxy"},
			exporterDeployment: true,
			dashboards:         true,
			strategy:           "RollingUpdate maxSurge=0 maxUnavailable=1",
			extraRuleGroups:    []string{"team"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := render(t, tc.values, tc.set)
			for _, k := range tc.wantKinds {
				if !slices.Contains(r.kinds, k) {
					t.Errorf("no %s rendered; got %v", k, r.kinds)
				}
			}
			cm := r.configMaps["rel-mudscf"]
			if cm == nil {
				t.Fatal("no ConfigMap rel-mudscf")
			}
			proxyCfg, redis := parseProxyConfig(t, cm.Data["proxy.yaml"])
			exporterCfg := parseExporterConfig(t, cm.Data["exporter.yaml"])

			proxyDep := r.deployments["rel-mudscf"]
			if proxyDep == nil {
				t.Fatal("no proxy Deployment")
			}
			var names []string
			for _, c := range proxyDep.Spec.Template.Spec.Containers {
				names = append(names, c.Name)
			}
			if !slices.Equal(names, tc.proxyContainers) {
				t.Errorf("proxy pod containers %v, want %v", names, tc.proxyContainers)
			}
			// Kubernetes kills the pod at the grace period: the proxy's
			// drain and in-flight grace must fit in it.
			var grace time.Duration
			if g := proxyDep.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
				grace = time.Duration(*g) * time.Second
			}
			if grace <= *proxyCfg.DrainDelay+proxyCfg.ShutdownGrace {
				t.Errorf("terminationGracePeriodSeconds %s does not cover drainDelay %s + shutdownGrace %s", grace, *proxyCfg.DrainDelay, proxyCfg.ShutdownGrace)
			}
			if exp := r.deployments["rel-mudscf-exporter"]; (exp != nil) != tc.exporterDeployment {
				t.Errorf("exporter Deployment rendered: %v, want %v", exp != nil, tc.exporterDeployment)
			} else if exp != nil && (exp.Spec.Replicas == nil || *exp.Spec.Replicas != 1 || exp.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType) {
				t.Errorf("exporter Deployment: replicas %v, strategy %q; want exactly one pod, replaced with Recreate", exp.Spec.Replicas, exp.Spec.Strategy.Type)
			}

			for name, d := range r.deployments {
				pod := d.Spec.Template
				for _, key := range []string{"checksum/config", "checksum/secret"} {
					if pod.Annotations[key] == "" {
						t.Errorf("deployment %s: no %s annotation, so a change would not roll the pods", name, key)
					}
				}
				checkPodHardening(t, "deployment "+name, pod.Spec, true)
				checkSecretFiles(t, name, pod.Spec, proxyCfg, exporterCfg)
			}
			if len(r.pods) != 1 {
				t.Fatalf("want exactly the helm test pod, got %d pods", len(r.pods))
			}
			for name, p := range r.pods {
				if p.Annotations["helm.sh/hook"] != "test" {
					t.Errorf("pod %s is not a helm test hook: %v", name, p.Annotations)
				}
				checkPodHardening(t, "pod "+name, p.Spec, false)
			}
			if sec := r.secrets["rel-mudscf"]; sec != nil && len(sec.Data["jwt-secret"]) < 32 {
				t.Errorf("the chart's JWT secret has %d bytes; the proxy requires at least 32", len(sec.Data["jwt-secret"]))
			}
			if got := strategyString(proxyDep.Spec.Strategy); got != tc.strategy {
				t.Errorf("proxy Deployment strategy %q, want %q", got, tc.strategy)
			}
			checkServiceMonitor(t, r)
			checkWebConfig(t, r)
			checkOTLP(t, r)
			checkPrometheusRules(t, r, tc.extraRuleGroups)
			checkRedis(t, r, redis)
			checkNetworkPolicy(t, r, redis)
			checkDashboards(t, r, tc.dashboards)
			if svc := r.services["rel-mudscf"]; svc == nil || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "api" {
				t.Errorf("the API Service must expose the API port only: %+v", svc)
			}
		})
	}
}

// strategyString writes a Deployment strategy in one line; a Recreate
// with rollingUpdate settings (which the API server refuses) shows them.
func strategyString(s appsv1.DeploymentStrategy) string {
	out := string(s.Type)
	if ru := s.RollingUpdate; ru != nil {
		out += fmt.Sprintf(" maxSurge=%v maxUnavailable=%v", ru.MaxSurge, ru.MaxUnavailable)
	}
	return out
}

// checkPrometheusRules requires a rendered PrometheusRule to carry
// alerts.yaml's groups unchanged, then the extra groups, and to pass
// promtool check rules.
func checkPrometheusRules(t *testing.T, r *rendered, extra []string) {
	t.Helper()
	for name, pr := range r.rules {
		want := readRuleFile(t, filepath.Join(chartDir, "alerts.yaml"))
		n := len(want.Groups)
		if len(pr.Spec.Groups) < n || !reflect.DeepEqual(pr.Spec.Groups[:n], want.Groups) {
			t.Errorf("PrometheusRule %s does not carry alerts.yaml's groups unchanged", name)
		}
		var got []string
		for _, g := range pr.Spec.Groups[min(n, len(pr.Spec.Groups)):] {
			got = append(got, g.Name)
		}
		if !slices.Equal(got, extra) {
			t.Errorf("PrometheusRule %s: extra groups %v, want %v", name, got, extra)
		}
		if pr.Labels["release"] == "" && len(extra) > 0 {
			t.Errorf("PrometheusRule %s lacks the labels from prometheusRule.labels: %v", name, pr.Labels)
		}
		promtoolCheck(t, pr.Spec)
	}
}

func readRuleFile(t *testing.T, file string) ruleFile {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	j, err := sigsyaml.YAMLToJSONStrict(b)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var rf ruleFile
	strictErrs, err := k8sjson.UnmarshalStrict(j, &rf)
	if err = errors.Join(append(strictErrs, err)...); err != nil {
		t.Fatalf("%s does not decode strictly as a rules file: %v", file, err)
	}
	return rf
}

// promtoolCheck runs promtool check rules over a PrometheusRule's spec; it
// skips without promtool, except under CI.
func promtoolCheck(t *testing.T, spec ruleFile) {
	t.Helper()
	promtool := testenv.Tool(t, "promtool", "Debian: apt-get install prometheus")
	b, err := sigsyaml.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules on the rendered PrometheusRule: %v\n%s", err, out)
	}
}

// checkServiceMonitor requires every port the ServiceMonitor scrapes to be
// a port of a metrics Service it selects.
func checkServiceMonitor(t *testing.T, r *rendered) {
	t.Helper()
	for name, sm := range r.monitors {
		ports := map[string]bool{}
		for _, svc := range r.services {
			selected := true
			for k, v := range sm.Spec.Selector.MatchLabels {
				selected = selected && svc.Labels[k] == v
			}
			for _, p := range svc.Spec.Ports {
				ports[p.Name] = ports[p.Name] || selected
			}
		}
		if len(sm.Spec.Endpoints) == 0 {
			t.Errorf("ServiceMonitor %s scrapes nothing", name)
		}
		// Elsewhere than the release, the Operator would look for the
		// Services in the monitor's own namespace.
		if sm.Namespace != "" && sm.Namespace != releaseNamespace && !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{releaseNamespace}) {
			t.Errorf("ServiceMonitor %s in namespace %s selects Services in %v, not the release's %s", name, sm.Namespace, sm.Spec.NamespaceSelector.MatchNames, releaseNamespace)
		}
		for _, e := range sm.Spec.Endpoints {
			if !ports[e.Port] {
				t.Errorf("ServiceMonitor %s scrapes port %q, which no Service it selects has", name, e.Port)
			}
		}
	}
}

// checkRedis requires the proxy's redis block to name the variables the
// Deployment sets from Secrets (the URL, which only Sentinel may go
// without, and the Sentinels' password), and to count the most replicas
// that can run: while Redis is down each falls back to
// requestsPerSecond/replicas.
func checkRedis(t *testing.T, r *rendered, redis map[string]any) {
	t.Helper()
	vars := map[string]*corev1.EnvVar{}
	for _, c := range r.deployments["rel-mudscf"].Spec.Template.Spec.Containers {
		for i := range c.Env {
			if c.Name == "proxy" && strings.HasPrefix(c.Env[i].Name, "MUDSCF_REDIS_") {
				vars[c.Env[i].Name] = &c.Env[i]
			}
		}
	}
	if redis == nil {
		if len(vars) != 0 {
			t.Errorf("no redis block, but the proxy is given %v", slices.Collect(maps.Keys(vars)))
		}
		return
	}
	fromSecret := func(name string) bool {
		v := vars[name]
		return v != nil && v.ValueFrom != nil && v.ValueFrom.SecretKeyRef != nil
	}
	sentinel, _ := redis["sentinel"].(map[string]any)
	if urlEnv := redis["urlEnv"]; (urlEnv == "MUDSCF_REDIS_URL") != fromSecret("MUDSCF_REDIS_URL") || (urlEnv == nil && sentinel == nil) {
		t.Errorf("redis URL: config %v, variable %+v; want urlEnv MUDSCF_REDIS_URL set from a Secret (only Sentinel may go without)", redis, vars["MUDSCF_REDIS_URL"])
	}
	if sentinel != nil && (sentinel["passwordEnv"] == "MUDSCF_REDIS_SENTINEL_PASSWORD") != fromSecret("MUDSCF_REDIS_SENTINEL_PASSWORD") ||
		sentinel == nil && vars["MUDSCF_REDIS_SENTINEL_PASSWORD"] != nil {
		t.Errorf("the Sentinels' password: config %v, variable %+v; want passwordEnv MUDSCF_REDIS_SENTINEL_PASSWORD set from a Secret, or neither", sentinel, vars["MUDSCF_REDIS_SENTINEL_PASSWORD"])
	}
	want := 1
	if d := r.deployments["rel-mudscf"]; d.Spec.Replicas != nil {
		want = int(*d.Spec.Replicas)
	}
	for _, h := range r.hpas {
		want = int(h.Spec.MaxReplicas)
	}
	if redis["replicas"] != want {
		t.Errorf("redis.replicas %v, want %d (the most replicas that can run)", redis["replicas"], want)
	}
}

// checkNetworkPolicy requires, when policies are rendered, the proxy's to
// let out DNS, HTTPS to Tencent and Redis (and its Sentinels) when used,
// and to let in the exporter and the test pod whenever callers of the API
// are restricted.
func checkNetworkPolicy(t *testing.T, r *rendered, redis map[string]any) {
	t.Helper()
	np := r.networkPols["rel-mudscf"]
	if np == nil {
		return
	}
	egress := map[string]bool{}
	for _, rule := range np.Spec.Egress {
		for _, p := range rule.Ports {
			egress[p.Port.String()] = true
		}
	}
	_, sentinel := redis["sentinel"]
	for port, want := range map[string]bool{"53": true, "443": true, "6379": redis != nil, "26379": sentinel} {
		if egress[port] != want {
			t.Errorf("proxy NetworkPolicy: egress to port %s is %v, want %v", port, egress[port], want)
		}
	}
	for _, rule := range np.Spec.Ingress {
		if len(rule.Ports) == 0 || rule.Ports[0].Port.String() != "api" || len(rule.From) == 0 {
			continue
		}
		own := false
		for _, peer := range rule.From {
			if peer.PodSelector != nil && peer.NamespaceSelector == nil && peer.PodSelector.MatchLabels["app.kubernetes.io/instance"] == "rel" && peer.PodSelector.MatchLabels["app.kubernetes.io/component"] == "" {
				own = true
			}
		}
		if !own {
			t.Errorf("proxy NetworkPolicy: the API admits %+v, which shuts out the exporter and the test pod", rule.From)
		}
	}
	if _, ok := r.deployments["rel-mudscf-exporter"]; ok && r.networkPols["rel-mudscf-exporter"] == nil {
		t.Error("the exporter Deployment has no NetworkPolicy")
	}
}

// checkDashboards requires one ConfigMap per dashboard, labelled for
// Grafana's sidecar, holding the dashboard verbatim.
func checkDashboards(t *testing.T, r *rendered, enabled bool) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(chartDir, "dashboards", "*.json"))
	found := 0
	for name, cm := range r.configMaps {
		if cm.Labels["grafana_dashboard"] != "1" {
			continue
		}
		found++
		if cm.Annotations["grafana_folder"] != "mudscf" {
			t.Errorf("dashboard %s: folder annotation %v", name, cm.Annotations)
		}
		for key, body := range cm.Data {
			want, err := os.ReadFile(filepath.Join(chartDir, "dashboards", key))
			if err != nil || strings.TrimRight(string(want), "\n") != body {
				t.Errorf("dashboard %s: %s is not the chart's dashboards/%s verbatim (%v)", name, key, key, err)
			}
		}
	}
	if enabled && (len(files) == 0 || found != len(files)) || !enabled && found != 0 {
		t.Errorf("%d dashboard ConfigMaps for %d dashboards (enabled: %v)", found, len(files), enabled)
	}
}

// checkPodHardening requires every container to run non-root, read-only,
// without privilege escalation or capabilities; withProbes requires
// liveness and readiness probes too (the test pod runs once and has none).
func checkPodHardening(t *testing.T, what string, spec corev1.PodSpec, withProbes bool) {
	t.Helper()
	if spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot {
		t.Errorf("%s: the pod's securityContext does not require non-root", what)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: mounts a Kubernetes API token it never uses", what)
	}
	for _, c := range append(spec.InitContainers, spec.Containers...) {
		sc := c.SecurityContext
		switch {
		case sc == nil:
			t.Errorf("%s/%s: no securityContext", what, c.Name)
		case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot, sc.RunAsUser == nil || *sc.RunAsUser == 0:
			t.Errorf("%s/%s: may run as root", what, c.Name)
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			t.Errorf("%s/%s: writable root filesystem", what, c.Name)
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("%s/%s: privilege escalation allowed", what, c.Name)
		case sc.Privileged != nil && *sc.Privileged:
			t.Errorf("%s/%s: privileged", what, c.Name)
		case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
			t.Errorf("%s/%s: capabilities %+v, want all dropped and none added", what, c.Name, sc.Capabilities)
		case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
			t.Errorf("%s/%s: no RuntimeDefault seccomp profile", what, c.Name)
		}
		if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s/%s: memory request and limit must be set", what, c.Name)
		}
		if withProbes {
			for probe, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
				if p == nil || p.HTTPGet == nil || !strings.HasPrefix(p.HTTPGet.Path, "/") {
					t.Errorf("%s/%s: no HTTP %s probe", what, c.Name, probe)
				}
			}
		}
	}
}

// checkSecretFiles follows every file the configurations name to the
// volume and Secret item that must provide it, so a renamed key or mount
// fails here instead of in a crash-looping pod.
func checkSecretFiles(t *testing.T, deployment string, spec corev1.PodSpec, p proxy.Config, e *exporter.Config) {
	t.Helper()
	files := map[string][]string{}
	for _, c := range spec.Containers {
		switch c.Name {
		case "proxy":
			files["proxy"] = append(files["proxy"], p.JWT.SecretFile)
			for _, proj := range p.Projects {
				files["proxy"] = append(files["proxy"], proj.Credentials.SecretIDFile, proj.Credentials.SecretKeyFile)
			}
			for _, env := range c.Env {
				if env.Name == "TKE_WEB_IDENTITY_TOKEN_FILE" {
					files["proxy"] = append(files["proxy"], env.Value)
				}
			}
		case "exporter":
			if e == nil {
				t.Fatalf("%s: an exporter container but no exporter.yaml", deployment)
			}
			files["exporter"] = append(files["exporter"], e.Auth.JWTSecretFile)
		}
	}
	for _, c := range spec.Containers {
		for _, f := range files[c.Name] {
			if f == "" {
				continue
			}
			if !providedBy(c, spec.Volumes, f) {
				t.Errorf("%s/%s: the configuration reads %s, which no mounted Secret item or token provides", deployment, c.Name, f)
			}
		}
	}
}

func providedBy(c corev1.Container, volumes []corev1.Volume, file string) bool {
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(file, m.MountPath+"/")
		if !ok {
			continue
		}
		for _, v := range volumes {
			if v.Name != m.Name {
				continue
			}
			if v.Secret != nil {
				for _, item := range v.Secret.Items {
					if item.Path == rel {
						return true
					}
				}
			}
			if v.Projected != nil {
				for _, s := range v.Projected.Sources {
					if s.ServiceAccountToken != nil && s.ServiceAccountToken.Path == rel {
						return true
					}
				}
			}
		}
	}
	return false
}

// parseProxyConfig runs the rendered proxy.yaml through the proxy's own
// loader: what the chart writes, mudscf proxy accepts. It also returns the
// redis block as written.
func parseProxyConfig(t *testing.T, text string) (proxy.Config, map[string]any) {
	t.Helper()
	if text == "" {
		t.Fatal("no proxy.yaml in the ConfigMap")
	}
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(text), &raw); err != nil {
		t.Fatalf("proxy.yaml is not YAML: %v", err)
	}
	redis, _ := raw["redis"].(map[string]any)
	// The proxy may check that the URL variable it is given is set.
	t.Setenv("MUDSCF_REDIS_URL", "redis://127.0.0.1:6379/0")
	cfg, err := proxy.ParseConfig([]byte(text))
	if err != nil {
		t.Fatalf("the rendered proxy.yaml is rejected by mudscf proxy: %v\n%s", err, text)
	}
	return cfg, redis
}

// parseExporterConfig runs the rendered exporter.yaml through the
// exporter's loader; nil when the exporter is off.
func parseExporterConfig(t *testing.T, text string) *exporter.Config {
	t.Helper()
	if text == "" {
		return nil
	}
	f := filepath.Join(t.TempDir(), "exporter.yaml")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := exporter.LoadConfig(f)
	if err != nil {
		t.Fatalf("the rendered exporter.yaml is rejected by mudscf exporter: %v\n%s", err, text)
	}
	return &cfg
}

func TestRenderRefusesWhatCannotWork(t *testing.T) {
	redis := []string{"redis.enabled=true", "redis.existingSecret=r"}
	for _, tc := range []struct {
		name string
		set  []string
		want string
	}{
		{"two replicas without redis", []string{"replicaCount=2"}, "each replica would spend its own 5 req/s"},
		{"autoscaling without redis", []string{"autoscaling.enabled=true"}, "4 proxy replicas without redis: each replica would spend its own 5 req/s"},
		{"redis without a URL", []string{"redis.enabled=true"}, "set redis.existingSecret"},
		{"Sentinel without redis", []string{"redis.sentinel.enabled=true", "redis.sentinel.addresses={s:26379}"}, "set redis.enabled=true too"},
		{"Sentinel without Sentinels", []string{"redis.enabled=true", "redis.sentinel.enabled=true"}, "set redis.sentinel.addresses"},
		{"a Sentinel user without a password", []string{"redis.enabled=true", "redis.sentinel.enabled=true", "redis.sentinel.addresses={s:26379}", "redis.sentinel.username=u"}, "redis.sentinel.existingSecret"},
		{"a Sentinel address without a port", []string{"redis.enabled=true", "redis.sentinel.enabled=true", "redis.sentinel.addresses={sentinel-0}"}, "addresses"},
		{"a Sentinel master name with a space", []string{"redis.enabled=true", "redis.sentinel.enabled=true", "redis.sentinel.addresses={s:26379}", "redis.sentinel.masterName=my master"}, "masterName"},
		{"a Sentinel password where its Secret goes", []string{"redis.enabled=true", "redis.sentinel.enabled=true", "redis.sentinel.addresses={s:26379}", "redis.sentinel.password=x"}, "password"},
		{"sidecar exporters in several replicas", append([]string{"replicaCount=3"}, redis...), "exporter.mode=deployment"},
		{"a checkpoint volume on a sidecar", []string{"exporter.persistence.enabled=true"}, "exporter.mode=deployment"},
		{"exporter with no HS algorithm", []string{"proxy.config.jwt.algorithms={RS256}", "proxy.config.jwt.jwksURL=https://a.example/jwks"}, "Add HS256"},
		{"workload identity without a role", []string{"workloadIdentity.enabled=true", "workloadIdentity.region=ap-guangzhou"}, "providerId and roleArn"},
		{"workload identity and keys", []string{"workloadIdentity.enabled=true", "workloadIdentity.region=r", "workloadIdentity.providerId=p", "workloadIdentity.roleArn=a", "secret.tencentSecretId=x", "secret.tencentSecretKey=y"}, "keep one"},
		{"half a key pair", []string{"secret.tencentSecretId=x"}, "set both or neither"},
		{"a PDB that blocks drains", []string{"podDisruptionBudget.enabled=true", "podDisruptionBudget.maxUnavailable=0"}, "would block every voluntary eviction"},
		{"autoscaling without a CPU request", append([]string{"autoscaling.enabled=true", "exporter.mode=deployment", "proxy.resources.requests.cpu=null"}, redis...), "proxy.resources.requests.cpu"},
		{"a misspelt top-level key", []string{"replicaCont=2"}, "replicaCont"},
		{"a misspelt proxy key", []string{"proxy.config.cache.pageTtl=5s"}, "pageTtl"},
		{"a duration that is not one", []string{"proxy.config.cache.pageTTL=5 seconds"}, "pageTTL"},
		{"a key the chart owns", []string{"proxy.config.listen=:80"}, "listen"},
		{"a strategy type Kubernetes does not have", []string{"strategy.type=BlueGreen"}, "strategy.type"},
		{"an extra rule group without rules", []string{"prometheusRule.enabled=true", "prometheusRule.additionalGroups[0].name=x"}, "rules"},
		{"a common label the chart owns", []string{"commonLabels.app\\.kubernetes\\.io/name=other"}, "commonLabels"},
		{"a negative revisionHistoryLimit", []string{"revisionHistoryLimit=-1"}, "revisionHistoryLimit"},
		{"an OTLP protocol the SDK lacks", []string{"otlp.endpoint=http://c:4318", "otlp.protocol=http/json"}, "protocol"},
		{"an OTLP endpoint without a scheme", []string{"otlp.endpoint=collector:4317"}, "endpoint"},
		{"a password where a bcrypt hash goes", []string{"webConfig.config.basic_auth_users.prometheus=secret"}, "basic_auth_users"},
		{"a misspelt web configuration key", []string{"webConfig.config.tls_config.cert_file=x"}, "tls_config"},
		{"two web configurations", []string{"webConfig.existingSecret=w", "webConfig.config.http_server_config.http2=false"}, "keep one"},
		{"client certificates required, which probes lack", []string{"webConfig.tlsSecret=t", "webConfig.config.tls_server_config.client_auth_type=RequireAndVerifyClientCert"}, "VerifyClientCertIfGiven"},
		{"an HTTPS scrape without a tlsConfig", []string{"webConfig.tlsSecret=t", "serviceMonitor.enabled=true"}, "serviceMonitor.tlsConfig"},
		{"basic auth with no scrape credentials", []string{"webConfig.config.basic_auth_users.prometheus=$2a$10$lUCS9sZbeFxQ32xwkyqNQeY0JoLIWcdqhtDUj4wSN2FAZbQP67Pim", "serviceMonitor.enabled=true"}, "serviceMonitor.basicAuth"},
		{"a ServiceMonitor interval that is not a duration", []string{"serviceMonitor.interval=30"}, "interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runHelm(t, append([]string{"template", "rel", chartDir, "--kube-version", kubeVersion}, valuesArgs(nil, tc.set)...)...)
			if err == nil {
				t.Fatalf("rendered; want a failure saying %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("failed without saying %q:\n%v", tc.want, err)
			}
		})
	}
}

// TestSchemaCoversConfig keeps values.schema.json's proxy.config and
// exporter.config in step with the Go configuration: a key mudscf gains
// must be allowed by the schema (or it could not be set), and a key the
// schema allows must exist (or the proxy would reject the rendered file).
func TestSchemaCoversConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := yaml.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	// Keys the chart writes itself, never taken from values.
	chartOwned := []string{"listen", "adminListen", "redis", "jwt.secretEnv", "jwt.secretFile", "endpoint", "checkpoint", "auth", "functions"}
	for _, tc := range []struct {
		name   string
		schema string
		typ    reflect.Type
	}{
		{"proxy", "properties.proxy.properties.config", reflect.TypeFor[proxy.Config]()},
		{"exporter", "properties.exporter.properties.config", reflect.TypeFor[exporter.Config]()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := schema
			for _, k := range strings.Split(tc.schema, ".") {
				node = node[k].(map[string]any)
			}
			var fromSchema, fromGo []string
			schemaKeys("", node, &fromSchema)
			goKeys("", tc.typ, &fromGo)
			for _, k := range fromGo {
				if !slices.Contains(fromSchema, k) && !slices.ContainsFunc(chartOwned, func(o string) bool { return k == o || strings.HasPrefix(k, o+".") }) {
					t.Errorf("%s config key %s is missing from values.schema.json", tc.name, k)
				}
			}
			for _, k := range fromSchema {
				if !slices.Contains(fromGo, k) {
					t.Errorf("values.schema.json allows %s.config.%s, which mudscf %s does not know", tc.name, k, tc.name)
				}
			}
		})
	}
}

// schemaKeys lists the dotted keys of a schema's object properties; maps
// keyed by IDs (projects, functions) contribute their value's keys as "*".
func schemaKeys(prefix string, node map[string]any, out *[]string) {
	if props, ok := node["properties"].(map[string]any); ok {
		for k, v := range props {
			*out = append(*out, prefix+k)
			schemaKeys(prefix+k+".", v.(map[string]any), out)
		}
	}
	if add, ok := node["additionalProperties"].(map[string]any); ok {
		schemaKeys(prefix+"*.", add, out)
	}
}

func goKeys(prefix string, typ reflect.Type, out *[]string) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		*out = append(*out, prefix+tag)
		switch ft := f.Type; {
		case ft.Kind() == reflect.Struct && ft.PkgPath() != "time":
			goKeys(prefix+tag+".", ft, out)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			goKeys(prefix+tag+".*.", ft.Elem(), out)
		}
	}
}

// TestNotes renders NOTES.txt, which helm template leaves out: a copy of
// the chart wraps it in a ConfigMap so that a template error in it fails
// here, not after a successful install.
func TestNotes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		want   []string
	}{
		{"defaults", nil, []string{
			"svc/rel-mudscf 8080", "key \"jwt-secret\" of Secret rel-mudscf", "none configured: the SDK's provider chain",
			"in one replica", "still holds Mudbase's example project", "port 9464 (exporter)",
		}},
		{"all features", []string{allFeatures}, []string{
			"TKE workload identity (role qcs::cam::uin/100000000001:roleName/mudscf)", "key \"jwt\" of Secret mudscf-credentials",
			"shared through Redis by up to 5 replicas", "svc/rel-mudscf-exporter-metrics",
			"over HTTPS with the web configuration /etc/mudscf/web/web-config.yml from Secret rel-mudscf-web-config",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
				t.Fatal(err)
			}
			notes, err := os.ReadFile(filepath.Join(dir, "templates", "NOTES.txt"))
			if err != nil {
				t.Fatal(err)
			}
			wrap := map[string]string{
				"_notes.tpl": `{{- define "notes" -}}` + string(notes) + `{{- end }}`,
				"notes.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: {{ include \"notes\" . | toJson }}\n",
			}
			for name, text := range wrap {
				if err := os.WriteFile(filepath.Join(dir, "templates", name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out, err := runHelm(t, append([]string{"template", "rel", dir, "--namespace", "obs", "--kube-version", kubeVersion, "--show-only", "templates/notes.yaml"}, valuesArgs(tc.values, nil)...)...)
			if err != nil {
				t.Fatal(err)
			}
			var cm corev1.ConfigMap
			if err := sigsyaml.UnmarshalStrict([]byte(out), &cm); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(cm.Data["notes"], w) {
					t.Errorf("NOTES.txt does not say %q:\n%s", w, cm.Data["notes"])
				}
			}
		})
	}
}

// TestAlertsMatch keeps the chart's alerts.yaml, which the PrometheusRule
// template reads, identical to dashboards/alerts.yaml, the file promtool
// tests.
func TestAlertsMatch(t *testing.T) {
	a, errA := os.ReadFile("../dashboards/alerts.yaml")
	b, errB := os.ReadFile(filepath.Join(chartDir, "alerts.yaml"))
	if err := errors.Join(errA, errB); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("helm/mudscf/alerts.yaml differs from dashboards/alerts.yaml: cp dashboards/alerts.yaml helm/mudscf/")
	}
}

// TestDashboardsMatch keeps the chart's copies of the dashboards (helm
// cannot read files outside the chart) identical to dashboards/*.json, the
// ones the dashboards test runs through Prometheus.
func TestDashboardsMatch(t *testing.T) {
	want, err := filepath.Glob("../dashboards/*.json")
	if err != nil || len(want) == 0 {
		t.Fatalf("no dashboards in ../dashboards: %v", err)
	}
	got, _ := filepath.Glob(filepath.Join(chartDir, "dashboards", "*.json"))
	var wantNames, gotNames []string
	for _, f := range want {
		wantNames = append(wantNames, path.Base(f))
	}
	for _, f := range got {
		gotNames = append(gotNames, path.Base(f))
	}
	if !slices.Equal(wantNames, gotNames) {
		t.Fatalf("chart dashboards %v, want %v: cp dashboards/*.json helm/mudscf/dashboards/", gotNames, wantNames)
	}
	for _, f := range want {
		a, errA := os.ReadFile(f)
		b, errB := os.ReadFile(filepath.Join(chartDir, "dashboards", path.Base(f)))
		if err := errors.Join(errA, errB); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("helm/mudscf/dashboards/%s differs from dashboards/%s: cp dashboards/*.json helm/mudscf/dashboards/", path.Base(f), path.Base(f))
		}
	}
}

// Each Sentinel value reaches the proxy's configuration (which the proxy
// accepts), its variables and its NetworkPolicy, and without Sentinel
// none of it is there.
func TestRedisSentinelValues(t *testing.T) {
	base := []string{"redis.enabled=true", "replicaCount=2", "exporter.mode=deployment", "networkPolicy.enabled=true"}
	for _, tc := range []struct {
		name     string
		set      []string
		sentinel *redisstore.SentinelConfig
		vars     map[string]*corev1.EnvVarSource
		ports    []string // the proxy's egress to Redis
	}{
		{
			name: "without Sentinel", set: []string{"redis.existingSecret=r", "redis.sentinel.addresses={s0:26379}"},
			vars:  map[string]*corev1.EnvVarSource{"MUDSCF_REDIS_URL": secretRef("r", "redis-url")},
			ports: []string{"6379"},
		},
		{
			name: "every Sentinel value",
			set: []string{"redis.existingSecret=r", "redis.existingSecretKey=url", "redis.port=6380", "redis.sentinel.enabled=true",
				"redis.sentinel.masterName=orders", "redis.sentinel.addresses={s0.redis:26379,[fd00::1]:26380}",
				"redis.sentinel.existingSecret=rs", "redis.sentinel.existingSecretKey=pw", "redis.sentinel.username=mudscf", "redis.sentinel.port=26380"},
			sentinel: &redisstore.SentinelConfig{MasterName: "orders", Addresses: []string{"s0.redis:26379", "[fd00::1]:26380"},
				Username: "mudscf", PasswordEnv: "MUDSCF_REDIS_SENTINEL_PASSWORD"},
			vars:  map[string]*corev1.EnvVarSource{"MUDSCF_REDIS_URL": secretRef("r", "url"), "MUDSCF_REDIS_SENTINEL_PASSWORD": secretRef("rs", "pw")},
			ports: []string{"6380", "26380"},
		},
		{
			name: "Sentinel alone: no URL, no password", set: []string{"redis.sentinel.enabled=true", "redis.sentinel.addresses={s0:26379}"},
			sentinel: &redisstore.SentinelConfig{MasterName: "mymaster", Addresses: []string{"s0:26379"}},
			vars:     map[string]*corev1.EnvVarSource{},
			ports:    []string{"6379", "26379"},
		},
		{
			name: "Sentinel with the URL in the chart's Secret", set: []string{"redis.url=redis://:pw@mymaster/0", "redis.sentinel.enabled=true", "redis.sentinel.addresses={s0:26379}"},
			sentinel: &redisstore.SentinelConfig{MasterName: "mymaster", Addresses: []string{"s0:26379"}},
			vars:     map[string]*corev1.EnvVarSource{"MUDSCF_REDIS_URL": secretRef("rel-mudscf", "redis-url")},
			ports:    []string{"6379", "26379"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := render(t, nil, append(slices.Clone(base), tc.set...))
			cfg, _ := parseProxyConfig(t, r.configMaps["rel-mudscf"].Data["proxy.yaml"])
			if cfg.Redis == nil || !reflect.DeepEqual(cfg.Redis.Sentinel, tc.sentinel) {
				t.Errorf("the proxy's redis block %+v, want sentinel %+v", cfg.Redis, tc.sentinel)
			}
			vars := map[string]*corev1.EnvVarSource{}
			for _, e := range container(t, r, "proxy").Env {
				if strings.HasPrefix(e.Name, "MUDSCF_REDIS_") {
					vars[e.Name] = e.ValueFrom
				}
			}
			if !reflect.DeepEqual(vars, tc.vars) {
				t.Errorf("the proxy's Redis variables %v, want %v", show(vars), show(tc.vars))
			}
			_, inSecret := r.secrets["rel-mudscf"].Data["redis-url"]
			if want := slices.Contains(tc.set, "redis.url=redis://:pw@mymaster/0"); inSecret != want {
				t.Errorf("redis-url in the chart's Secret: %v, want %v", inSecret, want)
			}
			var ports []string
			for _, rule := range r.networkPols["rel-mudscf"].Spec.Egress {
				for _, p := range rule.Ports {
					if p := p.Port.String(); p != "53" && p != "443" {
						ports = append(ports, p)
					}
				}
			}
			if !slices.Equal(ports, tc.ports) {
				t.Errorf("the proxy's egress to Redis: ports %v, want %v", ports, tc.ports)
			}
		})
	}
}
