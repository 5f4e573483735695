package io.gatehouse.telemetry;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.TracingConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * OpenTelemetry tracing of proxied requests: a SERVER span per request, child of the client's {@code traceparent}
 * when it sent one, whose context replaces the {@code traceparent} sent upstream. Only exists when tracing is
 * configured: with tracing off the proxy holds null and pays one null check.
 */
public final class Tracing implements AutoCloseable {
    static final AttributeKey<String> ROUTE = AttributeKey.stringKey("gatehouse.route");
    static final AttributeKey<String> CLUSTER = AttributeKey.stringKey("gatehouse.cluster");
    static final AttributeKey<String> REASON = AttributeKey.stringKey("gatehouse.reason");
    static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    static final AttributeKey<String> HTTP_ROUTE = AttributeKey.stringKey("http.route");
    static final AttributeKey<String> PATH = AttributeKey.stringKey("url.path");
    static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");
    static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
    static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
    static final AttributeKey<String> CLIENT_ADDRESS = AttributeKey.stringKey("client.address");

    private static final W3CTraceContextPropagator PROPAGATOR = W3CTraceContextPropagator.getInstance();

    private static final TextMapGetter<HttpHeaders> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HttpHeaders carrier) {
            return List.copyOf(carrier.names());
        }

        @Override
        public String get(HttpHeaders carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private static final TextMapSetter<HttpHeaders> SETTER = (carrier, key, value) -> {
        if (carrier != null) carrier.set(key, value);
    };

    private final SdkTracerProvider provider;
    private final Tracer tracer;

    /** @param processor receives ended spans (a batch exporter in production, an in-memory one in tests) */
    public Tracing(SpanProcessor processor, String serviceName, double sampleRatio) {
        this.provider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), serviceName))))
                .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(sampleRatio)))
                .addSpanProcessor(processor)
                .build();
        this.tracer = provider.get("io.gatehouse");
    }

    /** Exports over OTLP/HTTP (the JDK's HttpClient sends), in batches off the event loops. */
    public static Tracing otlp(TracingConfig config) {
        OtlpHttpSpanExporter exporter = OtlpHttpSpanExporter.builder().setEndpoint(config.tracesUrl()).build();
        return new Tracing(BatchSpanProcessor.builder(exporter).build(), config.serviceName(), config.sampleRatio());
    }

    /**
     * Starts the SERVER span of a proxied request and writes its context into {@code requestHeaders} (which go
     * upstream), replacing the client's {@code traceparent}/{@code tracestate}.
     */
    public Span start(HttpHeaders requestHeaders, String method, String path, String clientIp, String route, String cluster) {
        Context parent = PROPAGATOR.extract(Context.root(), requestHeaders, GETTER);
        Span span = tracer.spanBuilder(method + " " + route)
                .setSpanKind(SpanKind.SERVER)
                .setParent(parent)
                .setAttribute(METHOD, method)
                .setAttribute(PATH, path)
                .setAttribute(ROUTE, route)
                .setAttribute(HTTP_ROUTE, route)
                .setAttribute(CLUSTER, cluster)
                .setAttribute(CLIENT_ADDRESS, clientIp)
                .startSpan();
        PROPAGATOR.inject(parent.with(span), requestHeaders, SETTER);
        return span;
    }

    /** The endpoint of the current attempt (the last one wins after retries). */
    public static void endpoint(Span span, Endpoint e) {
        span.setAttribute(SERVER_ADDRESS, e.socketAddress().getHostString());
        span.setAttribute(SERVER_PORT, (long) e.socketAddress().getPort());
        span.setAttribute("gatehouse.endpoint", e.address());
    }

    /** Ends the span: ERROR with {@code reason} when Gatehouse failed the exchange, or on a 5xx. */
    public static void end(Span span, int status, String reason) {
        span.setAttribute(STATUS, (long) status);
        if (reason != null) {
            span.setAttribute(REASON, reason);
            span.setStatus(StatusCode.ERROR, reason);
        } else if (status >= 500) {
            span.setStatus(StatusCode.ERROR);
        }
        span.end();
    }

    @Override
    public void close() {
        provider.shutdown().join(5, TimeUnit.SECONDS);
    }
}
