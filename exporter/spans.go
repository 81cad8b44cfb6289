package exporter

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
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

// emitSpan records one execution as a FaaS server span with its real start
// and duration.
func emitSpan(tracer trace.Tracer, f FunctionConfig, id string, e translate.Execution, start time.Time) {
	name := f.Name
	if name == "" {
		name = e.FunctionName
	}
	if name == "" {
		name = f.Function
	}
	attrs := []attribute.KeyValue{
		semconv.FaaSInvocationID(id),
		semconv.FaaSName(name),
		semconv.CloudProviderTencentCloud,
		semconv.CloudPlatformTencentCloudSCF,
		attribute.String("mudscf.project_id", f.Project),
		attribute.String("mudscf.function_id", f.Function),
		attribute.Int64("faas.retry_count", e.RetryCount),
		attribute.Int64("mudscf.memory_usage_bytes", e.MemoryUsageBytes),
		attribute.Int64("mudscf.billed_duration_ms", e.BilledDurationMs),
	}
	if trigger := faasTrigger(e.TriggerType); trigger.Valid() {
		attrs = append(attrs, trigger)
	}
	if f.Region != "" {
		attrs = append(attrs, semconv.CloudRegion(f.Region))
	}
	if f.Qualifier != "" {
		attrs = append(attrs, semconv.FaaSVersion(f.Qualifier))
	}
	ctx := context.WithValue(context.Background(), invocationKey{}, id)
	_, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start),
		trace.WithAttributes(attrs...), trace.WithNewRoot())
	if !e.Success {
		span.SetStatus(codes.Error, e.Error)
	}
	span.End(trace.WithTimestamp(start.Add(time.Duration(e.ExecutionTime) * time.Millisecond)))
}

// faasTrigger maps Mudbase's triggerType to faas.trigger where it says
// something; GetFunctionLogs carries none, so usually there is no
// attribute rather than a guessed one.
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
