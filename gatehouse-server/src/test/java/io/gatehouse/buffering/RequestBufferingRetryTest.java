package io.gatehouse.buffering;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A body {@code buffer_request} holds is replayed on a retry whatever its size; without it, a body over the proxy's
 * replay window (64 KiB) cannot be sent twice and the 503 stands. On HTTP/1.1 and on HTTP/2 (TLS, ALPN h2).
 */
@org.junit.jupiter.params.ParameterizedClass(name = "{0}")
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class RequestBufferingRetryTest {
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol protocol;

    @RegisterExtension
    static final TestBackend refusing = new TestBackend().name("refusing");
    @RegisterExtension
    static final TestBackend accepting = new TestBackend().name("accepting");

    private HttpResponse<String> upload(String filters) throws Exception {
        refusing.respond(r -> TestResponse.status(503));
        accepting.respond(r -> TestResponse.ok("got " + r.bodySize()));
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: upload
                        cluster: pair
                        retries: {attempts: 1, on: [503], non_idempotent: true}
                        %s
                clusters:
                  - name: pair
                    endpoints: ["%s", "%s"]
                    load_balancer: {policy: round_robin}
                """.formatted(protocol.listenerTls(), filters, refusing.address(), accepting.address()))) {
            byte[] body = new byte[300_000];
            Arrays.fill(body, (byte) 'x');
            HttpResponse<String> last = null;
            // round robin: one of the first two uploads starts on the refusing endpoint
            for (int i = 0; i < 2; i++) {
                last = protocol.client().send(HttpRequest.newBuilder(protocol.uri(g.address().getPort(), "/upload"))
                        .timeout(Duration.ofSeconds(10))
                        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(last.version()).isEqualTo(protocol.version());
                if (refusing.requestCount() > 0) break;
            }
            assertThat(refusing.requestCount()).isEqualTo(1);
            return last;
        }
    }

    @Test
    void aBufferedBodyIsSentAgainToTheNextEndpoint() throws Exception {
        HttpResponse<String> r = upload("filters: [{buffer_request: {max_size: 1MiB}}]");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("got 300000");
    }

    @Test
    void aStreamedBodyOverTheReplayWindowIsNot() throws Exception {
        HttpResponse<String> r = upload("");
        assertThat(r.statusCode()).isEqualTo(503);
    }
}
