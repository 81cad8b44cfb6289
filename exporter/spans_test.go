package exporter

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/translate"
)

// Each function's spans carry their own resource, so a trace backend lists
// every function as a service; the base resource (the environment's) is
// kept under it, and the function's attributes win.
func TestSpanResourcesPerFunction(t *testing.T) {
	cfg := fakeConfig(t, "a", "b")
	cfg.Functions[0].Name = "orders-webhook"
	cfg.Functions[0].Region = "ap-guangzhou"
	cfg.Functions[0].Qualifier = "$LATEST"
	cfg.Functions[0].ResourceID = "qcs::scf:ap-guangzhou:uin/100000000001:namespace/default/function/orders-webhook"
	fake := &fakeLogs{first: time.Now().Add(-20 * time.Second).Truncate(time.Second), every: 2 * time.Second, n: 5}
	mem := tracetest.NewInMemoryExporter()
	base := resource.NewSchemaless(attribute.String("deployment.environment.name", "staging"), attribute.String("service.name", "mudscf-exporter"))
	e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}, SpanProcessor: sdktrace.NewSimpleSpanProcessor(mem), Resource: base})
	if err != nil {
		t.Fatal(err)
	}
	e.Round(t.Context())
	wantResource := map[string]map[attribute.Key]attribute.Value{
		"a": {
			"service.name": attribute.StringValue("orders-webhook"), "faas.name": attribute.StringValue("orders-webhook"),
			"faas.version": attribute.StringValue("$LATEST"), "cloud.region": attribute.StringValue("ap-guangzhou"),
			"service.namespace": attribute.StringValue("p"),
			"cloud.resource_id": attribute.StringValue(cfg.Functions[0].ResourceID),
			"cloud.provider":    attribute.StringValue("tencent_cloud"), "cloud.platform": attribute.StringValue("tencent_cloud_scf"),
			"mudscf.project_id": attribute.StringValue("p"), "mudscf.function_id": attribute.StringValue("a"),
			"deployment.environment.name": attribute.StringValue("staging"),
		},
		"b": { // no name configured: the executions' functionName
			"service.name": attribute.StringValue("fn-b"), "faas.name": attribute.StringValue("fn-b"), "service.namespace": attribute.StringValue("p"),
			"mudscf.function_id": attribute.StringValue("b"), "deployment.environment.name": attribute.StringValue("staging"),
		},
	}
	absent := map[string][]attribute.Key{"b": {"faas.max_memory", "cloud.resource_id", "cloud.region", "faas.version"}}
	spans := mem.GetSpans()
	if len(spans) != 10 {
		t.Fatalf("%d spans, want 5 per function", len(spans))
	}
	perFunction := map[string]int{}
	for _, sp := range spans {
		res := sp.Resource.Set()
		fn, _ := res.Value("mudscf.function_id")
		spanAttrs := attribute.NewSet(sp.Attributes...)
		if own, _ := spanAttrs.Value("mudscf.function_id"); own != fn {
			t.Errorf("a span of %s has the resource of %s", own.String(), fn.String())
		}
		perFunction[fn.AsString()]++
		for k, want := range wantResource[fn.AsString()] {
			if got, _ := res.Value(k); got != want {
				t.Errorf("%s: resource %s = %v, want %v", fn.AsString(), k, got.String(), want.String())
			}
		}
		for _, k := range absent[fn.AsString()] {
			if res.HasValue(k) {
				t.Errorf("%s: resource has %s without configuration", fn.AsString(), k)
			}
		}
		attrs := attribute.NewSet(sp.Attributes...)
		id, _ := attrs.Value("faas.invocation_id")
		failed := id.AsString()[len(id.AsString())-1] == '4' // the fake's every fifth fails with 433
		errType, hasErrType := attrs.Value("error.type")
		if failed != hasErrType || (failed && errType.AsString() != "timeout") {
			t.Errorf("%s: error.type %q, failed %v", id.AsString(), errType.AsString(), failed)
		}
		for _, k := range []attribute.Key{"mudscf.retry_count", "mudscf.billed_duration_ms", "mudscf.memory_usage_bytes", "mudscf.ret_code"} {
			if !attrs.HasValue(k) {
				t.Errorf("%s: no %s", id.AsString(), k)
			}
		}
		if attrs.HasValue("faas.retry_count") {
			t.Errorf("%s: the invented faas.retry_count is back", id.AsString())
		}
	}
	if perFunction["a"] != 5 || perFunction["b"] != 5 {
		t.Errorf("spans per function resource: %v, want 5 each", perFunction)
	}
}

// outcomeOf follows Tencent's "Cloud Function Status Code" table.
func TestOutcomeOf(t *testing.T) {
	cases := []struct {
		success bool
		retCode int64
		err     string
		want    string
	}{
		{true, 0, "", "success"},
		{false, 433, "Invoking task timed out after 3 seconds", "timeout"},
		{false, 434, "Memory limit reached", "out_of_memory"},
		{false, 430, "User code exception caught", "error"},
		{false, 407, "The size of response exceeds the upper limit (6MB)", "error"},
		{false, 405, "ContainerStateExited", "platform_error"},
		{false, 429, "ResourceLimit", "platform_error"},
		{false, 432, "ResourceLimitReached", "platform_error"},
		{false, 435, "FunctionNotFound", "platform_error"},
		{false, 500, "InternalError", "platform_error"},
		{false, 1, "a code of the function's own", "error"},
		{false, -1, "", "error"},
		{false, 0, "invocation did not finish", "unfinished"},
		{false, 0, "Timeout", "timeout"}, // Mudbase's own records carry no retCode
		{false, 0, "boom", "error"},
	}
	for _, c := range cases {
		x := translate.Execution{Success: c.success, RetCode: c.retCode, Error: c.err}
		if got := outcomeOf(x); got != c.want {
			t.Errorf("success %v, retCode %d, error %q: %s, want %s", c.success, c.retCode, c.err, got, c.want)
		}
	}
}

// Every outcome's series exists at 0 from the start, so that error ratios
// read 0 rather than no data; executions have no status (a function of
// the outcome) nor trigger (no Tencent source reports one), and there is
// no cost series (a recording rule's job, from the proxy's memory sizes).
func TestSeriesPrecreated(t *testing.T) {
	cfg := fakeConfig(t, "a", "b")
	cfg.Functions[0].MemorySizeMB = 128 // deprecated: accepted, ignored
	e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: &fakeLogs{}}})
	if err != nil {
		t.Fatal(err)
	}
	body := scrape(t, e)
	for _, fn := range []string{"a", "b"} {
		for _, o := range outcomes {
			series := `mudscf_function_executions_total{function="` + fn + `",outcome="` + o + `",project="p"} 0`
			if !containsLine(body, series) {
				t.Errorf("missing %s", series)
			}
		}
	}
	for _, gone := range []string{"mudscf_function_cost_gigabyte_seconds_total", "mudscf_exporter_lag_seconds", `status="`, `trigger="`} {
		if strings.Contains(body, gone) {
			t.Errorf("%s is still exported:\n%s", gone, grepLines(body, gone))
		}
	}
	if !strings.Contains(body, "\nmudscf_build_info{") || !strings.Contains(body, `goversion="`+runtime.Version()+`"`) {
		t.Errorf("no mudscf_build_info:\n%s", grepLines(body, "build_info"))
	}
}

// faas.trigger takes a small fixed set of values whatever the endpoint
// sends.
func TestFaaSTriggerIsBounded(t *testing.T) {
	for _, tc := range []struct{ in, faas string }{
		{"", ""},
		{"http", "http"},
		{"apigw", "http"},
		{"timer", "timer"},
		{"document", "datasource"},
		{"ckafka", "pubsub"},
		{"other", "other"},
		{"HTTP", "other"},
		{"req-8f2c1e", "other"},
		{strings.Repeat("x", 10_000), "other"},
	} {
		if got := faasTrigger(tc.in).Value.AsString(); got != tc.faas {
			t.Errorf("faasTrigger(%.20q) = %q, want %q", tc.in, got, tc.faas)
		}
	}
}
