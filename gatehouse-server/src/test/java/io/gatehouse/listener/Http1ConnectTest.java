package io.gatehouse.listener;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An HTTP/1.1 {@code CONNECT} over a real socket: 405 with its reason, and nothing reaches the endpoint, not even a
 * connection, though a catch-all route would take any other method. The HTTP/2 case is in {@code Http2DownstreamTest}.
 */
class Http1ConnectTest {
    static TestBackend backend;
    static GatehouseFixture g;

    @BeforeAll
    static void start() {
        backend = TestBackend.started("b");
        g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                """.formatted(backend.address()));
    }

    @AfterAll
    static void stop() {
        g.close();
        backend.close();
    }

    @Test
    void connectIsAnswered405AndNeverForwarded() {
        try (RawClient c = g.raw()) {
            c.send("CONNECT " + backend.address() + " HTTP/1.1\r\nHost: " + backend.address() + "\r\n\r\n");
            RawResponse r = c.readResponse(Duration.ofSeconds(5));
            assertThat(r.status()).isEqualTo(405);
            assertThat(r.header("gatehouse-reason")).isEqualTo("connect_not_supported");
        }
        assertThat(backend.requestCount()).as("requests at the endpoint").isZero();
        assertThat(backend.connectionsAccepted()).as("connections to the endpoint").isZero();
        assertThat(g.get("/after").statusCode()).as("the route serves other methods").isEqualTo(200);
        assertThat(backend.requestCount()).isEqualTo(1);
    }
}
