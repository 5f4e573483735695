package io.gatehouse.listener;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** A client that shuts its output after the request still gets the response, then the connection closes. */
class HalfCloseTest {
    @RegisterExtension
    final TestBackend backend = new TestBackend().name("b");

    @Test
    void answersAClientThatHalfClosesAfterItsRequest() {
        backend.respond(req -> TestResponse.ok("late answer").delayHeaders(Duration.ofMillis(200)));
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                """.formatted(backend.address()));
             RawClient c = g.raw()) {
            c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n").shutdownOutput();
            RawResponse r = c.readResponse(Duration.ofSeconds(5));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyAsString()).isEqualTo("late answer");
            assertThat(r.header("connection")).isEqualToIgnoringCase("close");
            assertThat(c.isClosedByPeer(Duration.ofSeconds(5))).isTrue();
        }
    }
}
