package helm

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/exporter-toolkit/web"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/sdk/resource"
	yamlv2 "go.yaml.in/yaml/v2"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// TestEachValueReachesItsObject renders every value the chart has in
// common with prometheus-community's charts twice: with it, the object
// has the field as the value says; without it, the field is absent.
func TestEachValueReachesItsObject(t *testing.T) {
	renders := map[string]*rendered{}
	renderOnce := func(t *testing.T, values, set []string) *rendered {
		t.Helper()
		key := strings.Join(values, "\x00") + "\x01" + strings.Join(set, "\x00")
		if r, ok := renders[key]; ok {
			return r
		}
		r := render(t, values, set)
		renders[key] = r
		return r
	}
	deploymentMode := []string{"exporter.mode=deployment"}
	otlp := []string{"otlp.endpoint=http://collector.obs:4318"}
	sm := []string{"serviceMonitor.enabled=true"}
	caVolume := []string{"extraVolumes[0].name=ca", "extraVolumes[0].configMap.name=corp-ca"}
	insecureScrape := append(slices.Clone(sm), "serviceMonitor.tlsConfig.insecureSkipVerify=true")
	allFeaturesValues := readValues(t, allFeatures)
	with := func(base []string, more ...string) []string { return append(slices.Clone(base), more...) }

	for _, tc := range []struct {
		name string
		// values and set render the chart with the value, unsetValues and
		// unset without it.
		values, set, unsetValues, unset []string
		// field reads what the value should have put in the objects:
		// want with it, the zero value (per element) without it.
		field func(*testing.T, *rendered) any
		want  any
	}{
		{
			name: "revisionHistoryLimit 0 (none kept, not the default)", set: with(deploymentMode, "revisionHistoryLimit=0"), unset: with(deploymentMode, "revisionHistoryLimit=null"),
			field: func(t *testing.T, r *rendered) any {
				var limits []*int32
				for _, name := range []string{"rel-mudscf", "rel-mudscf-exporter"} {
					limits = append(limits, deployment(t, r, name).Spec.RevisionHistoryLimit)
				}
				return limits
			},
			want: []*int32{ptr[int32](0), ptr[int32](0)},
		},
		{
			name: "proxy.extraArgs", set: []string{"proxy.extraArgs={--log-level=debug}"},
			field: func(t *testing.T, r *rendered) any { return extraArgs(t, container(t, r, "proxy").Args, 3) },
			want:  []string{"--log-level=debug"},
		},
		{
			name: "exporter.extraArgs", set: []string{"exporter.extraArgs={--log-level=debug}"},
			field: func(t *testing.T, r *rendered) any { return extraArgs(t, container(t, r, "exporter").Args, 3) },
			want:  []string{"--log-level=debug"},
		},
		{
			name: "proxy.extraEnvFrom", set: []string{"proxy.extraEnvFrom[0].secretRef.name=proxy-env"},
			field: func(t *testing.T, r *rendered) any { return container(t, r, "proxy").EnvFrom },
			want:  []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "proxy-env"}}}},
		},
		{
			name: "exporter.extraEnvFrom", set: []string{"exporter.extraEnvFrom[0].configMapRef.name=exporter-env"},
			field: func(t *testing.T, r *rendered) any { return container(t, r, "exporter").EnvFrom },
			want:  []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "exporter-env"}}}},
		},
		{
			name: "extraVolumes, in both pods", set: with(deploymentMode, caVolume...), unset: deploymentMode,
			field: func(t *testing.T, r *rendered) any {
				var found []*corev1.Volume
				for _, name := range []string{"rel-mudscf", "rel-mudscf-exporter"} {
					found = append(found, volume(deployment(t, r, name).Spec.Template.Spec, "ca"))
				}
				return found
			},
			want: []*corev1.Volume{caConfigMapVolume(), caConfigMapVolume()},
		},
		{
			name: "proxy.extraVolumeMounts", set: with(caVolume, "proxy.extraVolumeMounts[0].name=ca", "proxy.extraVolumeMounts[0].mountPath=/etc/ca"), unset: caVolume,
			field: func(t *testing.T, r *rendered) any { return mount(container(t, r, "proxy"), "ca") },
			want:  &corev1.VolumeMount{Name: "ca", MountPath: "/etc/ca"},
		},
		{
			name: "exporter.extraVolumeMounts", set: with(deploymentMode, append(caVolume, "exporter.extraVolumeMounts[0].name=ca", "exporter.extraVolumeMounts[0].mountPath=/etc/ca")...), unset: with(deploymentMode, caVolume...),
			field: func(t *testing.T, r *rendered) any { return mount(container(t, r, "exporter"), "ca") },
			want:  &corev1.VolumeMount{Name: "ca", MountPath: "/etc/ca"},
		},
		{
			name: "otlp.endpoint, in both containers", set: otlp,
			field: func(t *testing.T, r *rendered) any {
				return envValues(t, r, "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL")
			},
			want: []string{"http://collector.obs:4318", "http/protobuf", "http://collector.obs:4318", "http/protobuf"},
		},
		{
			name: "otlp.protocol", set: with(otlp, "otlp.protocol=grpc"), unset: otlp,
			field: func(t *testing.T, r *rendered) any {
				return slices.DeleteFunc(envValues(t, r, "OTEL_EXPORTER_OTLP_PROTOCOL"), func(v string) bool { return v == "http/protobuf" })
			},
			want: []string{"grpc", "grpc"},
		},
		{
			name: "otlp.proxyTraces=false leaves the proxy out", set: with(otlp, "otlp.proxyTraces=false"), unset: otlp,
			field: func(t *testing.T, r *rendered) any {
				return env(container(t, r, "proxy"), "OTEL_EXPORTER_OTLP_ENDPOINT") == nil && env(container(t, r, "exporter"), "OTEL_EXPORTER_OTLP_ENDPOINT") != nil
			},
			want: true,
		},
		{
			name: "otlp.executionSpans=false leaves the exporter out", set: with(otlp, "otlp.executionSpans=false"), unset: otlp,
			field: func(t *testing.T, r *rendered) any {
				return env(container(t, r, "exporter"), "OTEL_EXPORTER_OTLP_ENDPOINT") == nil && env(container(t, r, "proxy"), "OTEL_EXPORTER_OTLP_ENDPOINT") != nil
			},
			want: true,
		},
		{
			name: "otlp.headers from a Secret", set: with(otlp, "otlp.headers.existingSecret=otlp-auth"), unset: otlp,
			field: func(t *testing.T, r *rendered) any {
				var refs []*corev1.EnvVarSource
				for _, c := range []string{"proxy", "exporter"} {
					if e := env(container(t, r, c), "OTEL_EXPORTER_OTLP_HEADERS"); e != nil {
						if e.Value != "" {
							t.Errorf("%s: OTEL_EXPORTER_OTLP_HEADERS written into the pod spec", c)
						}
						refs = append(refs, e.ValueFrom)
					}
				}
				return refs
			},
			want: []*corev1.EnvVarSource{secretRef("otlp-auth", "otlp-headers"), secretRef("otlp-auth", "otlp-headers")},
		},
		{
			name: "otlp.serviceName, the proxy's only", set: with(otlp, "otlp.serviceName=mudscf-edge"), unset: otlp,
			field: func(t *testing.T, r *rendered) any { return envValues(t, r, "OTEL_SERVICE_NAME") },
			want:  []string{"mudscf-edge", ""},
		},
		{
			name: "otlp.resourceAttributes, as the SDK decodes them", values: []string{allFeatures},
			field: func(t *testing.T, r *rendered) any {
				var decoded []map[string]string
				for _, c := range []string{"proxy", "exporter"} {
					decoded = append(decoded, sdkResourceAttributes(t, env(container(t, r, c), "OTEL_RESOURCE_ATTRIBUTES")))
				}
				return decoded
			},
			want: []map[string]string{
				stringMap(allFeaturesValues["otlp"].(map[string]any)["resourceAttributes"]),
				stringMap(allFeaturesValues["otlp"].(map[string]any)["resourceAttributes"]),
			},
		},
		{
			name: "webConfig.config, for both listeners", set: []string{"webConfig.config.http_server_config.headers.X-Frame-Options=deny"},
			field: func(t *testing.T, r *rendered) any {
				got := []string{webConfigFlag(container(t, r, "proxy").Args), webConfigFlag(container(t, r, "exporter").Args)}
				if s := r.secrets["rel-mudscf-web-config"]; s != nil {
					got = append(got, string(s.Data["web-config.yml"]))
				}
				return got
			},
			want: []string{"/etc/mudscf/web/web-config.yml", "/etc/mudscf/web/web-config.yml", "http_server_config:\n  headers:\n    X-Frame-Options: deny"},
		},
		{
			name: "webConfig.existingSecret, mounted whole", set: []string{"webConfig.existingSecret=metrics-web"},
			field: func(t *testing.T, r *rendered) any {
				if r.secrets["rel-mudscf-web-config"] != nil {
					t.Error("webConfig.existingSecret: the chart still creates its own web-config Secret")
				}
				return []any{webConfigFlag(container(t, r, "proxy").Args), volume(deployment(t, r, "rel-mudscf").Spec.Template.Spec, "web-config")}
			},
			want: []any{"/etc/mudscf/web/web-config.yml", &corev1.Volume{Name: "web-config", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "metrics-web"}}}},
		},
		{
			name: "webConfig.existingSecretKey", set: []string{"webConfig.existingSecret=metrics-web", "webConfig.existingSecretKey=web.yml"}, unset: []string{"webConfig.existingSecret=metrics-web"},
			field: func(t *testing.T, r *rendered) any {
				return slices.DeleteFunc([]string{webConfigFlag(container(t, r, "proxy").Args), webConfigFlag(container(t, r, "exporter").Args)}, func(f string) bool { return f == "/etc/mudscf/web/web-config.yml" })
			},
			want: []string{"/etc/mudscf/web/web.yml", "/etc/mudscf/web/web.yml"},
		},
		{
			name: "webConfig.tlsSecret: HTTPS probes", set: []string{"webConfig.tlsSecret=metrics-tls"},
			field: func(t *testing.T, r *rendered) any { return probeSchemes(t, r) },
			want:  []corev1.URIScheme{"HTTPS", "HTTPS", "HTTPS", "HTTPS"},
		},
		{
			name: "webConfig.tlsSecret: an https ServiceMonitor", set: with(insecureScrape, "webConfig.tlsSecret=metrics-tls"), unset: insecureScrape,
			field: func(t *testing.T, r *rendered) any {
				return endpointField(t, r, func(e monitoringv1.Endpoint) any { return e.Scheme })
			},
			want: []any{ptr(monitoringv1.Scheme("https")), ptr(monitoringv1.Scheme("https"))},
		},
		{
			name: "serviceMonitor.namespace", set: with(sm, "serviceMonitor.namespace=monitoring"), unset: sm,
			field: func(t *testing.T, r *rendered) any {
				m := monitor(t, r)
				return []any{m.Namespace, m.Spec.NamespaceSelector.MatchNames}
			},
			want: []any{"monitoring", []string{releaseNamespace}},
		},
		{
			name: "serviceMonitor.labels", set: with(sm, "serviceMonitor.labels.release=kube-prometheus-stack"), unset: sm,
			field: func(t *testing.T, r *rendered) any { return monitor(t, r).Labels["release"] },
			want:  "kube-prometheus-stack",
		},
		{
			name: "serviceMonitor.interval", set: with(sm, "serviceMonitor.interval=1m"), unset: with(sm, "serviceMonitor.interval="),
			field: func(t *testing.T, r *rendered) any {
				return endpointField(t, r, func(e monitoringv1.Endpoint) any { return e.Interval })
			},
			want: []any{monitoringv1.Duration("1m"), monitoringv1.Duration("1m")},
		},
		{
			name: "serviceMonitor.scrapeTimeout", set: with(sm, "serviceMonitor.scrapeTimeout=20s"), unset: with(sm, "serviceMonitor.scrapeTimeout="),
			field: func(t *testing.T, r *rendered) any {
				return endpointField(t, r, func(e monitoringv1.Endpoint) any { return e.ScrapeTimeout })
			},
			want: []any{monitoringv1.Duration("20s"), monitoringv1.Duration("20s")},
		},
		{
			name: "serviceMonitor.honorLabels", set: with(sm, "serviceMonitor.honorLabels=true"), unset: sm,
			field: func(t *testing.T, r *rendered) any {
				return endpointField(t, r, func(e monitoringv1.Endpoint) any { return e.HonorLabels })
			},
			want: []any{true, true},
		},
		{
			name: "serviceMonitor.tlsConfig", set: with(sm, "serviceMonitor.tlsConfig.serverName=mudscf-metrics", "serviceMonitor.tlsConfig.ca.secret.name=metrics-tls", "serviceMonitor.tlsConfig.ca.secret.key=ca.crt"), unset: sm,
			field: func(t *testing.T, r *rendered) any {
				return endpointField(t, r, func(e monitoringv1.Endpoint) any { return e.TLSConfig })
			},
			want: []any{metricsTLS(), metricsTLS()},
		},
		{
			name: "serviceMonitor.basicAuth", set: with(sm, "serviceMonitor.basicAuth.username.name=scrape", "serviceMonitor.basicAuth.username.key=user", "serviceMonitor.basicAuth.password.name=scrape", "serviceMonitor.basicAuth.password.key=password"), unset: sm,
			field: func(t *testing.T, r *rendered) any {
				return endpointField(t, r, func(e monitoringv1.Endpoint) any { return e.BasicAuth })
			},
			want: []any{scrapeAuth(), scrapeAuth()},
		},
		{
			name: "serviceMonitor.relabelings", set: with(sm, "serviceMonitor.relabelings[0].sourceLabels={__meta_kubernetes_pod_node_name}", "serviceMonitor.relabelings[0].targetLabel=node"), unset: sm,
			field: func(t *testing.T, r *rendered) any {
				return endpointField(t, r, func(e monitoringv1.Endpoint) any { return e.RelabelConfigs })
			},
			want: []any{nodeRelabeling(), nodeRelabeling()},
		},
		{
			name: "serviceMonitor.metricRelabelings", set: with(sm, "serviceMonitor.metricRelabelings[0].sourceLabels={__name__}", "serviceMonitor.metricRelabelings[0].regex=go_gc_.*", "serviceMonitor.metricRelabelings[0].action=drop"), unset: sm,
			field: func(t *testing.T, r *rendered) any {
				return endpointField(t, r, func(e monitoringv1.Endpoint) any { return e.MetricRelabelConfigs })
			},
			want: []any{dropGC(), dropGC()},
		},
		{
			name: "serviceMonitor.sampleLimit", set: with(sm, "serviceMonitor.sampleLimit=20000"), unset: sm,
			field: func(t *testing.T, r *rendered) any { return monitor(t, r).Spec.SampleLimit },
			want:  ptr[int64](20000),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.field(t, renderOnce(t, tc.values, tc.set))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("with the value: got %s, want %s", show(got), show(tc.want))
			}
			if got := tc.field(t, renderOnce(t, tc.unsetValues, tc.unset)); !absent(got) {
				t.Errorf("without the value: got %s, want nothing", show(got))
			}
		})
	}
}

// absent is true for a zero value, and for a slice of zero values (one
// per container or endpoint).
func absent(v any) bool {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.IsZero() {
		return true
	}
	if rv.Kind() != reflect.Slice {
		return false
	}
	for i := range rv.Len() {
		if !absent(rv.Index(i).Interface()) {
			return false
		}
	}
	return true
}

// show prints pointers' targets, which %v would print as addresses.
func show(v any) string {
	b, err := sigsyaml.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(string(b))
}

func ptr[T any](v T) *T { return &v }

func deployment(t *testing.T, r *rendered, name string) *appsv1.Deployment {
	t.Helper()
	d := r.deployments[name]
	if d == nil {
		t.Fatalf("no Deployment %s", name)
	}
	return d
}

// container finds the proxy or the exporter container, in whichever
// Deployment runs it.
func container(t *testing.T, r *rendered, name string) *corev1.Container {
	t.Helper()
	for _, d := range r.deployments {
		for i, c := range d.Spec.Template.Spec.Containers {
			if c.Name == name {
				return &d.Spec.Template.Spec.Containers[i]
			}
		}
	}
	t.Fatalf("no %s container", name)
	return nil
}

// extraArgs returns the args after the chart's first n, failing if the
// chart's are not the command and its configuration file.
func extraArgs(t *testing.T, args []string, n int) []string {
	t.Helper()
	if len(args) < n || args[1] != "--config" || !strings.HasPrefix(args[2], "/etc/mudscf/config/") {
		t.Fatalf("args %q do not start with the command and its --config", args)
	}
	return args[n:]
}

func env(c *corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

// envValues lists the variables' values in the proxy, then the
// exporter; "" for one not set.
func envValues(t *testing.T, r *rendered, names ...string) []string {
	t.Helper()
	var values []string
	for _, c := range []string{"proxy", "exporter"} {
		for _, n := range names {
			v := ""
			if e := env(container(t, r, c), n); e != nil {
				v = e.Value
			}
			values = append(values, v)
		}
	}
	return values
}

func secretRef(name, key string) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}
}

func volume(spec corev1.PodSpec, name string) *corev1.Volume {
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

func mount(c *corev1.Container, name string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == name {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func caConfigMapVolume() *corev1.Volume {
	return &corev1.Volume{Name: "ca", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "corp-ca"}}}}
}

func webConfigFlag(args []string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--web.config.file="); ok {
			return v
		}
	}
	return ""
}

// probeSchemes lists the liveness and readiness probes' schemes of the
// proxy, then the exporter.
func probeSchemes(t *testing.T, r *rendered) []corev1.URIScheme {
	t.Helper()
	var schemes []corev1.URIScheme
	for _, name := range []string{"proxy", "exporter"} {
		c := container(t, r, name)
		schemes = append(schemes, c.LivenessProbe.HTTPGet.Scheme, c.ReadinessProbe.HTTPGet.Scheme)
	}
	return schemes
}

func monitor(t *testing.T, r *rendered) *monitoringv1.ServiceMonitor {
	t.Helper()
	m := r.monitors["rel-mudscf"]
	if m == nil {
		t.Fatal("no ServiceMonitor rel-mudscf")
	}
	return m
}

// endpointField reads one field of each of the ServiceMonitor's endpoints
// (the proxy's admin port, the exporter's).
func endpointField(t *testing.T, r *rendered, field func(monitoringv1.Endpoint) any) []any {
	t.Helper()
	var got []any
	for _, e := range monitor(t, r).Spec.Endpoints {
		got = append(got, field(e))
	}
	return got
}

func metricsTLS() *monitoringv1.TLSConfig {
	return &monitoringv1.TLSConfig{SafeTLSConfig: monitoringv1.SafeTLSConfig{
		ServerName: ptr("mudscf-metrics"),
		CA:         monitoringv1.SecretOrConfigMap{Secret: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "metrics-tls"}, Key: "ca.crt"}},
	}}
}

func scrapeAuth() *monitoringv1.BasicAuth {
	return &monitoringv1.BasicAuth{
		Username: corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "scrape"}, Key: "user"},
		Password: corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "scrape"}, Key: "password"},
	}
}

func nodeRelabeling() []monitoringv1.RelabelConfig {
	return []monitoringv1.RelabelConfig{{SourceLabels: []monitoringv1.LabelName{"__meta_kubernetes_pod_node_name"}, TargetLabel: "node"}}
}

func dropGC() []monitoringv1.RelabelConfig {
	return []monitoringv1.RelabelConfig{{SourceLabels: []monitoringv1.LabelName{"__name__"}, Regex: "go_gc_.*", Action: "drop"}}
}

// readValues reads a values file as helm does, before its defaults.
func readValues(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return v
}

func stringMap(v any) map[string]string {
	out := map[string]string{}
	for k, val := range v.(map[string]any) {
		out[k] = val.(string)
	}
	return out
}

// sdkResourceAttributes is what the OpenTelemetry SDK makes of the
// variable, failing on anything it rejects; nil when it is not set.
func sdkResourceAttributes(t *testing.T, e *corev1.EnvVar) map[string]string {
	t.Helper()
	if e == nil {
		return nil
	}
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", e.Value)
	res, err := resource.New(context.Background(), resource.WithFromEnv())
	if err != nil {
		t.Fatalf("the SDK rejects OTEL_RESOURCE_ATTRIBUTES=%q: %v", e.Value, err)
	}
	out := map[string]string{}
	for _, kv := range res.Attributes() {
		out[string(kv.Key)] = kv.Value.AsString()
	}
	return out
}

// checkOTLP gives each container's OTEL_* variables (a Secret's as a
// stand-in value) to the OpenTelemetry SDK: autoexport must build the
// exporter they describe, and the resource they name must parse.
func checkOTLP(t *testing.T, r *rendered) {
	t.Helper()
	for name, d := range r.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			if env(&c, "OTEL_EXPORTER_OTLP_ENDPOINT") == nil {
				continue
			}
			for _, v := range os.Environ() {
				if k, _, _ := strings.Cut(v, "="); strings.HasPrefix(k, "OTEL_") {
					t.Setenv(k, "")
					os.Unsetenv(k)
				}
			}
			for _, e := range c.Env {
				if !strings.HasPrefix(e.Name, "OTEL_") {
					continue
				}
				switch {
				case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
					t.Setenv(e.Name, "authorization=Bearer stand-in")
				case e.ValueFrom != nil:
					t.Errorf("%s/%s: %s from something other than a Secret", name, c.Name, e.Name)
				default:
					t.Setenv(e.Name, e.Value)
				}
			}
			exp, err := autoexport.NewSpanExporter(context.Background())
			if err != nil {
				t.Errorf("%s/%s: the SDK builds no exporter from the OTEL_* variables: %v", name, c.Name, err)
				continue
			}
			if autoexport.IsNoneSpanExporter(exp) {
				t.Errorf("%s/%s: the OTEL_* variables turn traces off", name, c.Name)
			}
			_ = exp.Shutdown(context.Background())
			if _, err := resource.New(context.Background(), resource.WithFromEnv()); err != nil {
				t.Errorf("%s/%s: the SDK rejects the resource: %v", name, c.Name, err)
			}
		}
	}
}

// checkWebConfig follows each container's --web.config.file to the
// Secret that provides it, and runs a configuration of the chart's own
// through exporter-toolkit's web.Validate, with the files it names
// provided as their volumes would (a fresh certificate for the TLS
// Secret). The probes and the ServiceMonitor must speak HTTPS exactly
// when the configuration turns TLS on; an existing Secret is not read, so
// there tlsSecret says it.
func checkWebConfig(t *testing.T, r *rendered) {
	t.Helper()
	httpsPorts := map[string]bool{}
	for name, d := range r.deployments {
		spec := d.Spec.Template.Spec
		for _, c := range spec.Containers {
			if c.Name != "proxy" && c.Name != "exporter" {
				continue
			}
			https := false
			if file := webConfigFlag(c.Args); file != "" {
				https = validateWebConfig(t, r, name, c, spec.Volumes, file)
			}
			want := corev1.URIScheme("")
			if https {
				want = corev1.URISchemeHTTPS
			}
			for probe, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
				if p.HTTPGet.Scheme != want {
					t.Errorf("%s/%s: %s probe scheme %q, want %q (TLS on: %v)", name, c.Name, probe, p.HTTPGet.Scheme, want, https)
				}
			}
			port := map[string]string{"proxy": "admin", "exporter": "exporter"}[c.Name]
			httpsPorts[port] = https
		}
	}
	for name, sm := range r.monitors {
		for _, e := range sm.Spec.Endpoints {
			https := e.Scheme != nil && strings.EqualFold(string(*e.Scheme), "https")
			if https != httpsPorts[e.Port] {
				t.Errorf("ServiceMonitor %s scrapes %s with scheme %v; the listener serves HTTPS: %v", name, e.Port, e.Scheme, httpsPorts[e.Port])
			}
			if https && e.TLSConfig == nil {
				t.Errorf("ServiceMonitor %s scrapes %s over HTTPS without a tlsConfig", name, e.Port)
			}
		}
	}
}

// validateWebConfig returns whether the container's web configuration
// turns TLS on.
func validateWebConfig(t *testing.T, r *rendered, deployment string, c corev1.Container, volumes []corev1.Volume, file string) bool {
	t.Helper()
	v, rel := mountedSecret(c, volumes, file)
	if v == nil {
		t.Errorf("%s/%s: --web.config.file=%s is on no mounted Secret", deployment, c.Name, file)
		return false
	}
	tlsMounted := false
	for _, m := range c.VolumeMounts {
		if tv := volume(corev1.PodSpec{Volumes: volumes}, m.Name); tv != nil && tv.Secret != nil && m.MountPath == "/etc/mudscf/web-tls" {
			tlsMounted = true
		}
	}
	own := r.secrets[v.Secret.SecretName]
	if own == nil {
		// A Secret the user manages: mounted whole, its key the file.
		if len(v.Secret.Items) != 0 || rel == "" {
			t.Errorf("%s/%s: an existing web-config Secret must be mounted whole, got items %v", deployment, c.Name, v.Secret.Items)
		}
		return tlsMounted
	}
	key := ""
	for _, item := range v.Secret.Items {
		if item.Path == rel {
			key = item.Key
		}
	}
	text, ok := own.Data[key]
	if !ok {
		t.Errorf("%s/%s: --web.config.file=%s: the chart's Secret %s has no key %q", deployment, c.Name, file, own.Name, key)
		return false
	}
	var cfg web.Config
	if err := yamlv2.UnmarshalStrict(text, &cfg); err != nil {
		t.Errorf("%s/%s: the web configuration does not decode strictly: %v\n%s", deployment, c.Name, err, text)
		return false
	}
	// Lay out the files it names where their Secrets would put them, under
	// a root of the test's.
	root := t.TempDir()
	rooted := string(text)
	cert, certKey := testCertificate(t)
	for path, content := range map[string][]byte{cfg.TLSConfig.TLSCertPath: cert, cfg.TLSConfig.TLSKeyPath: certKey, cfg.TLSConfig.ClientCAs: cert} {
		if path == "" {
			continue
		}
		if !providedBy(c, volumes, path) {
			t.Errorf("%s/%s: the web configuration reads %s, which no mounted Secret item provides", deployment, c.Name, path)
		}
		writeFile(t, filepath.Join(root, path), content)
		rooted = regexp.MustCompile(`(?m): `+regexp.QuoteMeta(path)+`$`).ReplaceAllLiteralString(rooted, ": "+filepath.Join(root, path))
	}
	writeFile(t, filepath.Join(root, file), []byte(rooted))
	if err := web.Validate(filepath.Join(root, file)); err != nil {
		t.Errorf("%s/%s: exporter-toolkit rejects the web configuration: %v\n%s", deployment, c.Name, err, text)
	}
	return cfg.TLSConfig.IsEnabled()
}

// mountedSecret returns the Secret volume a file is on, and the file's
// path inside it.
func mountedSecret(c corev1.Container, volumes []corev1.Volume, file string) (*corev1.Volume, string) {
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(file, m.MountPath+"/")
		if !ok {
			continue
		}
		if v := volume(corev1.PodSpec{Volumes: volumes}, m.Name); v != nil && v.Secret != nil {
			return v, rel
		}
	}
	return nil, ""
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

var testCertificatePEM = sync.OnceValues(func() ([]byte, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rel-mudscf-metrics"},
		DNSNames:  []string{"rel-mudscf-metrics"},
		NotBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
})

// testCertificate is a self-signed certificate and its key, as PEM.
func testCertificate(t *testing.T) ([]byte, []byte) {
	t.Helper()
	return testCertificatePEM()
}

// TestCommonLabelsOnEveryObject requires commonLabels on every object
// rendered, with every feature on and with the defaults (the chart's own
// Secret, for one, renders only there), and on the pods; none without it.
func TestCommonLabelsOnEveryObject(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		set    []string
		want   bool
	}{
		{"all features", []string{allFeatures}, nil, true},
		{"defaults with commonLabels", nil, []string{"commonLabels.example\\.com/cost-center=obs-42"}, true},
		{"defaults", nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := render(t, tc.values, tc.set)
			labelled := func(what string, labels map[string]string) {
				if got := labels["example.com/cost-center"] == "obs-42"; got != tc.want {
					t.Errorf("%s carries commonLabels: %v, want %v (labels %v)", what, got, tc.want, labels)
				}
			}
			for _, o := range r.objects {
				labelled(o.kind+" "+o.meta.GetName(), o.meta.GetLabels())
			}
			for name, d := range r.deployments {
				labelled("the pods of "+name, d.Spec.Template.Labels)
				for k, v := range d.Spec.Selector.MatchLabels {
					if d.Spec.Template.Labels[k] != v {
						t.Errorf("deployment %s: its pods lost selector label %s=%s", name, k, v)
					}
				}
			}
		})
	}
}

// TestOwnLabelsWinOverCommonLabels sets commonLabels that clash with an
// object's own: the ServiceMonitor's release label (the Operator selects
// by it), the metrics Services' mudscf.io/metrics (the monitor selects
// by that) and podLabels must stay the object's.
func TestOwnLabelsWinOverCommonLabels(t *testing.T) {
	r := render(t, nil, []string{
		"commonLabels.release=everyone", "commonLabels.mudscf\\.io/metrics=no", "commonLabels.tier=everyone",
		"serviceMonitor.enabled=true", "serviceMonitor.labels.release=kube-prometheus-stack", "podLabels.tier=backend",
	})
	if got := monitor(t, r).Labels["release"]; got != "kube-prometheus-stack" {
		t.Errorf("ServiceMonitor release label %q, want serviceMonitor.labels' kube-prometheus-stack", got)
	}
	if got := r.services["rel-mudscf-metrics"].Labels["mudscf.io/metrics"]; got != "true" {
		t.Errorf("metrics Service mudscf.io/metrics=%q, want the chart's true", got)
	}
	if got := r.configMaps["rel-mudscf"].Labels["release"]; got != "everyone" {
		t.Errorf("ConfigMap release label %q, want commonLabels' everyone", got)
	}
	if got := deployment(t, r, "rel-mudscf").Spec.Template.Labels["tier"]; got != "backend" {
		t.Errorf("pod label tier=%q, want podLabels' backend", got)
	}
	checkServiceMonitor(t, r)
}

// TestTestImageIsPinned requires `helm test`'s image to be pinned by
// digest, and the pod to run it.
func TestTestImageIsPinned(t *testing.T) {
	values := readValues(t, filepath.Join(chartDir, "values.yaml"))
	image, _ := values["tests"].(map[string]any)["image"].(string)
	if !regexp.MustCompile(`^[^@\s]+:[^@\s]+@sha256:[0-9a-f]{64}$`).MatchString(image) {
		t.Errorf("tests.image %q is not pinned as name:tag@sha256:digest", image)
	}
	pod := render(t, nil, nil).pods["rel-mudscf-test"]
	if pod == nil || pod.Spec.Containers[0].Image != image {
		t.Errorf("the helm test pod does not run tests.image %q", image)
	}
}

// TestChartMetadata requires what Artifact Hub and `helm show chart`
// show: home and sources in the module's repository, maintainers, and an
// icon that is a file of this repository on its main branch.
func TestChartMetadata(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		Home        string   `yaml:"home"`
		Sources     []string `yaml:"sources"`
		Icon        string   `yaml:"icon"`
		KubeVersion string   `yaml:"kubeVersion"`
		Maintainers []struct {
			Name string `yaml:"name"`
			URL  string `yaml:"url"`
		} `yaml:"maintainers"`
	}
	if err := yaml.Unmarshal(b, &chart); err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	module := strings.Fields(strings.SplitN(string(mod), "\n", 2)[0])[1]
	repo := "https://" + module
	if chart.Home != repo {
		t.Errorf("home %q, want the module's repository %s", chart.Home, repo)
	}
	if len(chart.Sources) == 0 || chart.Sources[0] != repo {
		t.Errorf("sources %v, want %s first", chart.Sources, repo)
	}
	for _, s := range chart.Sources {
		if !strings.HasPrefix(s, repo) {
			t.Errorf("source %s is not in %s", s, repo)
		}
	}
	if len(chart.Maintainers) == 0 || chart.Maintainers[0].Name == "" {
		t.Errorf("maintainers %v: want at least one, named", chart.Maintainers)
	}
	raw := "https://raw.githubusercontent.com/" + strings.TrimPrefix(module, "github.com/") + "/main/"
	icon, ok := strings.CutPrefix(chart.Icon, raw)
	if !ok {
		t.Fatalf("icon %q is not a file of %s on main", chart.Icon, repo)
	}
	if _, err := os.Stat(filepath.Join("..", icon)); err != nil {
		t.Errorf("icon %s: %v", chart.Icon, err)
	}
	if chart.KubeVersion == "" {
		t.Error("no kubeVersion")
	}
}

// TestSchemaCoversWebConfig keeps webConfig.config's keys in the schema
// those of exporter-toolkit's web.Config: a key it gains must be allowed,
// and one the schema allows must be one it reads (it decodes strictly).
func TestSchemaCoversWebConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties struct {
			WebConfig struct {
				Properties struct {
					Config struct {
						Properties map[string]any `yaml:"properties"`
					} `yaml:"config"`
				} `yaml:"properties"`
			} `yaml:"webConfig"`
		} `yaml:"properties"`
	}
	if err := yaml.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	var fromSchema, fromGo []string
	for k := range schema.Properties.WebConfig.Properties.Config.Properties {
		fromSchema = append(fromSchema, k)
	}
	typ := reflect.TypeFor[web.Config]()
	for i := range typ.NumField() {
		fromGo = append(fromGo, strings.Split(typ.Field(i).Tag.Get("yaml"), ",")[0])
	}
	slices.Sort(fromSchema)
	slices.Sort(fromGo)
	if !slices.Equal(fromSchema, fromGo) {
		t.Errorf("values.schema.json allows webConfig.config keys %v; exporter-toolkit's web.Config has %v", fromSchema, fromGo)
	}
}
