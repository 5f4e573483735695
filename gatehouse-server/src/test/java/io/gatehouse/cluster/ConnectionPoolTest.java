package io.gatehouse.cluster;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.clock.ManualClock;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Upstream keep-alive: reuse, idle eviction, endpoint-side closes, and no reuse of half-read connections. */
class ConnectionPoolTest {
    @RegisterExtension
    final TestBackend backend = new TestBackend().name("b");

    private GatehouseFixture gatehouse(String pool, String clusterExtra) {
        return gatehouse(pool, clusterExtra, io.netty.util.concurrent.Ticker.systemTicker());
    }

    private GatehouseFixture gatehouse(String pool, String clusterExtra, io.netty.util.concurrent.Ticker ticker) {
        return GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [ { name: all, cluster: app, retries: { attempts: 0 } } ]
                server: { event_loops: 1 }
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                    connection_pool: %s
                    %s
                """.formatted(backend.address(), pool, clusterExtra), ticker);
    }

    /**
     * The idle time is read from the cluster's clock, which this test moves ({@link ManualClock}): a stall of the
     * machine between the response and the next look cannot idle the connection out early.
     */
    @Test
    void closesPooledConnectionsIdleLongerThanTheIdleTimeout() {
        ManualClock clock = new ManualClock();
        try (GatehouseFixture g = gatehouse("{ idle_timeout: 300ms }", "", clock)) {
            assertThat(g.get("/").statusCode()).isEqualTo(200);
            assertThat(backend.openConnections()).isEqualTo(1);
            // the idle time starts when the pool takes the connection back, a moment after the client has the response
            await().atMost(Duration.ofSeconds(5)).until(() -> g.gatehouse().cluster("app").idleConnections() == 1);
            // just under the timeout: sweeps (every 100 ms of real time) leave it open ...
            clock.advance(Duration.ofMillis(299));
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10)).until(() -> backend.openConnections() == 1);
            // ... and the sweep after it reaches the timeout closes it
            clock.advance(Duration.ofMillis(1));
            await().atMost(Duration.ofSeconds(5)).until(() -> backend.openConnections() == 0);
            assertThat(g.gatehouse().cluster("app").openConnections()).isZero();
            // and a new request simply opens a new one
            assertThat(g.get("/").statusCode()).isEqualTo(200);
            assertThat(backend.connectionsAccepted()).isEqualTo(2);
        }
    }

    @Test
    void noticesAnEndpointClosingAnIdleConnectionAndDoesNotReuseIt() {
        try (GatehouseFixture g = gatehouse("{ idle_timeout: 60s }", "")) {
            assertThat(g.get("/1").statusCode()).isEqualTo(200);
            backend.stop();
            backend.restart();
            await().atMost(Duration.ofSeconds(5)).until(() -> g.gatehouse().cluster("app").openConnections() == 0);
            HttpResponse<String> r = g.get("/2");
            assertThat(r.statusCode()).isEqualTo(200);
        }
    }

    @Test
    void keepsAtMostMaxIdlePerEndpoint() throws Exception {
        // the responses wait until all three requests have reached the endpoint (not a fixed delay, which a slow
        // machine could outlast, letting a later request reuse an earlier one's connection)
        CompletableFuture<Void> release = new CompletableFuture<>();
        backend.respond(req -> TestResponse.ok("slow").holdUntil(release));
        try (GatehouseFixture g = gatehouse("{ max_idle_per_endpoint: 1 }", "")) {
            RawClient[] clients = new RawClient[3];
            for (int i = 0; i < 3; i++) {
                clients[i] = g.raw();
                clients[i].send("GET /" + i + " HTTP/1.1\r\nHost: t\r\n\r\n");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> backend.requestCount() == 3);
            release.complete(null);
            for (RawClient c : clients) {
                assertThat(c.readResponse(Duration.ofSeconds(5)).status()).isEqualTo(200);
                c.close();
            }
            assertThat(backend.connectionsAccepted()).isEqualTo(3);
            await().atMost(Duration.ofSeconds(5)).until(() -> backend.openConnections() == 1);
        }
    }

    @Test
    void byDefaultKeepsABurstsConnectionsForTheNextBurst() throws Exception {
        // A pool that closes what it cannot keep idle opens it again at the next burst: `gatehouse up` at 7,350/s,
        // with 64 kept, opened and closed 30-150 connections a second to its app instances.
        // each wave's responses wait until the whole wave has reached the endpoint: the waves are exactly as
        // concurrent however slow the machine (with a fixed delay, a slow first wave could open fewer connections
        // than the second needs)
        int burst = 100;
        try (GatehouseFixture g = gatehouse("{ idle_timeout: 60s }", "")) {
            int opened = 0;
            for (int wave = 1; wave <= 2; wave++) {
                CompletableFuture<Void> release = new CompletableFuture<>();
                backend.respond(req -> TestResponse.ok("slow").holdUntil(release));
                int before = backend.requestCount();
                RawClient[] clients = new RawClient[burst];
                for (int i = 0; i < burst; i++) {
                    clients[i] = g.raw();
                    clients[i].send("GET /" + wave + "/" + i + " HTTP/1.1\r\nHost: t\r\n\r\n");
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> backend.requestCount() == before + burst);
                release.complete(null);
                for (RawClient c : clients) {
                    assertThat(c.readResponse(Duration.ofSeconds(10)).status()).isEqualTo(200);
                    c.close();
                }
                if (wave == 1) {
                    opened = backend.connectionsAccepted();
                    assertThat(opened).as("the first burst was concurrent beyond the old limit of 64").isGreaterThan(64);
                }
            }
            assertThat(backend.connectionsAccepted()).as("the second burst reused the first one's connections").isEqualTo(opened);
            assertThat(backend.openConnections()).isEqualTo(opened);
        }
    }

    @Test
    void aResponseCutShortByTheClientIsNotReused() {
        backend.respond(req -> req.path().equals("/big")
                ? TestResponse.ok().generatedBody(64L << 20)
                : TestResponse.ok("small"));
        try (GatehouseFixture g = gatehouse("{ idle_timeout: 60s }", "")) {
            try (RawClient c = g.raw()) {
                c.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
                assertThat(c.readRaw(Duration.ofSeconds(5)).length).isPositive();
            } // client leaves mid-body
            await().atMost(Duration.ofSeconds(5)).until(() -> backend.openConnections() == 0);
            assertThat(g.get("/small").body()).isEqualTo("small");
            assertThat(backend.connectionsAccepted()).isEqualTo(2);
        }
    }

    @Test
    void idleTimeoutBetweenBytesAbortsAStalledResponse() {
        backend.respond(req -> TestResponse.ok().body("x".repeat(1000)).dripBody(10, Duration.ofSeconds(2)));
        try (GatehouseFixture g = gatehouse("{ idle_timeout: 60s }", "timeouts: { idle: 300ms }")) {
            try (RawClient c = g.raw()) {
                c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
                byte[] got = c.readUntilClose(Duration.ofSeconds(10));
                assertThat(new String(got)).startsWith("HTTP/1.1 200");
                assertThat(got.length).isLessThan(1000); // aborted, not completed
            }
        }
    }
}
