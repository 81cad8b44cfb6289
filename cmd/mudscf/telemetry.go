package main

import (
	"context"
	"os"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/mudscf/mudscf/exporter"
)

// setupTracing installs an OTLP (or other autoexport) tracer provider when
// the standard OTEL_* variables ask for one, and returns nil otherwise: an
// unconfigured binary must not dial localhost:4318 on its own, nor pay for
// instrumentation nobody reads. The provider derives execution spans' IDs
// from their requestId (exporter.IDGenerator; other spans get random IDs).
func setupTracing(ctx context.Context, service string) (trace.TracerProvider, func(context.Context) error, error) {
	noopShutdown := func(context.Context) error { return nil }
	if !tracesRequested() {
		return nil, noopShutdown, nil
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, noopShutdown, err
	}
	res, err := tracingResource(ctx, service)
	if err != nil {
		return nil, noopShutdown, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res),
		sdktrace.WithIDGenerator(exporter.IDGenerator{}))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp, tp.Shutdown, nil
}

// tracingResource names the service: OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES win, then service, never the SDK's
// "unknown_service:mudscf". Later detectors win, so the environment comes
// last. (resource.Default would put its unknown_service name last.)
func tracingResource(ctx context.Context, service string) (*resource.Resource, error) {
	return resource.New(ctx, resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName(service)), resource.WithFromEnv())
}

// tracesRequested says whether the standard OTEL_* variables ask for traces.
func tracesRequested() bool {
	return os.Getenv("OTEL_TRACES_EXPORTER") != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" ||
		os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}
