package io.gatehouse.listener;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** A client that sends a head too slowly gets 408; one that sends nothing is closed after the idle timeout. */
class ClientTimeoutTest {
    @RegisterExtension
    final TestBackend backend = new TestBackend().name("b");

    private GatehouseFixture gatehouse() {
        return GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    timeouts: { request_header: 300ms, idle: 1s }
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                """.formatted(backend.address()));
    }

    @Test
    void aHeadThatDoesNotCompleteInTimeGets408AndNeverReachesTheCluster() {
        try (GatehouseFixture g = gatehouse(); RawClient c = g.raw()) {
            c.send("GET / HTTP/1.1\r\nHost: a\r\n"); // and nothing more: slowloris
            RawResponse r = c.readResponse(Duration.ofSeconds(5));
            assertThat(r.status()).isEqualTo(408);
            assertThat(r.header("gatehouse-reason")).isEqualTo("request_header_timeout");
            assertThat(c.isClosedByPeer(Duration.ofSeconds(5))).isTrue();
            assertThat(backend.requestCount()).isZero();
        }
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedQuietlyAfterTheIdleTimeout() {
        try (GatehouseFixture g = gatehouse(); RawClient c = g.raw()) {
            RawResponse first = c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(Duration.ofSeconds(5));
            assertThat(first.status()).isEqualTo(200);
            // no bytes at all after the response: not a slow head, just idle; closed without an answer
            assertThat(c.readUntilClose(Duration.ofSeconds(5))).isEmpty();
        }
    }

    @Test
    void aConnectionThatKeepsSendingRequestsIsNotTimedOut() {
        try (GatehouseFixture g = gatehouse(); RawClient c = g.raw()) {
            for (int i = 0; i < 5; i++) {
                assertThat(c.send("GET /" + i + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(Duration.ofSeconds(5)).status()).isEqualTo(200);
            }
            assertThat(backend.connectionsAccepted()).isEqualTo(1);
        }
    }
}
