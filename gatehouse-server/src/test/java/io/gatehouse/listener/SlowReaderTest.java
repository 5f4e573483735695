package io.gatehouse.listener;

import io.gatehouse.Gatehouse;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.BodyPattern;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Clients that read a large response slowly: while Gatehouse holds off reading from the endpoint for them
 * (backpressure), the endpoint's silence is not an idle timeout, and it is never counted against the endpoint.
 * Time is a mock ticker: it jumps far past the cluster's idle timeout while every reader is stalled.
 */
class SlowReaderTest {
    private static final long BODY = 16L * 1024 * 1024;   // far above what the socket buffers hold
    private static final int READERS = 5;                  // enough to eject the only endpoint, were they blamed

    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("origin");

    /** Gatehouse in front of {@code backend} with a short cluster idle timeout; {@code clusterExtra} adds cluster keys. */
    static Gatehouse start(TestBackend backend, Ticker ticker, String clusterExtra) throws Exception {
        return Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    timeouts: {idle: 1h}
                    routes: [{name: all, cluster: app}]
                clusters:
                  - name: app
                    endpoints: ["%s"]
                    timeouts: {idle: 200ms}
                %s
                admin: {address: "off"}
                """.formatted(backend.address(), clusterExtra), "test.yaml"), ticker);
    }

    @Test
    void anHttp2StreamWhoseWindowStaysShutIsNotCutOffAndTheEndpointIsNotBlamed() throws Exception {
        long body = 4L * 1024 * 1024;
        backend.respond(req -> TestResponse.ok().generatedBody(body));
        MockTicker ticker = Ticker.newMockTicker();
        try (Gatehouse g = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    timeouts: {idle: 1h}
                    http2: {h2c: true, send_timeout: 1h}
                    routes: [{name: all, cluster: app}]
                clusters:
                  - name: app
                    endpoints: ["%s"]
                    timeouts: {idle: 200ms}
                admin: {address: "off"}
                """.formatted(backend.address()), "test.yaml"), ticker);
             RawH2 c = RawH2.connect(g.listenerAddress("edge"))) {
            c.headers(1, true, RawH2.get("/big"));
            // the default windows (64 KiB) fill up: Gatehouse holds off reading from the endpoint for this stream
            long received = 0;
            byte[] expected = new byte[64 * 1024];
            while (received < 65_535) {
                RawH2.Frame f = c.next(Duration.ofSeconds(10));
                assertThat(f).as("frame").isNotNull();
                if (f.type() == RawH2.DATA) received += check(f.payload(), received, expected);
            }
            ticker.advance(10, TimeUnit.SECONDS); // 50 times the cluster's idle timeout
            Endpoint e = g.cluster("app").endpoints().get(0);
            // room for a stall in atMost; a failure counted at any look fails at once
            await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(10))
                    .failFast("a gateway failure was counted", () -> g.cluster("app").outlierDetector().status(e).consecutiveGatewayFailures() != 0)
                    .until(() -> g.cluster("app").outlierDetector().status(e).consecutiveGatewayFailures() == 0);
            c.windowUpdate(0, (int) body);
            c.windowUpdate(1, (int) body);
            boolean ended = false;
            while (!ended) {
                RawH2.Frame f = c.next(Duration.ofSeconds(10));
                assertThat(f).as("frame after %d bytes", received).isNotNull();
                assertThat(f.type()).as("frame type after %d bytes", received).isNotEqualTo(RawH2.RST_STREAM).isNotEqualTo(-1);
                if (f.type() == RawH2.DATA) {
                    received += check(f.payload(), received, expected);
                    ended = (f.flags() & RawH2.END_STREAM) != 0;
                }
            }
            assertThat(received).isEqualTo(body);
            assertThat(e.ejections()).isZero();
        }
    }

    /** Checks {@code payload} against the pattern at {@code offset}; returns its length. */
    private static int check(byte[] payload, long offset, byte[] scratch) {
        byte[] want = payload.length <= scratch.length ? scratch : new byte[payload.length];
        BodyPattern.fill(want, 0, payload.length, offset);
        assertThat(java.util.Arrays.equals(want, 0, payload.length, payload, 0, payload.length))
                .as("bytes at %d", offset).isTrue();
        return payload.length;
    }

    /** Opens a reader with a small receive window and sends its request; it reads nothing yet. */
    static Socket stalledReader(Gatehouse g) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(16 * 1024);
        s.connect(g.listenerAddress("edge"), 5000);
        s.setSoTimeout(10_000);
        s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
        return s;
    }

    /** Reads the response head (up to its blank line) and returns it. */
    static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) break;
            head.append((char) b);
        }
        return head.toString();
    }

    @Test
    void slowReadersGetTheWholeBodyAndTheEndpointIsNotBlamed() throws Exception {
        backend.respond(req -> TestResponse.ok().generatedBody(BODY));
        MockTicker ticker = Ticker.newMockTicker();
        try (Gatehouse g = start(backend, ticker, "")) {
            Listener listener = g.listeners().get(0);
            List<Socket> readers = new ArrayList<>();
            try {
                for (int i = 0; i < READERS; i++) readers.add(stalledReader(g));
                // every reader's buffers are full: Gatehouse holds off reading from the endpoint for each of them
                // (and stay so for a moment: an exchange that just resumed reading settles back into its pause)
                await().atMost(Duration.ofSeconds(20)).during(Duration.ofMillis(300))
                        .until(() -> listener.openConnections().size() == READERS
                                && listener.openConnections().stream().noneMatch(io.netty.channel.Channel::isWritable));
                ticker.advance(10, TimeUnit.SECONDS); // 50 times the cluster's idle timeout
                // the deadline timer re-checks every 200 ms of real time: it gets several chances to fire wrongly
                await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(10)) // room for a stall
                        .failFast("a reader's connection was closed", () -> listener.openConnections().size() != READERS)
                        .until(() -> listener.openConnections().size() == READERS);
                for (Socket s : readers) {
                    InputStream in = s.getInputStream();
                    String head = readHead(in);
                    assertThat(head.toLowerCase()).startsWith("http/1.1 200").contains("content-length: " + BODY);
                    assertThat(BodyPattern.firstMismatch(in, BODY)).as("first wrong byte").isEqualTo(-1);
                }
            } finally {
                for (Socket s : readers) s.close();
            }
            Endpoint e = g.cluster("app").endpoints().get(0);
            assertThat(e.ejections()).as("ejections of the only endpoint").isZero();
            assertThat(g.cluster("app").outlierDetector().status(e).consecutiveGatewayFailures()).isZero();
            backend.respond(req -> TestResponse.ok("after"));
            try (RawClient c = RawClient.connect(g.listenerAddress("edge"))) {
                assertThat(c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(Duration.ofSeconds(5)).status()).isEqualTo(200);
            }
        }
    }
}
