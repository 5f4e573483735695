package io.gatehouse.proxy;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** How Gatehouse answers when endpoints fail: each failure gets its own status and reason, never a hang. */
class FailureHandlingTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
    }

    private TestBackend backend(String name) {
        TestBackend b = TestBackend.started(name);
        closeables.add(b);
        return b;
    }

    private GatehouseFixture gatehouse(String yaml) {
        GatehouseFixture g = GatehouseFixture.start(yaml);
        closeables.add(0, g); // close before the backends
        return g;
    }

    private static String oneCluster(String endpoints, String clusterExtra, String routeExtra) {
        return """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: all
                        cluster: app
                %s
                clusters:
                  - name: app
                    endpoints: [%s]
                %s
                """.formatted(indent(routeExtra, 8), endpoints, indent(clusterExtra, 4));
    }

    private static String indent(String s, int n) {
        if (s == null || s.isBlank()) return "";
        String pad = " ".repeat(n);
        return pad + s.strip().replace("\n", "\n" + pad);
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void answers503WithReasonWhenTheOnlyEndpointRefusesConnections() throws Exception {
        GatehouseFixture g = gatehouse(oneCluster("\"127.0.0.1:" + closedPort() + "\"", "", ""));
        HttpResponse<String> r = g.get("/");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("gatehouse-reason")).hasValue("connect_refused");
    }

    @Test
    void aRefusedConnectToTheOnlyEndpointIsAnsweredWithoutASecondAttempt() throws Exception {
        // ejection off, so the run of gateway failures counts every connect attempt
        GatehouseFixture g = gatehouse(oneCluster("\"127.0.0.1:" + closedPort() + "\"",
                "outlier_detection: { consecutive_5xx: 0, consecutive_gateway_failures: 0 }", ""));
        HttpResponse<String> r = g.get("/");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("gatehouse-reason")).hasValue("connect_refused");
        Cluster cluster = g.gatehouse().cluster("app");
        Endpoint only = cluster.endpoints().get(0);
        assertThat(cluster.outlierDetector().status(only).consecutiveGatewayFailures()).as("connect attempts").isEqualTo(1);
        assertThat(cluster.retryCount()).isZero();
    }

    @Test
    void connectFailuresTryEachEndpointOnceThenAnswer() throws Exception {
        GatehouseFixture g = gatehouse(oneCluster("\"127.0.0.1:" + closedPort() + "\", \"127.0.0.1:" + closedPort() + "\"",
                "outlier_detection: { consecutive_5xx: 0, consecutive_gateway_failures: 0 }", "retries: { attempts: 5 }"));
        HttpResponse<String> r = g.get("/");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("gatehouse-reason")).hasValue("connect_refused");
        Cluster cluster = g.gatehouse().cluster("app");
        assertThat(cluster.endpoints()).allSatisfy(e ->
                assertThat(cluster.outlierDetector().status(e).consecutiveGatewayFailures()).as("attempts on " + e).isEqualTo(1));
        assertThat(cluster.retryCount()).isEqualTo(1);
    }

    @Test
    void retriesAConnectFailureOnAnotherEndpoint() throws Exception {
        TestBackend live = backend("live");
        GatehouseFixture g = gatehouse(oneCluster("\"127.0.0.1:" + closedPort() + "\", \"" + live.address() + "\"",
                "outlier_detection: { consecutive_gateway_failures: 0 }", ""));
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = g.get("/" + i);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("live");
        }
        assertThat(live.requestCount()).isEqualTo(10);
    }

    @Test
    void answers504WhenResponseHeadersDoNotArriveInTime() {
        TestBackend slow = backend("slow");
        slow.respond(req -> TestResponse.ok("late").delayHeaders(Duration.ofSeconds(3)));
        GatehouseFixture g = gatehouse(oneCluster("\"" + slow.address() + "\"",
                "timeouts: { response_header: 200ms }", "retries: { attempts: 0 }"));
        HttpResponse<String> r = g.get("/");
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(r.headers().firstValue("gatehouse-reason")).hasValue("response_timeout");
    }

    @Test
    void routeTotalTimeoutBoundsTheWholeExchange() {
        TestBackend slow = backend("slow");
        slow.respond(req -> TestResponse.ok("late").delayHeaders(Duration.ofSeconds(3)));
        GatehouseFixture g = gatehouse(oneCluster("\"" + slow.address() + "\"", "", "timeouts: { total: 300ms }"));
        HttpResponse<String> r = g.get("/");
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(r.headers().firstValue("gatehouse-reason")).hasValue("route_timeout");
    }

    @Test
    void retries502OnAnotherEndpointForIdempotentMethodsOnly() {
        TestBackend bad = backend("bad");
        bad.respond(req -> TestResponse.status(502).body("bad gateway from bad"));
        TestBackend good = backend("good");
        GatehouseFixture g = gatehouse(oneCluster("\"" + bad.address() + "\", \"" + good.address() + "\"",
                "outlier_detection: { consecutive_5xx: 0 }", "retries: { attempts: 1, on: [\"502\"] }"));
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = g.get("/get");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("good");
        }
        // POST is not idempotent: a 502 from the bad endpoint reaches the client as is
        int posts502 = 0;
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = g.send(HttpRequest.newBuilder(g.uri("/post"))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build());
            if (r.statusCode() == 502) {
                posts502++;
                assertThat(r.body()).isEqualTo("bad gateway from bad");
                assertThat(r.headers().firstValue("gatehouse-reason")).isEmpty();
            }
        }
        assertThat(posts502).isEqualTo(3);
    }

    @Test
    void retriedRequestBodyReachesTheSecondEndpointIntact() {
        TestBackend bad = backend("bad");
        bad.respond(req -> TestResponse.status(503));
        TestBackend good = backend("good");
        GatehouseFixture g = gatehouse(oneCluster("\"" + bad.address() + "\", \"" + good.address() + "\"",
                "outlier_detection: { consecutive_5xx: 0 }", "retries: { attempts: 1, on: [\"503\"] }"));
        String body = "x".repeat(20_000);
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = g.send(HttpRequest.newBuilder(g.uri("/put"))
                    .PUT(HttpRequest.BodyPublishers.ofString(body)).build());
            assertThat(r.statusCode()).isEqualTo(200);
        }
        assertThat(good.requests()).hasSize(4).allSatisfy(req -> assertThat(req.bodyAsString()).isEqualTo(body));
    }

    @Test
    void resetBeforeResponseIs502UnlessTheRouteRetriesResets() {
        TestBackend resetting = backend("resetting");
        resetting.respond(req -> TestResponse.ok().resetBeforeResponse());
        GatehouseFixture g = gatehouse(oneCluster("\"" + resetting.address() + "\"", "", "retries: { attempts: 0 }"));
        HttpResponse<String> r = g.get("/");
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.headers().firstValue("gatehouse-reason")).hasValue("endpoint_reset");
    }

    @Test
    void malformedResponseBecomes502AndIsNotForwarded() {
        TestBackend broken = backend("broken");
        broken.respond(req -> TestResponse.ok().malformed("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello"));
        GatehouseFixture g = gatehouse(oneCluster("\"" + broken.address() + "\"", "", "retries: { attempts: 0 }"));
        HttpResponse<String> r = g.get("/");
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.headers().firstValue("gatehouse-reason")).hasValue("invalid_response");
        assertThat(r.body()).doesNotContain("hello");
    }

    @Test
    void endpointDyingMidBodyTruncatesTheClientResponseVisibly() {
        TestBackend dying = backend("dying");
        dying.respond(req -> TestResponse.ok().generatedBody(100_000).dieMidBody(10_000));
        GatehouseFixture g = gatehouse(oneCluster("\"" + dying.address() + "\"", "", ""));
        try (RawClient c = g.raw()) {
            c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
            byte[] raw = c.readUntilClose(Duration.ofSeconds(10));
            String head = new String(raw, 0, Math.min(raw.length, 200));
            assertThat(head).startsWith("HTTP/1.1 200");
            // the client saw the connection close before Content-Length bytes: it knows the body is incomplete
            assertThat(raw.length).isLessThan(100_000);
        }
    }

    @Test
    void maxRequestsOverflowIsAnswered503AtOnce() throws Exception {
        TestBackend slow = backend("slow");
        // the first response waits until the second request was answered (a fixed delay could run out first)
        CompletableFuture<Void> release = new CompletableFuture<>();
        slow.respond(req -> TestResponse.ok("slow").holdUntil(release));
        GatehouseFixture g = gatehouse(oneCluster("\"" + slow.address() + "\"", "limits: { max_requests: 1 }", ""));
        CompletableFuture<HttpResponse<String>> first = g.client().sendAsync(
                HttpRequest.newBuilder(g.uri("/1")).build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> slow.requestCount() == 1);
        HttpResponse<String> second = g.get("/2");
        assertThat(second.statusCode()).isEqualTo(503);
        assertThat(second.headers().firstValue("gatehouse-reason")).hasValue("cluster_max_requests");
        release.complete(null);
        assertThat(first.get().statusCode()).isEqualTo(200);
    }

    /**
     * An address where connecting hangs until the connect timeout: a listening socket whose accept queue is full, so
     * the kernel drops further SYNs instead of refusing them.
     */
    private String blackhole() throws Exception {
        ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        closeables.add(s);
        for (int i = 0; i < 8; i++) {
            java.net.Socket filler = new java.net.Socket();
            closeables.add(filler);
            try {
                filler.connect(s.getLocalSocketAddress(), 300);
            } catch (java.net.SocketTimeoutException full) {
                return "127.0.0.1:" + s.getLocalPort();
            }
        }
        throw new IllegalStateException("the accept queue never filled");
    }

    @Test
    void aConnectTimeoutIsRetriedOnAnotherEndpoint() throws Exception {
        TestBackend live = backend("live");
        GatehouseFixture g = gatehouse(oneCluster("\"" + blackhole() + "\", \"" + live.address() + "\"",
                "timeouts: { connect: 200ms }\noutlier_detection: { consecutive_5xx: 0, consecutive_gateway_failures: 0 }", ""));
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = g.get("/" + i);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("live");
        }
        Cluster cluster = g.gatehouse().cluster("app");
        assertThat(cluster.retryCount()).as("requests that went to the silent endpoint first").isBetween(1L, 4L);
    }

    @Test
    void aConnectTimeoutWithNoOtherEndpointIs503WithItsReason() throws Exception {
        GatehouseFixture g = gatehouse(oneCluster("\"" + blackhole() + "\"", "timeouts: { connect: 200ms }", ""));
        HttpResponse<String> r = g.get("/");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("gatehouse-reason")).hasValue("connect_timeout");
        assertThat(g.gatehouse().cluster("app").retryCount()).isZero();
    }

    @Test
    void maxConnectionsOverflowIsAnswered503AtOnce() throws Exception {
        TestBackend slow = backend("slow");
        // the first response waits until the second request was answered (a fixed delay could run out first)
        CompletableFuture<Void> release = new CompletableFuture<>();
        slow.respond(req -> TestResponse.ok("slow").holdUntil(release));
        GatehouseFixture g = gatehouse(oneCluster("\"" + slow.address() + "\"", "limits: { max_connections: 1 }", ""));
        CompletableFuture<HttpResponse<String>> first = g.client().sendAsync(
                HttpRequest.newBuilder(g.uri("/1")).build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> slow.requestCount() == 1);
        HttpResponse<String> second = g.get("/2");
        assertThat(second.statusCode()).isEqualTo(503);
        assertThat(second.headers().firstValue("gatehouse-reason")).hasValue("cluster_max_connections");
        release.complete(null);
        assertThat(first.get().statusCode()).isEqualTo(200);
        assertThat(slow.connectionsAccepted()).isEqualTo(1);
        assertThat(g.gatehouse().cluster("app").overflowCount()).isEqualTo(1);
    }

    @Test
    void maxPendingOverflowIsAnswered503AtOnce() throws Exception {
        GatehouseFixture g = gatehouse(oneCluster("\"" + blackhole() + "\"",
                "timeouts: { connect: 3s }\nlimits: { max_pending: 1 }", ""));
        Cluster cluster = g.gatehouse().cluster("app");
        CompletableFuture<HttpResponse<String>> first = g.client().sendAsync(
                HttpRequest.newBuilder(g.uri("/1")).build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> cluster.pendingConnections() == 1);
        HttpResponse<String> second = g.get("/2");
        assertThat(second.statusCode()).isEqualTo(503);
        assertThat(second.headers().firstValue("gatehouse-reason")).hasValue("cluster_max_pending");
        assertThat(first.get().headers().firstValue("gatehouse-reason")).hasValue("connect_timeout");
        assertThat(cluster.pendingConnections()).isZero();
        assertThat(cluster.openConnections()).isZero();
    }

    @Test
    void retryBudgetStopsRetriesWhenExhausted() {
        TestBackend bad = backend("bad");
        bad.respond(req -> TestResponse.status(503));
        GatehouseFixture g = gatehouse(oneCluster("\"" + bad.address() + "\"",
                "outlier_detection: { consecutive_5xx: 0 }\nretry_budget: { ratio: 0.0, min_retries: 0 }",
                "retries: { attempts: 3, on: [\"503\"] }"));
        HttpResponse<String> r = g.get("/");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(bad.requestCount()).isEqualTo(1); // no budget: not retried
        assertThat(g.gatehouse().cluster("app").retryBudgetExhaustedCount()).isEqualTo(1);
    }

    @Test
    void outlierDetectionEjectsAnEndpointThatKeepsFailing() {
        TestBackend failing = backend("failing");
        failing.respond(req -> TestResponse.status(500));
        TestBackend good = backend("good");
        GatehouseFixture g = gatehouse(oneCluster("\"" + failing.address() + "\", \"" + good.address() + "\"",
                "outlier_detection: { consecutive_5xx: 3, base_ejection_time: 60s }", ""));
        for (int i = 0; i < 12; i++) g.get("/warm" + i);
        int before = failing.requestCount();
        assertThat(before).isEqualTo(3);
        for (int i = 0; i < 10; i++) {
            assertThat(g.get("/after" + i).statusCode()).isEqualTo(200);
        }
        assertThat(failing.requestCount()).isEqualTo(before);
    }

    // The health checks below time out after 10 s, not 500 ms: with unhealthy_threshold 1, one probe of a healthy
    // endpoint held up half a second by a loaded machine took it out. These tests make endpoints unhealthy by a 503
    // from /health, never by a timeout.
    @Test
    void activeHealthCheckTakesAnUnhealthyEndpointOutAndBack() {
        TestBackend a = backend("a");
        TestBackend b = backend("b");
        GatehouseFixture g = gatehouse(oneCluster("\"" + a.address() + "\", \"" + b.address() + "\"",
                "health_check: { path: /health, interval: 50ms, timeout: 10s, unhealthy_threshold: 1, healthy_threshold: 1 }", ""));
        a.healthy(false);
        await().atMost(Duration.ofSeconds(5)).until(() -> g.gatehouse().cluster("app").availableCount() == 1);
        int seenByA = a.requestCount();
        for (int i = 0; i < 6; i++) assertThat(g.get("/").body()).isEqualTo("b");
        assertThat(a.requestCount()).isEqualTo(seenByA);
        a.healthy(true);
        await().atMost(Duration.ofSeconds(5)).until(() -> g.gatehouse().cluster("app").availableCount() == 2);
    }

    @Test
    void backupEndpointServesOnlyWhenNoPrimaryIsHealthy() {
        TestBackend primary = backend("primary");
        TestBackend backup = backend("backup");
        GatehouseFixture g = gatehouse(oneCluster("\"" + primary.address() + "\", { address: \"" + backup.address() + "\", backup: true }",
                "health_check: { path: /health, interval: 50ms, timeout: 10s, unhealthy_threshold: 1, healthy_threshold: 1 }", ""));
        for (int i = 0; i < 4; i++) assertThat(g.get("/").body()).isEqualTo("primary");
        primary.healthy(false);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(g.get("/").body()).isEqualTo("backup"));
        primary.healthy(true);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(g.get("/").body()).isEqualTo("primary"));
    }

    @Test
    void whenAllAreUnhealthyFailAnswers503AndPanicRoutesAnyway() {
        TestBackend a = backend("a");
        a.healthy(false);
        String hc = "health_check: { path: /health, interval: 50ms, timeout: 10s, unhealthy_threshold: 1, healthy_threshold: 1 }";
        GatehouseFixture failing = gatehouse(oneCluster("\"" + a.address() + "\"", hc, ""));
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            HttpResponse<String> r = failing.get("/");
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.headers().firstValue("gatehouse-reason")).hasValue("no_healthy_endpoint");
        });
        GatehouseFixture panic = gatehouse(oneCluster("\"" + a.address() + "\"", hc + "\nwhen_all_unhealthy: panic", ""));
        await().atMost(Duration.ofSeconds(5)).until(() -> panic.gatehouse().cluster("app").endpoints().get(0).activeHealthy() == false);
        HttpResponse<String> r = panic.get("/");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("a");
    }

    @Test
    void gracefulShutdownFinishesInFlightRequests() throws Exception {
        TestBackend slow = backend("slow");
        // the response is held until the drain has begun (a fixed delay could end first on a slow machine: then the
        // request was not in flight at shutdown, and its response was not marked connection: close)
        CompletableFuture<Void> release = new CompletableFuture<>();
        slow.respond(req -> TestResponse.ok("finished").holdUntil(release));
        GatehouseFixture g = GatehouseFixture.start(oneCluster("\"" + slow.address() + "\"", "", ""));
        RawClient c = g.raw();
        closeables.add(c);
        c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> slow.requestCount() == 1);
        io.gatehouse.listener.Listener edge = g.gatehouse().listeners().get(0);
        Thread stopper = new Thread(() -> g.gatehouse().shutdown(Duration.ofSeconds(10)));
        stopper.start();
        await().atMost(Duration.ofSeconds(5)).until(edge::draining);
        release.complete(null);
        RawResponse r = c.readResponse(Duration.ofSeconds(10));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bodyAsString()).isEqualTo("finished");
        assertThat(r.header("connection")).isEqualToIgnoringCase("close");
        stopper.join(10_000);
        assertThat(stopper.isAlive()).isFalse();
    }
}
