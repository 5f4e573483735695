package io.gatehouse.proxy;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code Expect: 100-continue} the endpoint refuses: its final answer reaches the client before any body, the body the
 * client may still send is never taken for a request of its own, and nothing of it reaches the endpoint.
 */
class ExpectContinueTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final TestBackend backend = new TestBackend().name("origin");
    private static GatehouseFixture gatehouse;

    @BeforeAll
    static void start() {
        backend.start();
        gatehouse = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [{name: all, cluster: app, retries: {attempts: 0}}]
                clusters: [{name: app, endpoints: ["%s"]}]
                """.formatted(backend.address()));
    }

    @AfterAll
    static void stop() {
        gatehouse.close();
        backend.close();
    }

    @BeforeEach
    void reset() {
        backend.reset();
    }

    @Test
    void a417FromTheEndpointIsTheAnswerAndTheUnsentBodyIsNeverARequest() {
        backend.rejectExpectContinue();
        String smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
        try (RawClient client = gatehouse.raw()) {
            client.send("POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: "
                    + smuggled.length() + "\r\n\r\n");
            RawResponse answer = client.readResponse(WAIT);
            assertThat(answer.status()).isEqualTo(417);
            // the client sends its body anyway (it may not have waited): it must not become a request
            client.send(smuggled);
            assertThat(client.isClosedByPeer(WAIT)).as("the connection closes: the body's framing is unknown now").isTrue();
        }
        assertThat(backend.requests()).extracting(r -> r.path()).doesNotContain("/smuggled");
        assertThat(backend.requests()).allSatisfy(r -> assertThat(r.bodyAsString()).isEmpty());
    }
}
