package io.gatehouse.listener;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/2 rapid reset (CVE-2023-44487) as it reaches the endpoint: requests the client reset in the same read never
 * start an endpoint request nor open a connection to it. The flood limit ends the attack with GOAWAY, and the stream
 * whose reset crosses the limit does not start either. The first test
 * is the attack as the issue measured it: TLS with ALPN h2, the default limits, 20,000 pairs.
 */
class RapidResetTest {
    static final long CANCEL = 0x8, ENHANCE_YOUR_CALM = 0xb;
    static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    final TestBackend backend = new TestBackend().name("b");

    /** An edge in front of the backend, cleartext HTTP/2 with a limit of {@code maxResets} resets per window. */
    GatehouseFixture h2cEdge(int maxResets) {
        return GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    http2: { h2c: true, max_resets_per_window: %d }
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                """.formatted(maxResets, backend.address()));
    }

    /** {@code pairs} HEADERS+RST_STREAM pairs from stream {@code stream} on, in one write; returns the next stream id. */
    static int writePairs(RawH2 c, int stream, int pairs) {
        c.cork();
        for (int i = 0; i < pairs; i++, stream += 2) {
            c.headers(stream, true, RawH2.get("/reset"));
            c.rst(stream, (int) CANCEL);
        }
        c.uncork();
        return stream;
    }

    /** The GOAWAY that ends the attack, ENHANCE_YOUR_CALM. */
    static void assertCalmedDown(RawH2 c, String as) {
        RawH2.Frame goAway = c.await(RawH2.GOAWAY, WAIT);
        assertThat(goAway).as(as).isNotNull();
        assertThat(goAway.errorCode()).isEqualTo(ENHANCE_YOUR_CALM);
    }

    /** Requests and connections at the endpoint: none, or one whose reset came in a later read than its head. */
    void assertAtMostOneReachedTheEndpoint() {
        assertThat(backend.requestCount()).as("requests at the endpoint").isLessThanOrEqualTo(1);
        assertThat(backend.connectionsAccepted()).as("connections to the endpoint").isLessThanOrEqualTo(1);
    }

    @Test
    void twentyThousandPairsOverTlsWithTheDefaultLimitsGetGoAwayAndReachTheEndpointAtMostOnce() {
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                """.formatted(io.gatehouse.Protocol.HTTP_2.listenerTls(), backend.address()));
             RawH2 c = RawH2.connectTls(g.address())) {
            // 20,000 HEADERS+RST_STREAM pairs, 500 to a write, as fast as TLS takes them; the server may end it sooner
            int pairs = 0;
            for (int stream = 1; pairs < 20_000 && !c.writeFailed(); pairs += 500) stream = writePairs(c, stream, 500);
            assertCalmedDown(c, "GOAWAY after " + pairs + " pairs written");
            assertAtMostOneReachedTheEndpoint();
        }
    }

    /**
     * The reset that crosses the limit is not applied to its stream: the limit ends the connection first. That
     * stream's HEADERS, read just before, must not start a request when the read completes (it once opened a
     * connection to the endpoint, and a second pair in the same state a second one).
     */
    @Test
    void theStreamWhoseResetTripsTheLimitNeverReachesTheEndpoint() {
        try (GatehouseFixture g = h2cEdge(3); RawH2 c = RawH2.connect(g.address())) {
            writePairs(c, 1, 4);   // four pairs in one write: the fourth reset is over the limit of three
            assertCalmedDown(c, "GOAWAY");
            // a request started by the read would connect within milliseconds; room for a stall
            org.awaitility.Awaitility.await().during(Duration.ofMillis(500)).atMost(WAIT)
                    .until(() -> backend.connectionsAccepted() == 0 && backend.requestCount() == 0);
            assertThat(g.get("/after").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void resetStreamsNeverReachTheEndpoint() {
        try (GatehouseFixture g = h2cEdge(100); RawH2 c = RawH2.connect(g.address())) {
            // rounds of HEADERS+RST_STREAM pairs, each round in one write, until the flood limit ends the connection
            for (int round = 0, stream = 1; round < 50 && !c.writeFailed(); round++) stream = writePairs(c, stream, 20);
            assertCalmedDown(c, "GOAWAY");
            assertAtMostOneReachedTheEndpoint();
            assertThat(g.get("/after").statusCode()).isEqualTo(200);
        }
    }
}
