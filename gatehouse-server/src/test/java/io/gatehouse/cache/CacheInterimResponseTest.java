package io.gatehouse.cache;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 1xx interim responses through the {@code cache} filter, seen on the wire: a raw HTTP/1.1 socket, since the JDK
 * client hides 1xx. The origin's {@code 103 Early Hints} reaches the client before the final response of a miss, and
 * is not stored: a hit is the final response alone.
 */
class CacheInterimResponseTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    @RegisterExtension
    static final TestBackend origin = new TestBackend().name("origin");
    static GatehouseFixture g;

    @BeforeAll
    static void start() {
        g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: site
                        cluster: app
                        filters: [cache: {x_cache: true}]
                clusters:
                  - name: app
                    endpoints: ["%s"]
                """.formatted(origin.address()));
    }

    @AfterAll
    static void stop() {
        if (g != null) g.close();
    }

    @Test
    void earlyHintsAreForwardedOnAMissAndNeverServedFromTheStore() {
        origin.respond(r -> TestResponse.ok("final").header("cache-control", "max-age=60")
                .interim(103, "link", "</s.css>; rel=preload"));
        try (RawClient client = g.raw()) {
            client.send("GET /early HTTP/1.1\r\nHost: a.example\r\n\r\n");
            RawResponse hints = client.readResponse(WAIT);
            assertThat(hints.status()).isEqualTo(103);
            assertThat(hints.header("link")).isEqualTo("</s.css>; rel=preload");
            assertThat(hints.header("x-cache")).isNull();   // the cache labels only the final response
            RawResponse miss = client.readResponse(WAIT);
            assertThat(miss.status()).isEqualTo(200);
            assertThat(miss.bodyAsString()).isEqualTo("final");
            assertThat(miss.header("x-cache")).isEqualTo("MISS");

            // the same connection again: the stored response alone, without the hints
            client.send("GET /early HTTP/1.1\r\nHost: a.example\r\n\r\n");
            RawResponse hit = client.readResponse(WAIT);
            assertThat(hit.status()).isEqualTo(200);
            assertThat(hit.bodyAsString()).isEqualTo("final");
            assertThat(hit.header("x-cache")).isEqualTo("HIT");
            assertThat(hit.header("link")).isNull();
        }
        assertThat(origin.requests()).hasSize(1);
    }
}
