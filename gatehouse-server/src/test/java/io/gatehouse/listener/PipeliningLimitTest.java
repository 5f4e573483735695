package io.gatehouse.listener;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class PipeliningLimitTest {
    @RegisterExtension
    final TestBackend backend = new TestBackend().name("b");

    @Test
    void answersPipelinedRequestsWithinTheLimitThenCloses() {
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    limits: { max_pipelined: 2 }
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                """.formatted(backend.address()));
             RawClient c = g.raw()) {
            StringBuilder five = new StringBuilder();
            for (int i = 1; i <= 5; i++) five.append("GET /").append(i).append(" HTTP/1.1\r\nHost: t\r\n\r\n");
            c.send(five.toString());
            // one served at once + two queued behind it; the last answer announces the close
            for (int i = 1; i <= 3; i++) {
                RawResponse r = c.readResponse(Duration.ofSeconds(5));
                assertThat(r.status()).isEqualTo(200);
                if (i == 3) assertThat(r.header("connection")).isEqualToIgnoringCase("close");
            }
            assertThat(c.isClosedByPeer(Duration.ofSeconds(5))).isTrue();
            assertThat(backend.requests()).extracting(req -> req.uri()).containsExactly("/1", "/2", "/3");
        }
    }
}
