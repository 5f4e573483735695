package io.gatehouse.listener;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.clock.ManualClock;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Slow-client attacks on HTTP/1.1, each run for real while a well-behaved client is being served: a head trickled
 * byte by byte (slowloris), a body that stops coming (slow POST), and a client that never reads its response.
 */
class SlowClientTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    final TestBackend backend = new TestBackend().name("origin");

    private final ScheduledExecutorService attacker = Executors.newSingleThreadScheduledExecutor();
    private GatehouseFixture gatehouse;

    @BeforeEach
    void start() {
        gatehouse = GatehouseFixture.start(config());
    }

    private String config() {
        return """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    timeouts: {request_header: 500ms, request_body_idle: 500ms, idle: 1s}
                    routes: [{name: all, cluster: app}]
                clusters:
                  - name: app
                    endpoints: ["%s"]
                """.formatted(backend.address());
    }

    @AfterEach
    void stop() {
        attacker.shutdownNow();
        if (gatehouse != null) gatehouse.close();
    }

    /** One complete request on a fresh connection, answered. */
    private void wellBehavedClientIsServed() {
        try (RawClient c = gatehouse.raw()) {
            RawResponse r = c.send("GET /fine HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(WAIT);
            assertThat(r.status()).isEqualTo(200);
        }
    }

    @Test
    void aHeadTrickledByteByByteGets408WhileOthersAreServed() {
        try (RawClient slow = gatehouse.raw()) {
            // a head that never ends, one byte every 20 ms: it keeps the connection busy but must not keep it forever
            byte[] endless = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    .getBytes(StandardCharsets.ISO_8859_1);
            AtomicInteger sent = new AtomicInteger();
            ScheduledFuture<?> trickle = attacker.scheduleAtFixedRate(() -> {
                int i = sent.getAndIncrement();
                if (i < endless.length) {
                    try {
                        slow.send(new byte[] {endless[i]});
                    } catch (RuntimeException closed) {
                        throw closed; // the proxy closed the connection: stop trickling
                    }
                }
            }, 0, 20, TimeUnit.MILLISECONDS);

            wellBehavedClientIsServed();

            RawResponse r = slow.readResponse(WAIT);
            trickle.cancel(false);
            assertThat(r.status()).isEqualTo(408);
            assertThat(r.header("gatehouse-reason")).isEqualTo("request_header_timeout");
            assertThat(slow.isClosedByPeer(WAIT)).isTrue();
            assertThat(sent.get()).as("bytes trickled before the cut").isGreaterThan(5).isLessThan(endless.length);
            assertThat(backend.requestCount()).as("only the well-behaved request reached the cluster").isEqualTo(1);
            wellBehavedClientIsServed();
        }
    }

    @Test
    void aBodyThatStopsComingGets408AndTheBackendNeverSeesAWholeRequest() {
        try (RawClient slow = gatehouse.raw()) {
            slow.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(1000));
            wellBehavedClientIsServed();

            RawResponse r = slow.readResponse(WAIT);
            assertThat(r.status()).isEqualTo(408);
            assertThat(r.header("gatehouse-reason")).isEqualTo("request_body_timeout");
            assertThat(slow.isClosedByPeer(WAIT)).isTrue();
            // the well-behaved GET is the only whole request the backend got; the upload was cut off
            assertThat(backend.requests()).extracting(rr -> rr.method()).containsExactly("GET");
            wellBehavedClientIsServed();
        }
    }

    /**
     * On a {@link ManualClock}: the gaps between the body's bytes are exactly what the test makes them (on real time,
     * an attacker thread held up 350 ms made a 500 ms gap, and a 408). The backend echoes the body as it arrives, and
     * the clock moves only once the last byte came back, so each byte was read before the next gap began. With gaps
     * of 550 ms instead, this test fails (checked).
     */
    @Test
    void aSlowButSteadyBodyIsNotCutOff() {
        backend.echo();
        ManualClock clock = new ManualClock();
        try (GatehouseFixture g = GatehouseFixture.start(config(), clock); RawClient slow = g.raw()) {
            slow.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
            StringBuilder got = new StringBuilder();
            while (got.indexOf("\r\n\r\n") < 0) got.append(read(slow));
            assertThat(got.toString()).startsWith("HTTP/1.1 200");
            // five bytes, 450 ms apart: 2.25 s in all, over four times the body idle timeout, but never a 500 ms
            // gap. The timer looks at the clock on real-time ticks (about every 500 ms here): each gap stays open
            // 600 ms of real time so it gets its look (a stall only delays the look: it cannot make a gap longer)
            for (int i = 1; i <= 5; i++) {
                clock.advance(Duration.ofMillis(450));
                assertThat(slow.isClosedByPeer(Duration.ofMillis(600))).as("cut off after %d bytes", i - 1).isFalse();
                slow.send("y");
                while (echoed(got) < i) got.append(read(slow));
            }
            assertThat(got.toString()).doesNotContain("408");
            assertThat(backend.takeRequest(WAIT).bodySize()).isEqualTo(5);
        }
    }

    /** What arrives next (a read that times out fails the test). */
    private static String read(RawClient c) {
        byte[] b = c.readRaw(WAIT);
        assertThat(b).as("the connection is still open").isNotEmpty();
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** The body bytes (each a 'y') echoed in {@code got}, the response so far. */
    private static long echoed(StringBuilder got) {
        int body = got.indexOf("\r\n\r\n");
        return body < 0 ? 0 : got.substring(body + 4).chars().filter(ch -> ch == 'y').count();
    }

    @Test
    void aClientThatNeverReadsHoldsBoundedMemoryAndIsClosedAfterTheIdleTimeout() throws IOException {
        Listener listener = gatehouse.gatehouse().listeners().get(0);
        // what Gatehouse holds for its clients, not yet taken by their sockets
        AtomicLong peakPending = new AtomicLong();
        attacker.scheduleAtFixedRate(() -> {
            long pending = 0;
            for (io.netty.channel.Channel ch : listener.openConnections()) {
                io.netty.channel.ChannelOutboundBuffer b = ch.unsafe().outboundBuffer();
                if (b != null) pending += b.totalPendingWriteBytes();
            }
            peakPending.accumulateAndGet(pending, Math::max);
        }, 0, 2, TimeUnit.MILLISECONDS);
        backend.enqueue(TestResponse.ok().generatedBody(512L * 1024 * 1024));
        try (Socket reader = new Socket()) {
            reader.setReceiveBufferSize(32 * 1024);
            reader.connect(gatehouse.address(), 5000);
            OutputStream out = reader.getOutputStream();
            out.write("GET /huge HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            // never reads: once the socket buffers and the write watermark are full the backend is paused

            await().atMost(WAIT).until(() -> listener.connectionCount() == 1 && peakPending.get() > 0);
            wellBehavedClientIsServed();
            // closed by Gatehouse after the listener's idle timeout (1 s), not by the cluster's (60 s)
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> listener.connectionCount() == 0);
            System.out.printf("peak bytes pending toward the client that did not read: %d KiB%n", peakPending.get() / 1024);
            // the write watermark is 256 KiB: past it the upstream is not read; one read batch may land on top
            assertThat(peakPending.get()).as("peak bytes pending toward the client").isLessThan(1024L * 1024);
        }
        wellBehavedClientIsServed();
    }
}
