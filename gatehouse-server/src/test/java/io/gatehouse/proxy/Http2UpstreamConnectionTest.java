package io.gatehouse.proxy;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.clock.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The life of Gatehouse's HTTP/2 connections to endpoints ({@code protocol: h2c}): keepalive PINGs, the idle close,
 * our own stream cap, and one stalled client beside a flowing one on a shared connection.
 */
class Http2UpstreamConnectionTest {
    // also the atMost of the during(...) checks: room for a stalled machine; their conditions (a connection still
    // open, no request meanwhile) only ever turn false, so a long atMost cannot let a flap pass
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

    private GatehouseFixture gatehouse(Http2Backend b, String clusterExtra) {
        GatehouseFixture g = GatehouseFixture.start(Http2UpstreamTest.config(b.address(), clusterExtra, ""));
        closeables.add(g);
        return g;
    }

    /**
     * Keepalive runs on the cluster's clock, which this test moves ({@link ManualClock}): no delay of a loaded machine
     * can make a PING's ack late, and the timeout is shown to fire at {@code ping_timeout}, not before.
     */
    @Test
    void keepalivePingsGoOutAndAnUnansweredPingClosesTheConnection() throws Exception {
        Http2Backend b = backend(100);
        ManualClock clock = new ManualClock();
        GatehouseFixture g = GatehouseFixture.start(Http2UpstreamTest.config(b.address(),
                "http2: { ping_interval: 1s, ping_timeout: 1h }\n    connection_pool: { idle_timeout: 1000h }", ""), clock);
        closeables.add(g);
        assertThat(g.get("/echo").statusCode()).isEqualTo(200);
        assertThat(b.acceptedConnections()).isEqualTo(1);

        // a quiet connection is PINGed each interval, and a PING goes out only once the previous one was acked, so
        // three PINGs show the acks are taken. Each look moves the clock one interval: all of them together (at most
        // WAIT / 50 ms of them) stay far below ping_timeout, so this cannot time out however slow the machine is.
        await().atMost(WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            clock.advance(Duration.ofSeconds(1));
            return b.pings() >= 3;
        });
        assertThat(b.openConnections()).isEqualTo(1);
        assertThat(b.unansweredPings()).isZero();

        // the endpoint stops answering: a PING goes unanswered (sent at most WAIT / 50 ms intervals before it is seen)
        b.answerPings(false);
        await().atMost(WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            clock.advance(Duration.ofSeconds(1));
            return b.unansweredPings() >= 1;
        });
        // half of ping_timeout later the connection is still open ...
        clock.advance(Duration.ofMinutes(30));
        await().during(Duration.ofMillis(700)).atMost(WAIT).until(() -> b.openConnections() == 1);
        // ... and past ping_timeout it is closed
        clock.advance(Duration.ofMinutes(31));
        await().atMost(WAIT).until(() -> b.openConnections() == 0);

        // and the next request goes on a new connection (the clock stands still meanwhile: no PING can race it)
        b.answerPings(true);
        assertThat(g.get("/echo").statusCode()).isEqualTo(200);
        assertThat(b.acceptedConnections()).isEqualTo(2);
    }

    /** The idle close, like keepalive, runs on the cluster's clock: a slow machine cannot idle a connection out early. */
    private GatehouseFixture gatehouse(Http2Backend b, String clusterExtra, ManualClock clock) {
        GatehouseFixture g = GatehouseFixture.start(Http2UpstreamTest.config(b.address(), clusterExtra, ""), clock);
        closeables.add(g);
        return g;
    }

    /**
     * The response reaches the client a moment before the pool counts its stream closed, and the idle time starts
     * then: the clock moves only once it has.
     */
    private static void awaitIdle(GatehouseFixture g) {
        await().atMost(WAIT).until(() -> g.gatehouse().cluster("app").idleConnections() == 1);
    }

    @Test
    void noPingsWithoutAPingInterval() throws Exception {
        Http2Backend b = backend(100);
        ManualClock clock = new ManualClock();
        GatehouseFixture g = gatehouse(b, "connection_pool: { idle_timeout: 1s }", clock);
        assertThat(g.get("/echo").statusCode()).isEqualTo(200);
        awaitIdle(g);
        // the idle close is the only thing that happens to the connection
        clock.advance(Duration.ofSeconds(1));
        await().atMost(WAIT).until(() -> b.openConnections() == 0);
        assertThat(b.pings()).isZero();
    }

    @Test
    void aConnectionWithoutStreamsClosesAfterTheIdleTimeout() throws Exception {
        Http2Backend b = backend(100);
        ManualClock clock = new ManualClock();
        GatehouseFixture g = gatehouse(b, "connection_pool: { idle_timeout: 300ms }", clock);
        assertThat(g.get("/echo").statusCode()).isEqualTo(200);
        assertThat(g.get("/echo").statusCode()).isEqualTo(200);
        assertThat(b.acceptedConnections()).isEqualTo(1); // reused while not idle (the clock stands still)
        awaitIdle(g);

        // idle for just under the timeout: sweeps (every 75 ms) leave it open ...
        clock.advance(Duration.ofMillis(299));
        await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> b.openConnections() == 1);
        // ... and the sweep after it reaches the timeout closes it
        clock.advance(Duration.ofMillis(1));
        await().atMost(WAIT).until(() -> b.openConnections() == 0);
        assertThat(g.gatehouse().cluster("app").config().connectionPool().idleTimeout()).isEqualTo(Duration.ofMillis(300));

        assertThat(g.get("/echo").statusCode()).isEqualTo(200);
        assertThat(b.acceptedConnections()).isEqualTo(2);
    }

    @Test
    void aConnectionWithAStreamInFlightIsNotClosedAsIdle() throws Exception {
        Http2Backend b = backend(100);
        ManualClock clock = new ManualClock();
        GatehouseFixture g = gatehouse(b, "connection_pool: { idle_timeout: 200ms }", clock);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        CompletableFuture<HttpResponse<String>> held = client.sendAsync(
                HttpRequest.newBuilder(g.uri("/hold/1")).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(WAIT).until(() -> b.heldCount() == 1);
        // an hour past the idle timeout on the shared clock; that sweeps ran meanwhile is shown by a second gatehouse
        // on the same clock, whose idle connection they close
        Http2Backend other = backend(100);
        GatehouseFixture g2 = gatehouse(other, "connection_pool: { idle_timeout: 200ms }", clock);
        assertThat(g2.get("/echo").statusCode()).isEqualTo(200);
        awaitIdle(g2);
        clock.advance(Duration.ofHours(1));
        await().atMost(WAIT).until(() -> other.openConnections() == 0);
        await().during(Duration.ofMillis(200)).atMost(WAIT).until(() -> b.openConnections() == 1);

        b.releaseHeld();
        assertThat(held.get().statusCode()).isEqualTo(200);
        assertThat(held.get().body()).isEqualTo("held");
    }

    @Test
    void configuredMaxConcurrentStreamsBelowTheEndpointsLimitOpensMoreConnections() throws Exception {
        Http2Backend b = backend(100); // the endpoint would take 100 streams on one connection
        GatehouseFixture g = gatehouse(b, "http2: { max_concurrent_streams: 2 }");
        List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            pending.add(client.sendAsync(HttpRequest.newBuilder(g.uri("/hold/" + i)).timeout(WAIT).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        await().atMost(WAIT).until(() -> b.heldCount() == 5);
        b.releaseHeld();
        for (CompletableFuture<HttpResponse<String>> f : pending) assertThat(f.get().statusCode()).isEqualTo(200);
        // our cap of 2 streams per connection: 5 concurrent exchanges need 3 connections
        assertThat(b.acceptedConnections()).isEqualTo(3);
    }

    @Test
    void aStalledClientsStreamDoesNotStallAnotherStreamOnTheSameConnection() throws Exception {
        Http2Backend b = backend(100);
        GatehouseFixture g = gatehouse(b, "");
        long big = 64L << 20;
        try (Socket stalled = new Socket()) {
            stalled.setReceiveBufferSize(16 * 1024);
            stalled.connect(g.address());
            OutputStream out = stalled.getOutputStream();
            out.write(("GET /stream/" + big + "/stalled HTTP/1.1\r\nHost: a\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // the stalled client reads nothing; the endpoint gets going on its stream
            await().atMost(WAIT).until(() -> b.streamed.containsKey("stalled") && b.streamed.get("stalled").get() > 0);

            // another client's large response on the same upstream connection flows to its end
            long flowing = 16L << 20;
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(g.uri("/stream/" + flowing + "/flowing"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).hasSize((int) flowing);
            assertThat(b.acceptedConnections()).isEqualTo(1);

            // memory stays bounded: the stalled stream's endpoint was held back by flow control, long before its end
            long sentToStalled = b.streamed.get("stalled").get();
            assertThat(sentToStalled).isLessThan(16L << 20);

            // and the stalled response was only paused: read now, it arrives whole
            InputStream in = stalled.getInputStream();
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            int headEnd = -1;
            StringBuilder head = new StringBuilder();
            while (headEnd < 0) {
                int c = in.read();
                assertThat(c).isNotNegative();
                head.append((char) c);
                if (head.toString().endsWith("\r\n\r\n")) headEnd = head.length();
            }
            assertThat(head.toString().toLowerCase(java.util.Locale.ROOT)).startsWith("http/1.1 200").contains("content-length: " + big);
            while (total < big) {
                int n = in.read(buf);
                assertThat(n).isPositive();
                total += n;
            }
            assertThat(total).isEqualTo(big);
        }
    }
}
