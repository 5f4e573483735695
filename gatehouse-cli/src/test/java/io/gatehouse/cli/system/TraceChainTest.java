package io.gatehouse.cli.system;

import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One trace across the four hops of {@code gatehouse up}: a client's W3C traceparent → the edge's SERVER span → the
 * app instance's SERVER span → its Redis and PostgreSQL CLIENT spans, all with the client's trace id.
 */
class TraceChainTest {
    static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String CLIENT_SPAN = "00f067aa0ba902b7";
    static final InMemorySpanExporter spans = InMemorySpanExporter.create();
    static final HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    static Path home;
    static SystemStack stack;

    @BeforeAll
    static void start() throws Exception {
        home = Files.createTempDirectory("gatehouse-trace");
        stack = SystemStack.start(new SystemStack.Options(Block.parse("edge,app,db,cache"), "127.0.0.1:0", "off", null, "off",
                home, List.of(0), "16mb", "allkeys-lru", spans, 1.0,
                Duration.ofSeconds(2)));
        // On a busy machine the edge's first health checks can time out: wait until it routes to the instance.
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> send(HttpRequest.newBuilder(edge("/health"))).statusCode() == 200);
    }

    @AfterAll
    static void stop() throws IOException {
        if (stack != null) stack.close();
        try (var paths = Files.walk(home)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return client.send(b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI edge(String path) {
        return URI.create("http://127.0.0.1:" + stack.edgeAddress().getPort() + path);
    }

    /**
     * The spans of one trace once at least {@code atLeast} have ended, the edge's among them: the edge's span ends when
     * its exchange completes, which may be after the client already has the response (and after the app's spans).
     */
    private static List<SpanData> trace(String traceId, int atLeast) {
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            List<SpanData> t = spans.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(traceId)).toList();
            return t.size() >= atLeast && t.stream().anyMatch(s -> s.getKind() == SpanKind.SERVER && "gatehouse-edge".equals(
                    s.getResource().getAttribute(io.opentelemetry.api.common.AttributeKey.stringKey("service.name"))));
        });
        return spans.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(traceId)).toList();
    }

    private static SpanData only(List<SpanData> trace, String service, SpanKind kind) {
        List<SpanData> found = trace.stream().filter(s -> s.getKind() == kind
                && service.equals(s.getResource().getAttribute(io.opentelemetry.api.common.AttributeKey.stringKey("service.name")))).toList();
        assertThat(found).as("%s %s spans in %s", service, kind, trace).hasSize(1);
        return found.get(0);
    }

    @Test
    void aColdRedirectIsOneTraceFromTheEdgeThroughTheAppToRedisAndPostgres() throws Exception {
        // up's instances keep production's 1 s Redis command timeout. A command slower than that (a stall of a busy
        // machine) trips the switch and the app takes the degraded path by design: no fill, the database again on
        // the next request, so that attempt's traces show the fallback instead of the cache. Such an attempt is made
        // again with a new link; an attempt in which Redis did not trip must show the whole chain.
        io.gatehouse.app.cache.Redis redis = stack.apps().get(0).redis();
        for (int attempt = 1; ; attempt++) {
            await().atMost(Duration.ofSeconds(30)).until(redis::ping); // the switch is closed: the attempt starts clean
            long trips = redis.trips();
            String coldTrace = TRACE_ID.substring(0, 31) + attempt;
            String hitTrace = "5bf92f3577b34da6a3ce929d0e0e473" + attempt;
            String code = createAndFollowTwice(coldTrace, hitTrace);
            if (redis.trips() != trips && attempt < 3) continue;
            assertThat(redis.trips()).as("Redis tripped in every attempt (%s)", code).isEqualTo(trips);
            assertTraces(coldTrace, hitTrace);
            return;
        }
    }

    /** A link made through the edge, then followed twice with the given trace ids (cold, then a cache hit). */
    private static String createAndFollowTwice(String coldTrace, String hitTrace) throws Exception {
        HttpResponse<String> created = send(HttpRequest.newBuilder(edge("/api/links")).header("x-api-key", stack.apiKey())
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"target\":\"https://example.com/t\"}")));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        Matcher m = Pattern.compile("\"code\":\"([^\"]+)\"").matcher(created.body());
        assertThat(m.find()).isTrue();
        String code = m.group(1);

        // The first redirect after the create misses the cache (the create left a tombstone): Redis, then PostgreSQL.
        HttpResponse<String> r = send(HttpRequest.newBuilder(edge("/" + code)).header("traceparent", "00-" + coldTrace + "-" + CLIENT_SPAN + "-01"));
        assertThat(r.statusCode()).isEqualTo(302);
        // The next one is a cache hit (the fill also went into the instance's near cache): edge → app, no database.
        assertThat(send(HttpRequest.newBuilder(edge("/" + code)).header("traceparent", "00-" + hitTrace + "-" + CLIENT_SPAN + "-01"))
                .statusCode()).isEqualTo(302);
        return code;
    }

    private static void assertTraces(String coldTrace, String hitTrace) {
        List<SpanData> trace = trace(coldTrace, 5);
        SpanData edgeSpan = only(trace, "gatehouse-edge", SpanKind.SERVER);
        SpanData appSpan = only(trace, "gatehouse-app", SpanKind.SERVER);
        assertThat(edgeSpan.getParentSpanId()).isEqualTo(CLIENT_SPAN);
        assertThat(appSpan.getParentSpanId()).isEqualTo(edgeSpan.getSpanId());
        assertThat(appSpan.getName()).isEqualTo("GET /{code}");
        List<SpanData> calls = trace.stream().filter(s -> s.getKind() == SpanKind.CLIENT).toList();
        assertThat(calls).allSatisfy(s -> assertThat(s.getParentSpanId()).isEqualTo(appSpan.getSpanId()));
        assertThat(calls).extracting(SpanData::getName).contains("redis GET", "postgresql query", "redis EVAL fill");
        // Children lie inside their parents' time.
        for (SpanData c : calls) {
            assertThat(c.getStartEpochNanos()).isGreaterThanOrEqualTo(appSpan.getStartEpochNanos());
            assertThat(c.getEndEpochNanos()).isLessThanOrEqualTo(appSpan.getEndEpochNanos());
        }
        assertThat(appSpan.getStartEpochNanos()).isGreaterThanOrEqualTo(edgeSpan.getStartEpochNanos());

        List<SpanData> hit = trace(hitTrace, 2);
        SpanData hitApp = only(hit, "gatehouse-app", SpanKind.SERVER);
        assertThat(hitApp.getParentSpanId()).isEqualTo(only(hit, "gatehouse-edge", SpanKind.SERVER).getSpanId());
        assertThat(hit).filteredOn(s -> s.getKind() == SpanKind.CLIENT).extracting(SpanData::getName).doesNotContain("postgresql query");
    }
}
