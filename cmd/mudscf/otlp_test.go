package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP trace endpoint: what a collector receives,
// decoded with the OTLP protobuf definitions.
type otlpReceiver struct {
	mu       sync.Mutex
	requests []*coltrace.ExportTraceServiceRequest
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "not an OTLP/HTTP protobuf trace export", http.StatusBadRequest)
		return
	}
	var export coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &export); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.requests = append(r.requests, &export)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

// received is each resource's attributes with the spans sent under it.
type received struct {
	resource map[string]string
	spans    []*tracepb.Span
}

func (r *otlpReceiver) resources() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []received
	for _, req := range r.requests {
		for _, rs := range req.ResourceSpans {
			rec := received{resource: attrs(rs.Resource.GetAttributes())}
			for _, ss := range rs.ScopeSpans {
				rec.spans = append(rec.spans, ss.Spans...)
			}
			out = append(out, rec)
		}
	}
	return out
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		switch v := kv.Value.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.Key] = "int"
		default:
			m[kv.Key] = "?"
		}
	}
	return m
}

// The demo's traces, received over the wire as a collector receives them:
// each function is a service of its own with Tencent's cloud and FaaS
// resource attributes, its execution spans carry the invocation ID and
// mudscf's own attributes under mudscf.*, and the proxy's spans are not
// unknown_service.
func TestOTLPExportOverTheWire(t *testing.T) {
	rcv := &otlpReceiver{}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close) // after the demo's own cleanup has flushed its spans
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
	m := startSubcommand(t, regexp.MustCompile(`curl -s -H 'Authorization: Bearer ([^']+)' '([^']+)'`),
		"demo", "--jwt-secret", demoJWTSecret, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--sim-addr", "127.0.0.1:0", "--exporter-addr", "127.0.0.1:0")
	req, _ := http.NewRequest(http.MethodGet, m[2], nil)
	req.Header.Set("Authorization", "Bearer "+m[1])
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}

	functions := map[string]received{}
	var proxySpans int
	// A poll: the demo's batch span processors export on their own
	// schedule of the wall clock, to a receiver on a real socket.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		proxySpans = 0
		for _, r := range rcv.resources() {
			if r.resource["cloud.platform"] == "tencent_cloud_scf" {
				f := functions[r.resource["service.name"]]
				f.resource = r.resource
				f.spans = append(f.spans, r.spans...)
				functions[r.resource["service.name"]] = f
			} else {
				proxySpans += len(r.spans)
				if name := r.resource["service.name"]; name == "" || regexp.MustCompile(`^unknown_service`).MatchString(name) {
					t.Fatalf("mudscf's own spans are exported as service %q", name)
				}
			}
		}
		if len(functions) >= 2 && proxySpans > 0 {
			break
		}
		functions = map[string]received{}
	}
	if len(functions) < 2 || proxySpans == 0 {
		t.Fatalf("received spans of %d functions and %d of mudscf's own, want at least 2 and 1", len(functions), proxySpans)
	}
	for name, f := range functions {
		for key, want := range map[string]string{
			"service.name": name, "faas.name": name, "cloud.provider": "tencent_cloud", "cloud.platform": "tencent_cloud_scf",
			"cloud.region": "ap-guangzhou", "mudscf.project_id": "", "mudscf.function_id": "",
		} {
			if got, ok := f.resource[key]; !ok || want != "" && got != want {
				t.Errorf("function %s: resource %s = %q (present %v), want %q", name, key, got, ok, want)
			}
		}
		for _, s := range f.spans {
			a := attrs(s.Attributes)
			if a["faas.invocation_id"] == "" || a["mudscf.retry_count"] != "int" {
				t.Errorf("function %s: span %q lacks faas.invocation_id or mudscf.retry_count: %v", name, s.Name, a)
			}
			if _, invented := a["faas.retry_count"]; invented {
				t.Errorf("function %s: span has the invented faas.retry_count", name)
			}
			if failed := s.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR; failed != (a["error.type"] != "") {
				t.Errorf("function %s: span status error %v but error.type %q", name, failed, a["error.type"])
			}
		}
	}
}
