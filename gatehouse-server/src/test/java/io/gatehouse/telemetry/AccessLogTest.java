package io.gatehouse.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.TestBackend;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Access log lines for real requests, in both formats, and what happens when the writer cannot keep up. On HTTP/1.1
 * and on HTTP/2 (TLS, ALPN h2).
 */
@org.junit.jupiter.params.ParameterizedClass(name = "{0}")
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class AccessLogTest {
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol protocol;

    private static final ObjectMapper JSON = new ObjectMapper();
    private final TestBackend backend = TestBackend.started("b");
    private final Lines lines = new Lines();
    private Gatehouse gatehouse;

    /** Collects what the writer thread writes. */
    static final class Lines extends Writer {
        private final StringBuilder text = new StringBuilder();

        @Override
        public synchronized void write(char[] buf, int off, int len) { text.append(buf, off, len); }

        @Override
        public void flush() {}

        @Override
        public void close() {}

        synchronized List<String> complete() {
            String s = text.toString();
            int end = s.lastIndexOf('\n');
            return end < 0 ? List.of() : List.of(s.substring(0, end).split("\n"));
        }
    }

    @AfterEach
    void stop() {
        if (gatehouse != null) gatehouse.shutdown(Duration.ofSeconds(1));
        backend.close();
    }

    private int start(String format) throws Exception {
        gatehouse = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - { name: hello, match: { path_prefix: /hello }, direct_response: { status: 200, body: hi } }
                      - { name: api, cluster: app }
                clusters: [ { name: app, endpoints: [ "%s" ] } ]
                admin: { address: "off" }
                """.formatted(protocol.listenerTls(), backend.address()), "test.yaml"), Ticker.systemTicker(),
                new Telemetry(new AccessLog(lines, false, io.gatehouse.config.AccessLogFormat.valueOf(format.toUpperCase(java.util.Locale.ROOT)), 64), null));
        return gatehouse.listenerAddress("edge").getPort();
    }

    private HttpResponse<String> get(int port, String path, String userAgent) throws Exception {
        HttpResponse<String> r = protocol.client().send(HttpRequest.newBuilder(protocol.uri(port, path))
                .timeout(Duration.ofSeconds(10)).header("User-Agent", userAgent).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(protocol.version());
        return r;
    }

    /** The protocol as the log writes it. */
    private String logged() {
        return protocol == io.gatehouse.Protocol.HTTP_1_1 ? "HTTP/1.1" : "HTTP/2.0";
    }

    private JsonNode line(int index) throws Exception {
        await().atMost(5, TimeUnit.SECONDS).until(() -> lines.complete().size() > index);
        return JSON.readTree(lines.complete().get(index));
    }

    @Test
    void writesOneJsonLinePerProxiedRequest() throws Exception {
        int port = start("json");
        HttpResponse<String> r = get(port, "/items?page=2", "test-agent/1.0");
        assertThat(r.statusCode()).isEqualTo(200);

        JsonNode l = line(0);
        assertThat(l.get("method").asText()).isEqualTo("GET");
        assertThat(l.get("path").asText()).isEqualTo("/items?page=2");
        assertThat(l.get("protocol").asText()).isEqualTo(logged());
        assertThat(l.get("status").asInt()).isEqualTo(200);
        assertThat(l.get("client_ip").asText()).isEqualTo("127.0.0.1");
        assertThat(l.get("user_agent").asText()).isEqualTo("test-agent/1.0");
        assertThat(l.get("listener").asText()).isEqualTo("edge");
        assertThat(l.get("route").asText()).isEqualTo("api");
        assertThat(l.get("cluster").asText()).isEqualTo("app");
        assertThat(l.get("endpoint").asText()).isEqualTo(backend.address());
        assertThat(l.get("endpoint_ms").asDouble()).isGreaterThan(0);
        assertThat(l.get("duration_ms").asDouble()).isGreaterThanOrEqualTo(l.get("endpoint_ms").asDouble());
        assertThat(l.get("retries").asInt()).isZero();
        assertThat(l.get("request_bytes").asLong()).isZero();
        assertThat(l.get("response_bytes").asLong()).isGreaterThan(r.body().length());
        assertThat(l.get("request_id").asText()).isNotBlank();
        assertThat(l.get("reason").isNull()).isTrue();
        assertThat(l.get("time").asText()).endsWith("Z");
    }

    @Test
    void logsRequestsGatehouseAnsweredItselfWithTheReason() throws Exception {
        int port = start("json");
        assertThat(get(port, "/hello", "ua").statusCode()).isEqualTo(200);
        JsonNode direct = line(0);
        assertThat(direct.get("route").asText()).isEqualTo("hello");
        assertThat(direct.get("cluster").isNull()).isTrue();
        assertThat(direct.get("endpoint").isNull()).isTrue();
        assertThat(direct.get("endpoint_ms").isNull()).isTrue();

        backend.close();
        HttpResponse<String> failed = get(port, "/down", "ua");
        assertThat(failed.statusCode()).isEqualTo(503);
        JsonNode unavailable = line(1);
        assertThat(unavailable.get("status").asInt()).isEqualTo(503);
        assertThat(unavailable.get("reason").asText()).isEqualTo(failed.headers().firstValue("gatehouse-reason").orElseThrow());
        assertThat(unavailable.get("endpoint").asText()).isEqualTo(backend.address());

        // a malformed HTTP/1.1 head: a case of that protocol's decoder (HTTP/2's framing errors are Http2AttackTest's)
        if (protocol != io.gatehouse.Protocol.HTTP_1_1) return;
        try (RawClient raw = RawClient.connect("127.0.0.1", port)) {
            raw.send("GET /x HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n");
            assertThat(raw.readResponse(Duration.ofSeconds(5)).status()).isEqualTo(400);
        }
        // the decoder's own words, as in the response's gatehouse-reason header
        JsonNode rejected = line(2);
        assertThat(rejected.get("status").asInt()).isEqualTo(400);
        assertThat(rejected.get("method").isNull()).isTrue();
        assertThat(rejected.get("reason").asText()).isEqualTo("space before colon");
        assertThat(rejected.get("listener").asText()).isEqualTo("edge");
        assertThat(rejected.get("response_bytes").asLong()).isGreaterThan(0);
    }

    @Test
    void writesTheCombinedFormatWhenAskedTo() throws Exception {
        int port = start("combined");
        get(port, "/items?page=2", "curl/8.0 \"quoted\"");
        await().atMost(5, TimeUnit.SECONDS).until(() -> !lines.complete().isEmpty());
        String l = lines.complete().get(0);
        assertThat(l).matches("127\\.0\\.0\\.1 - - \\[\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} \\+0000] "
                + "\"GET /items\\?page=2 " + java.util.regex.Pattern.quote(logged()) + "\" 200 \\d+ \"-\" \"curl/8\\.0 \\\\x22quoted\\\\x22\"");
    }

    @Test
    void dropsAndCountsLinesWhenTheWriterFallsBehind() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Writer blocked = new Writer() {
            @Override
            public void write(char[] buf, int off, int len) {
                writing.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override public void flush() {}
            @Override public void close() {}
        };
        AccessLog log = new AccessLog(blocked, false, io.gatehouse.config.AccessLogFormat.JSON, 2);
        Telemetry telemetry = new Telemetry(log, null);
        try {
            assertThat(log.offer(entry())).isTrue();
            assertThat(writing.await(5, TimeUnit.SECONDS)).isTrue(); // the writer holds the first line, blocked
            assertThat(log.offer(entry())).isTrue();
            assertThat(log.offer(entry())).isTrue();
            assertThat(log.offer(entry())).isFalse();
            assertThat(log.offer(entry())).isFalse();
            assertThat(log.dropped()).isEqualTo(2);
            assertThat(telemetry.metrics().scrape(Metrics.PROMETHEUS_CONTENT_TYPE)).contains("gatehouse_access_log_dropped_total 2");
        } finally {
            release.countDown();
            telemetry.close();
        }
        assertThat(log.written()).isEqualTo(3);
    }

    private static AccessLog.Entry entry() {
        return new AccessLog.Entry(0, "127.0.0.1", "GET", "/", null, "HTTP/1.1", 200, 0, 10, null, -1, 1000, 0,
                null, null, null, "edge", "r", null, null);
    }
}
