package exporter

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/mudscf/mudscf/translate"
)

// TracerName is the instrumentation scope of execution spans.
const TracerName = "github.com/mudscf/mudscf/exporter"

type invocationKey struct{}

// IDGenerator derives a span's trace and span IDs from the execution's
// requestId, so that an execution exported twice (after a crash before a
// checkpoint, or by two exporters) is the same span, which backends merge.
// Spans without a requestId in their context get random IDs.
type IDGenerator struct{}

var _ sdktrace.IDGenerator = IDGenerator{}

// NewIDs implements sdktrace.IDGenerator.
func (IDGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if id, ok := ctx.Value(invocationKey{}).(string); ok {
		return idsFor(id)
	}
	var t trace.TraceID
	var s trace.SpanID
	_, _ = rand.Read(t[:])
	_, _ = rand.Read(s[:])
	return t, s
}

// NewSpanID implements sdktrace.IDGenerator.
func (g IDGenerator) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	_, s := g.NewIDs(ctx)
	return s
}

func idsFor(requestID string) (trace.TraceID, trace.SpanID) {
	h := sha256.Sum256([]byte("mudscf execution\x00" + requestID))
	var t trace.TraceID
	var s trace.SpanID
	copy(t[:], h[:16])
	copy(s[:], h[16:24])
	return t, s
}

// tracers gives each function its own TracerProvider, so that its resource
// names the function (service.name, faas.name, cloud.resource_id, …) and
// trace backends list every function as its own service, as Lambda
// functions appear in X-Ray. The providers share one span processor, so
// one exporter and one batch carry them all.
type tracers struct {
	processor sdktrace.SpanProcessor // nil: no spans
	base      *resource.Resource
	byFn      map[string]trace.Tracer
}

// tracer returns f's tracer, named after f.Name, else the executions'
// functionName, else the function ID.
func (t *tracers) tracer(f FunctionConfig, functionName string) trace.Tracer {
	if tr, ok := t.byFn[f.key()]; ok {
		return tr
	}
	name := cmp.Or(f.Name, functionName, f.Function)
	// service.namespace is the project: two projects with a function of
	// the same name are two services.
	attrs := append(functionAttributes(f, name), semconv.ServiceName(name), semconv.ServiceNamespace(f.Project))
	if f.ResourceID != "" {
		attrs = append(attrs, semconv.CloudResourceID(f.ResourceID))
	}
	// The function's attributes win over the base's (which carries
	// OTEL_RESOURCE_ATTRIBUTES, and OTEL_SERVICE_NAME for the exporter
	// process itself).
	res, err := resource.Merge(t.base, resource.NewWithAttributes(semconv.SchemaURL, attrs...))
	if err != nil {
		// Only a schema URL conflict fails; the function's own attributes
		// are what matter.
		res = resource.NewWithAttributes(semconv.SchemaURL, attrs...)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(t.processor), sdktrace.WithResource(res),
		sdktrace.WithIDGenerator(IDGenerator{}))
	tr := tp.Tracer(TracerName)
	t.byFn[f.key()] = tr
	return tr
}

// emit records one execution as a FaaS server span with its real start and
// duration. The function's identity is on the resource; the span repeats
// faas.name and the cloud attributes for backends that show span
// attributes only.
func (t *tracers) emit(f FunctionConfig, id string, e translate.Execution, outcome string, start time.Time) {
	if t.processor == nil {
		return
	}
	tracer := t.tracer(f, e.FunctionName)
	name := cmp.Or(f.Name, e.FunctionName, f.Function)
	attrs := append(functionAttributes(f, name),
		semconv.FaaSInvocationID(id),
		attribute.Int64("mudscf.retry_count", e.RetryCount),
		attribute.Int64("mudscf.memory_usage_bytes", e.MemoryUsageBytes),
		attribute.Int64("mudscf.ret_code", e.RetCode),
	)
	if e.BilledDurationMs != nil {
		attrs = append(attrs, attribute.Int64("mudscf.billed_duration_ms", *e.BilledDurationMs))
	}
	if trigger := faasTrigger(e.TriggerType); trigger.Valid() {
		attrs = append(attrs, trigger)
	}
	if !e.Success {
		attrs = append(attrs, semconv.ErrorTypeKey.String(outcome))
	}
	ctx := context.WithValue(context.Background(), invocationKey{}, id)
	_, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start),
		trace.WithAttributes(attrs...), trace.WithNewRoot())
	if !e.Success {
		span.SetStatus(codes.Error, e.Error)
	}
	span.End(trace.WithTimestamp(start.Add(time.Duration(e.ExecutionTime) * time.Millisecond)))
}

// functionAttributes identify the function, on its resource and again on
// each span.
func functionAttributes(f FunctionConfig, name string) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		semconv.FaaSName(name),
		semconv.CloudProviderTencentCloud,
		semconv.CloudPlatformTencentCloudSCF,
		attribute.String("mudscf.project_id", f.Project),
		attribute.String("mudscf.function_id", f.Function),
	}
	if f.Region != "" {
		attrs = append(attrs, semconv.CloudRegion(f.Region))
	}
	if f.Qualifier != "" {
		attrs = append(attrs, semconv.FaaSVersion(f.Qualifier))
	}
	return attrs
}

// faasTrigger maps Mudbase's triggerType to faas.trigger where it says
// something; neither Tencent source carries one, so usually there is no
// attribute rather than a guessed one. (The metrics have no trigger label
// for that reason.)
func faasTrigger(t string) attribute.KeyValue {
	switch t {
	case "":
		return attribute.KeyValue{}
	case "http", "apigw":
		return semconv.FaaSTriggerHTTP
	case "timer", "schedule", "cron":
		return semconv.FaaSTriggerTimer
	case "document", "datasource", "cos":
		return semconv.FaaSTriggerDatasource
	case "pubsub", "queue", "ckafka", "cmq":
		return semconv.FaaSTriggerPubSub
	default:
		return semconv.FaaSTriggerOther
	}
}
