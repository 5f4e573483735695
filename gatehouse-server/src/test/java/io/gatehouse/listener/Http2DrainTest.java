package io.gatehouse.listener;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Graceful ends of HTTP/2 client connections: on shutdown and when a reload removes the listener, the client gets
 * GOAWAY NO_ERROR naming the last stream taken, in-flight streams finish, streams opened after it are not served,
 * then the connection closes.
 */
class Http2DrainTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    final TestBackend backend = new TestBackend().name("b");

    private static String config(String backendAddress, String... listeners) {
        StringBuilder sb = new StringBuilder("server:\n  drain_timeout: 10s\nlisteners:\n");
        for (String name : listeners) {
            sb.append("""
                      - name: %s
                        address: 127.0.0.1:0
                        http2: { h2c: true }
                        routes: [ { name: all, cluster: app } ]
                    """.formatted(name));
        }
        sb.append("""
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                admin:
                  address: "off"
                """.formatted(backendAddress));
        return sb.toString();
    }

    @Test
    void shutdownLetsAnInFlightStreamFinishAndRefusesNewStreamsAfterGoAway() throws Exception {
        // slow enough that the shutdown starts, and a new stream is tried, while it is in flight
        backend.respond(req -> TestResponse.ok("slow done").delayHeaders(Duration.ofSeconds(2)));
        try (GatehouseFixture g = GatehouseFixture.start(config(backend.address(), "edge"))) {
            CompletableFuture<Void> shutdown = new CompletableFuture<>();
            drainsGracefully(g.address(), () -> CompletableFuture.runAsync(() -> g.gatehouse().shutdown(Duration.ofSeconds(10)))
                    .whenComplete((v, e) -> shutdown.complete(null)));
            // it waited for the stream, not for the whole drain timeout
            shutdown.get(8, TimeUnit.SECONDS);
            assertThat(g.gatehouse().listeners()).allMatch(l -> l.connectionCount() == 0);
        }
    }

    @Test
    void aListenerRemovedByReloadDrainsItsHttp2ConnectionsTheSameWay() throws Exception {
        backend.respond(req -> TestResponse.ok("slow done").delayHeaders(Duration.ofSeconds(2)));
        try (GatehouseFixture g = GatehouseFixture.start(config(backend.address(), "stays", "goes"))) {
            InetSocketAddress goes = g.gatehouse().listenerAddress("goes");
            drainsGracefully(goes, () -> g.gatehouse().reload(ConfigLoader.parse(config(backend.address(), "stays"), "test.yaml")));
            // the listener that stays serves HTTP/2 as before
            try (RawH2 c = RawH2.connect(g.address())) {
                c.headers(1, true, RawH2.get("/after"));
                assertThat(c.awaitAnswer(1, WAIT).status()).isEqualTo("200");
            }
        }
    }

    /** Opens stream 1 (slow), runs {@code drain}, and checks what the client sees: GOAWAY, stream 1 whole, stream 3 not served. */
    private void drainsGracefully(InetSocketAddress address, ThrowingRunnable drain) throws Exception {
        try (RawH2 c = RawH2.connect(address)) {
            c.headers(1, true, RawH2.get("/slow"));
            assertThat(backend.takeRequest(WAIT)).isNotNull();

            drain.run();
            RawH2.Frame goAway = c.await(RawH2.GOAWAY, WAIT);
            assertThat(goAway).isNotNull();
            assertThat(ByteBuffer.wrap(goAway.payload()).getInt() & 0x7fffffff).isEqualTo(1); // the last stream taken
            assertThat(goAway.errorCode()).isZero(); // NO_ERROR

            // a stream opened after GOAWAY is above its last stream id: not processed
            c.headers(3, true, RawH2.get("/late"));

            List<RawH2.Frame> rest = new ArrayList<>();
            RawH2.Frame f;
            while ((f = c.next(WAIT)) != null && f.type() != -1) rest.add(f);
            assertThat(f).as("the connection closes once stream 1 is done").isNotNull();

            RawH2.Frame head = rest.stream().filter(x -> x.stream() == 1 && x.type() == RawH2.HEADERS).findFirst().orElseThrow();
            assertThat(head.status()).isEqualTo("200");
            String body = rest.stream().filter(x -> x.stream() == 1 && x.type() == RawH2.DATA)
                    .map(x -> new String(x.payload(), java.nio.charset.StandardCharsets.UTF_8)).reduce("", String::concat);
            assertThat(body).isEqualTo("slow done");
            assertThat(rest).noneMatch(x -> x.stream() == 3 && x.type() == RawH2.HEADERS);
            // refused outright: RST_STREAM REFUSED_STREAM (7), safe for the client to retry on a new connection
            RawH2.Frame refused = rest.stream().filter(x -> x.stream() == 3 && x.type() == RawH2.RST_STREAM).findFirst().orElseThrow();
            assertThat(refused.errorCode()).isEqualTo(7);
            assertThat(backend.requests()).extracting(r -> r.path()).doesNotContain("/late");
        }
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }
}
