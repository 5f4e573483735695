package io.gatehouse.telemetry;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.netty.util.concurrent.Ticker;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SERVER spans of proxied requests and the W3C traceparent the upstream receives, with tracing on and off; a span
 * covers the whole filter chain, local answers included. On HTTP/1.1 and on HTTP/2 (TLS, ALPN h2).
 */
@org.junit.jupiter.params.ParameterizedClass(name = "{0}")
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
public class TracingTest {
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol protocol;

    /** What the probe filter saw when it ran: the exchange's span, and the tracer's clock at that moment. */
    public record Probe() {}

    static final java.util.concurrent.atomic.AtomicReference<Object> spanWhenTheFilterRan = new java.util.concurrent.atomic.AtomicReference<>();
    static final java.util.concurrent.atomic.AtomicLong filterRanAt = new java.util.concurrent.atomic.AtomicLong();

    @org.junit.jupiter.api.BeforeAll
    static void registerProbe() {
        io.gatehouse.FilterTypes.register("test_span_probe", Probe.class, (config, context) -> (exchange, chain) -> {
            spanWhenTheFilterRan.set(exchange.span());
            filterRanAt.set(io.opentelemetry.sdk.common.Clock.getDefault().now());
            chain.proceed(exchange);
        });
    }

    private static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
    private static final String CLIENT_SPAN = "b7ad6b7169203331";
    private static final String INCOMING = "00-" + TRACE_ID + "-" + CLIENT_SPAN + "-01";

    private final TestBackend backend = TestBackend.started("b");
    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private Gatehouse gatehouse;

    @AfterEach
    void stop() {
        if (gatehouse != null) gatehouse.shutdown(Duration.ofSeconds(1));
        backend.close();
    }

    private int start(boolean tracing) throws Exception {
        return start(tracing, "");
    }

    private int start(boolean tracing, String filters) throws Exception {
        Tracing t = tracing ? new Tracing(SimpleSpanProcessor.create(spans), "gatehouse", 1.0) : null;
        gatehouse = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes: [ { name: api, cluster: app%s } ]
                clusters: [ { name: app, endpoints: [ "%s" ], outlier_detection: { consecutive_gateway_failures: 0 } } ]
                admin: { address: "off" }
                """.formatted(protocol.listenerTls(), filters, backend.address()), "test.yaml"), Ticker.systemTicker(), new Telemetry(null, t));
        return gatehouse.listenerAddress("edge").getPort();
    }

    private HttpResponse<String> get(int port, String path, String traceparent) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(protocol.uri(port, path)).timeout(Duration.ofSeconds(10));
        if (traceparent != null) b.header("traceparent", traceparent);
        return send(b.build());
    }

    private HttpResponse<String> send(HttpRequest request) throws Exception {
        HttpResponse<String> r = protocol.client().send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(protocol.version());
        return r;
    }

    @Test
    void aLocalAnswerFromAFilterIsTracedUnderItsRouteFromBeforeTheChainRan() throws Exception {
        int port = start(true, ", filters: [ {test_span_probe: {}}, {buffer_request: {max_size: 1KiB}} ]");
        spanWhenTheFilterRan.set(null);
        // of unknown length: the buffering filter, not the route's declared-length check, answers 413
        byte[] big = "x".repeat(4096).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        HttpResponse<String> r = send(HttpRequest.newBuilder(protocol.uri(port, "/upload")).timeout(Duration.ofSeconds(10))
                .header("traceparent", INCOMING)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big))).build());
        assertThat(r.statusCode()).isEqualTo(413);

        SpanData span = onlySpan();
        assertThat(span.getTraceId()).isEqualTo(TRACE_ID);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("gatehouse.route"))).isEqualTo("api");
        assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code"))).isEqualTo(413L);
        assertThat(span.getStatus().getDescription()).isEqualTo("body_too_large");
        assertThat(spanWhenTheFilterRan.get()).as("the span was open when the first filter ran").isNotNull();
        assertThat(((io.opentelemetry.api.trace.Span) spanWhenTheFilterRan.get()).getSpanContext().getSpanId())
                .isEqualTo(span.getSpanId());
        assertThat(span.getStartEpochNanos()).isLessThanOrEqualTo(filterRanAt.get());
        assertThat(span.getEndEpochNanos()).isGreaterThanOrEqualTo(filterRanAt.get());
        assertThat(backend.requestCount()).isZero();
    }

    private SpanData onlySpan() {
        await().atMost(5, TimeUnit.SECONDS).until(() -> spans.getFinishedSpanItems().size() == 1);
        return spans.getFinishedSpanItems().get(0);
    }

    @Test
    void continuesTheClientsTraceAndSendsOurSpanUpstream() throws Exception {
        int port = start(true);
        assertThat(get(port, "/items", INCOMING).statusCode()).isEqualTo(200);

        SpanData span = onlySpan();
        assertThat(span.getKind()).isEqualTo(SpanKind.SERVER);
        assertThat(span.getTraceId()).isEqualTo(TRACE_ID);
        assertThat(span.getParentSpanId()).isEqualTo(CLIENT_SPAN);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("gatehouse.route"))).isEqualTo("api");
        assertThat(span.getAttributes().get(AttributeKey.stringKey("gatehouse.cluster"))).isEqualTo("app");
        assertThat(span.getAttributes().get(AttributeKey.stringKey("http.request.method"))).isEqualTo("GET");
        assertThat(span.getAttributes().get(AttributeKey.stringKey("url.path"))).isEqualTo("/items");
        assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code"))).isEqualTo(200L);
        assertThat(span.getAttributes().get(AttributeKey.longKey("server.port"))).isEqualTo((long) backend.port());
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);

        RecordedRequest upstream = backend.takeRequest(Duration.ofSeconds(5));
        assertThat(upstream.header("traceparent")).isEqualTo("00-" + TRACE_ID + "-" + span.getSpanId() + "-01");
    }

    @Test
    void startsATraceWhenTheClientSentNone() throws Exception {
        int port = start(true);
        get(port, "/", null);
        SpanData span = onlySpan();
        assertThat(span.getParentSpanContext().isValid()).isFalse();
        RecordedRequest upstream = backend.takeRequest(Duration.ofSeconds(5));
        assertThat(upstream.header("traceparent")).startsWith("00-" + span.getTraceId() + "-" + span.getSpanId() + "-");
    }

    @Test
    void marksTheSpanAsErrorWithTheReasonWhenTheProxyFails() throws Exception {
        int port = start(true);
        backend.close();
        HttpResponse<String> r = get(port, "/", INCOMING);
        assertThat(r.statusCode()).isEqualTo(503);
        SpanData span = onlySpan();
        String reason = r.headers().firstValue("gatehouse-reason").orElseThrow();
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(span.getStatus().getDescription()).isEqualTo(reason);
        assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code"))).isEqualTo(503L);
    }

    @Test
    void passesTheIncomingTraceparentUnchangedWhenTracingIsOff() throws Exception {
        int port = start(false);
        assertThat(get(port, "/", INCOMING).statusCode()).isEqualTo(200);
        assertThat(backend.takeRequest(Duration.ofSeconds(5)).header("traceparent")).isEqualTo(INCOMING);
        assertThat(spans.getFinishedSpanItems()).isEmpty();
    }
}
