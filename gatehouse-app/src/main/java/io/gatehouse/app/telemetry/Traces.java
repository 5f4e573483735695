package io.gatehouse.app.telemetry;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.webserver.http.Filter;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;

import java.util.concurrent.TimeUnit;

/**
 * W3C trace context continued from the edge: a SERVER span per request, child of the {@code traceparent} the edge
 * sent, and a CLIENT span for each Redis command and each database call made while serving it. Handlers run on
 * their own virtual thread, so the request's span is simply the current context of that thread; work outside a
 * request (replica monitor, leader jobs, XFetch refreshes) has no current span and makes none, so tracing costs
 * nothing there. {@link #OFF} makes every span the invalid one, whose methods do nothing.
 */
public final class Traces implements AutoCloseable {
    public static final Traces OFF = new Traces(null, null);

    static final AttributeKey<String> DB_SYSTEM = AttributeKey.stringKey("db.system.name");
    static final AttributeKey<String> DB_OPERATION = AttributeKey.stringKey("db.operation.name");
    static final AttributeKey<String> PEER = AttributeKey.stringKey("gatehouse.peer");
    static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    static final AttributeKey<String> ROUTE = AttributeKey.stringKey("http.route");
    static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");

    private static final W3CTraceContextPropagator PROPAGATOR = W3CTraceContextPropagator.getInstance();
    private static final TextMapGetter<Headers> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers carrier) {
            return carrier.stream().map(h -> h.name()).toList();
        }

        @Override
        public String get(Headers carrier, String key) {
            if (carrier == null) return null;
            HeaderName name = HeaderNames.create(key);
            return carrier.contains(name) ? carrier.get(name).get() : null;
        }
    };

    private final SdkTracerProvider provider; // null: off
    private final Tracer tracer;

    private Traces(SdkTracerProvider provider, Tracer tracer) {
        this.provider = provider;
        this.tracer = tracer;
    }

    /**
     * Spans go to {@code processor} (a batch OTLP exporter, or an in-memory one in tests). A request that arrives
     * with a sampled {@code traceparent} is always traced; one without is traced with {@code sampleRatio}.
     */
    public static Traces to(SpanProcessor processor, String instance, double sampleRatio) {
        SdkTracerProvider provider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
                        AttributeKey.stringKey("service.name"), "gatehouse-app",
                        AttributeKey.stringKey("service.instance.id"), instance))))
                .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(sampleRatio)))
                .addSpanProcessor(processor)
                .build();
        return new Traces(provider, provider.get("io.gatehouse.app"));
    }

    /** Exports over OTLP/HTTP to {@code endpoint} (e.g. {@code http://localhost:4318}), batched off the request path. */
    public static Traces otlp(String endpoint, String instance, double sampleRatio) {
        String base = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
        OtlpHttpSpanExporter exporter = OtlpHttpSpanExporter.builder()
                .setEndpoint(base.endsWith("/v1/traces") ? base : base + "/v1/traces")
                .setTimeout(5, TimeUnit.SECONDS).build();
        return to(BatchSpanProcessor.builder(exporter).build(), instance, sampleRatio);
    }

    public boolean on() {
        return provider != null;
    }

    /** The Helidon filter that opens the request's SERVER span (named after the matched route once it is known). */
    public Filter serverSpans() {
        return (chain, req, res) -> {
            if (tracer == null) {
                chain.proceed();
                return;
            }
            Context parent = PROPAGATOR.extract(Context.root(), req.headers(), GETTER);
            String method = req.prologue().method().text();
            Span span = tracer.spanBuilder(method).setSpanKind(SpanKind.SERVER).setParent(parent)
                    .setAttribute(METHOD, method).startSpan();
            try (Scope ignored = span.makeCurrent()) {
                chain.proceed();
            } catch (RuntimeException e) {
                span.setStatus(StatusCode.ERROR, e.getClass().getSimpleName());
                throw e;
            } finally {
                String route = req.matchingPattern().orElse("unmatched");
                int status = res.status().code();
                span.updateName(method + " " + route);
                span.setAttribute(ROUTE, route);
                span.setAttribute(STATUS, (long) status);
                if (status >= 500) span.setStatus(StatusCode.ERROR);
                span.end();
            }
        };
    }

    /**
     * A CLIENT span for one call to a dependency, child of the request's span; the invalid (no-op) span when there
     * is no request span to hang it on. The caller ends it.
     *
     * @param system    {@code redis} or {@code postgresql}
     * @param operation e.g. {@code GET}, {@code read}
     * @param peer      which server: {@code primary}, {@code replica-1}, the Redis address
     */
    public Span client(String system, String operation, String peer) {
        if (tracer == null) return Span.getInvalid();
        Context current = Context.current();
        if (!Span.fromContext(current).getSpanContext().isValid()) return Span.getInvalid();
        return tracer.spanBuilder(system + " " + operation).setSpanKind(SpanKind.CLIENT).setParent(current)
                .setAttribute(DB_SYSTEM, system).setAttribute(DB_OPERATION, operation).setAttribute(PEER, peer)
                .startSpan();
    }

    /** Ends a client span, marking it failed when {@code error} is not null. */
    public static void end(Span span, Throwable error) {
        if (error != null) span.setStatus(StatusCode.ERROR, error.getClass().getSimpleName());
        span.end();
    }

    /** Flushes and stops the exporter. */
    @Override
    public void close() {
        if (provider != null) provider.shutdown().join(5, TimeUnit.SECONDS);
    }
}
