package io.gatehouse.proxy;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** HTTP/1.1 clients through Gatehouse to HTTP/2 endpoints ({@code protocol: h2c}): translation and multiplexing. */
class Http2UpstreamTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
    }

    private Http2Backend backend(long maxConcurrentStreams) throws InterruptedException {
        Http2Backend b = Http2Backend.h2c(maxConcurrentStreams);
        closeables.add(b);
        return b;
    }

    private GatehouseFixture gatehouse(String yaml) {
        GatehouseFixture g = GatehouseFixture.start(yaml);
        closeables.add(g);
        return g;
    }

    /** One event loop, so every request shares one connection pool and connection counts are exact. */
    static String config(String endpoint, String clusterExtra, String routeExtra) {
        return """
                server:
                  event_loops: 1
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: all
                        cluster: app
                        %s
                clusters:
                  - name: app
                    protocol: h2c
                    endpoints: ["%s"]
                    %s
                """.formatted(routeExtra, endpoint, clusterExtra);
    }

    @Test
    void getAndPostBodiesCrossToAnH2cEndpointWithTranslatedHeaders() throws Exception {
        Http2Backend b = backend(100);
        GatehouseFixture g = gatehouse(config(b.address(), "", ""));

        HttpResponse<String> get = g.send(HttpRequest.newBuilder(g.uri("/echo?q=1"))
                .header("Cookie", "a=1").header("X-Custom", "Yes").build());
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.headers().firstValue("x-method")).hasValue("GET");
        assertThat(get.headers().firstValue("x-path")).hasValue("/echo?q=1");
        // preserve_host is the default: the client's Host becomes :authority
        assertThat(get.headers().firstValue("x-authority")).hasValue("127.0.0.1:" + g.address().getPort());
        assertThat(get.headers().firstValue("x-scheme")).hasValue("http");
        assertThat(get.headers().firstValue("x-header-names").orElseThrow()).contains("x-custom", "x-forwarded-for");

        String body = "x".repeat(200_000);
        HttpResponse<String> post = g.send(HttpRequest.newBuilder(g.uri("/echo"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(post.headers().firstValue("x-method")).hasValue("POST");
        assertThat(post.body()).isEqualTo(body);
    }

    @Test
    void chunkedRequestBodyBecomesDataFramesAndConnectionHeadersAreDropped() {
        Http2Backend b = assumeBackend();
        GatehouseFixture g = gatehouse(config(b.address(), "", ""));
        try (RawClient c = g.raw()) {
            c.send("POST /echo HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\n"
                    + "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nProxy-Connection: x\r\n"
                    + "TE: trailers\r\nUpgrade: foo\r\n\r\n"
                    + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            RawResponse r = c.readResponse(WAIT);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyAsString()).isEqualTo("hello world");
            assertThat(r.header("x-authority")).isEqualTo("shop.example");
            assertThat(r.header("x-te")).isEqualTo("trailers");
            assertThat(r.header("x-header-names")).doesNotContain("connection", "x-hop", "keep-alive",
                    "proxy-connection", "transfer-encoding", "upgrade");
        }
    }

    @Test
    void endpointAddressBecomesTheAuthorityWithoutPreserveHost() {
        Http2Backend b = assumeBackend();
        GatehouseFixture g = gatehouse(config(b.address(), "", "preserve_host: false"));
        try (RawClient c = g.raw()) {
            c.send("GET /echo HTTP/1.1\r\nHost: shop.example\r\n\r\n");
            RawResponse r = c.readResponse(WAIT);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("x-authority")).isEqualTo(b.address());
        }
    }

    @Test
    void responseTrailersReachAClientThatAcceptsThemAsChunkedTrailers() {
        Http2Backend b = assumeBackend();
        GatehouseFixture g = gatehouse(config(b.address(), "", ""));
        try (RawClient c = g.raw()) {
            c.send("GET /trailers HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n");
            RawResponse r = c.readResponse(WAIT);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("transfer-encoding")).isEqualTo("chunked");
            assertThat(r.bodyAsString()).isEqualTo("hello world");
            assertThat(r.trailers()).containsExactly(new RawResponse.Header("x-checksum", "abc123"));

            c.send("GET /trailers HTTP/1.1\r\nHost: a\r\n\r\n");
            RawResponse without = c.readResponse(WAIT);
            assertThat(without.bodyAsString()).isEqualTo("hello world");
            assertThat(without.trailers()).isEmpty();
        }
    }

    @Test
    void concurrentRequestsShareConnectionsUpToTheEndpointsStreamLimit() throws Exception {
        Http2Backend b = backend(2);
        GatehouseFixture g = gatehouse(config(b.address(), "", ""));
        List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            // one client connection per request: five exchanges in flight at once
            var client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
            pending.add(client.sendAsync(HttpRequest.newBuilder(g.uri("/hold/" + i)).timeout(WAIT).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        await().atMost(WAIT).until(() -> b.heldCount() == 5);
        b.releaseHeld();
        for (CompletableFuture<HttpResponse<String>> f : pending) {
            HttpResponse<String> r = f.get();
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("held");
        }
        // 2 streams per connection: 5 concurrent exchanges need 3 connections, not 5
        assertThat(b.acceptedConnections()).isEqualTo(3);

        // and later requests reuse them
        for (int i = 0; i < 4; i++) assertThat(g.get("/echo").statusCode()).isEqualTo(200);
        assertThat(b.acceptedConnections()).isEqualTo(3);
    }

    @Test
    void goAwayMidTrafficFailsNoIdempotentRequest() throws Exception {
        Http2Backend b = backend(100);
        GatehouseFixture g = gatehouse(config(b.address(), "", "retries: { attempts: 2 }"));
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<Integer>>> workers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                workers.add(pool.submit(() -> {
                    List<Integer> statuses = new ArrayList<>();
                    var client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
                    while (!stop.get()) {
                        statuses.add(client.send(HttpRequest.newBuilder(g.uri("/echo")).timeout(WAIT).build(),
                                HttpResponse.BodyHandlers.ofString()).statusCode());
                    }
                    return statuses;
                }));
            }
            await().atMost(WAIT).until(() -> b.requests() >= 50);
            int before = b.acceptedConnections();
            b.goAway();
            int requestsAtGoAway = b.requests();
            await().atMost(WAIT).until(() -> b.requests() >= requestsAtGoAway + 100);
            b.goAway();
            int again = b.requests();
            await().atMost(WAIT).until(() -> b.requests() >= again + 100);
            stop.set(true);
            List<Integer> all = new ArrayList<>();
            for (Future<List<Integer>> f : workers) all.addAll(f.get());
            assertThat(all).hasSizeGreaterThan(250).allMatch(s -> s == 200);
            // the connections told to go away were replaced by new ones
            assertThat(b.acceptedConnections()).isGreaterThan(before);
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
    }

    @Test
    void answers503WhenTheH2cEndpointIsDown() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        GatehouseFixture g = gatehouse(config("127.0.0.1:" + port, "", ""));
        HttpResponse<String> r = g.get("/echo");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("gatehouse-reason")).hasValue("connect_refused");
    }

    @Test
    void healthChecksSpeakH2cToo() throws Exception {
        Http2Backend b = backend(100);
        // a probe timeout of 10 s: with unhealthy_threshold 1, one probe held up by a loaded machine took the endpoint
        // out before the request below; the failing case here fails by its status (404), not by a timeout
        String check = "health_check: {type: http, path: %s, interval: 100ms, timeout: 10s, healthy_threshold: 1, unhealthy_threshold: 1}";
        GatehouseFixture g = gatehouse(config(b.address(), check.formatted("/echo"), ""));
        var cluster = g.gatehouse().cluster("app");
        var endpoint = cluster.endpoints().get(0);
        // an HTTP/1.1 probe would fail on this HTTP/2-only endpoint: success means the probe spoke h2c
        await().atMost(WAIT).untilAsserted(() -> {
            var status = cluster.healthChecker().status(endpoint);
            assertThat(status.lastResult()).isEqualTo(io.gatehouse.cluster.health.HealthStatus.Result.SUCCESS);
            assertThat(status.consecutiveSuccesses()).isGreaterThanOrEqualTo(2);
        });
        assertThat(b.paths).contains("/echo");
        assertThat(g.get("/echo").statusCode()).isEqualTo(200);

        GatehouseFixture failing = gatehouse(config(b.address(), check.formatted("/missing"), ""));
        var failingCluster = failing.gatehouse().cluster("app");
        await().atMost(WAIT).untilAsserted(() -> {
            var status = failingCluster.healthChecker().status(failingCluster.endpoints().get(0));
            assertThat(status.lastResult()).isEqualTo(io.gatehouse.cluster.health.HealthStatus.Result.FAILURE);
            assertThat(status.lastFailureReason()).isEqualTo("status 404");
        });
        assertThat(failing.get("/echo").statusCode()).isEqualTo(503);
    }

    private Http2Backend assumeBackend() {
        try {
            return backend(100);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
