package io.gatehouse.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.Protocol;
import io.gatehouse.clock.ManualClock;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.gatehouse.cache.CacheEdge.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The cache's {@code stale served} and {@code evictions} figures after real traffic on HTTP/1.1 and HTTP/2, read
 * where operators read them: the admin API's {@code GET /cache} (what the dashboard's Cache panel renders) and the
 * Prometheus {@code GET /metrics}.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Protocol.class)
class CacheMetersTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient adminClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @RegisterExtension
    static final TestBackend origin = new TestBackend().name("origin");
    static CacheEdge edge;
    static ManualClock clock;
    @Parameter
    Protocol protocol;

    @BeforeEach
    void startFor() {
        if (edge != null && edge.protocol == protocol) return;
        stop();
        clock = new ManualClock();
        edge = CacheEdge.start(protocol, """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    {tls}
                    routes:
                      - {name: tiny, match: {path_prefix: /tiny}, cluster: app, filters: [cache: {x_cache: true, max_size: 4KiB, max_object_size: 1KiB}]}
                      - {name: stale, match: {path_prefix: /}, cluster: app, filters: [cache: {x_cache: true}]}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                admin: {address: "127.0.0.1:0"}
                """.formatted(origin.address()), clock);
    }

    @AfterAll
    static void stop() {
        if (edge != null) edge.close();
        edge = null;
    }

    static String admin(String path) throws Exception {
        HttpResponse<String> r = adminClient.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.gatehouse.adminAddress().getPort() + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    static JsonNode routeStats(String route) throws Exception {
        for (JsonNode r : JSON.readTree(admin("/cache")).get("routes")) if (r.get("route").asText().equals(route)) return r;
        throw new AssertionError("no cache stats for route " + route);
    }

    /** The value of a Prometheus sample of {@code metric} for the route (listener edge). */
    static double prometheus(String metric, String route) throws Exception {
        Matcher m = Pattern.compile("(?m)^" + metric + "\\{([^}]*)} (\\S+)$").matcher(admin("/metrics"));
        while (m.find()) {
            if (m.group(1).contains("route=\"" + route + "\"") && m.group(1).contains("listener=\"edge\"")) return Double.parseDouble(m.group(2));
        }
        throw new AssertionError("no " + metric + " for route " + route);
    }

    @Test
    void aStaleAnswerIsCountedAsStaleServed() throws Exception {
        assertThat(routeStats("stale").get("stale_served").asLong()).isZero();
        origin.respond(r -> TestResponse.ok("good").header("cache-control", "max-age=10, stale-if-error=60"));
        edge.get("/s");
        clock.advance(Duration.ofSeconds(11));
        origin.respond(r -> TestResponse.status(503));
        HttpResponse<String> stale = edge.get("/s");
        assertThat(header(stale, "x-cache")).isEqualTo("STALE");
        // a max-stale request is answered stale from the store too
        HttpResponse<String> accepted = edge.get("/s", "cache-control", "max-stale=30");
        assertThat(header(accepted, "x-cache")).isEqualTo("STALE");
        assertThat(accepted.body()).isEqualTo("good");

        JsonNode stats = routeStats("stale");
        assertThat(stats.get("stale_served").asLong()).isEqualTo(2);
        assertThat(stats.get("stale").asLong()).isEqualTo(2);
        assertThat(prometheus("gatehouse_cache_stale_served_total", "stale")).isEqualTo(2.0);
        assertThat(routeStats("tiny").get("stale_served").asLong()).isZero();
    }

    @Test
    void fillingATinyMemoryTierCountsEvictions() throws Exception {
        assertThat(routeStats("tiny").get("evictions").asLong()).isZero();
        origin.respond(r -> TestResponse.ok("x".repeat(900)).header("cache-control", "max-age=600"));
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = edge.get("/tiny/" + i);
            assertThat(r.body()).hasSize(900);
        }
        // 20 objects of 900 bytes into 4 KiB: at most four stay, so at least sixteen went
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode stats = routeStats("tiny");
            assertThat(stats.get("entries").asLong()).isLessThanOrEqualTo(4);
            assertThat(stats.get("bytes").asLong()).isLessThanOrEqualTo(4096);
            assertThat(stats.get("evictions").asLong()).isGreaterThanOrEqualTo(16);
        });
        long evictions = routeStats("tiny").get("evictions").asLong();
        assertThat(prometheus("gatehouse_cache_evictions_total", "tiny")).isEqualTo((double) evictions);
        assertThat(routeStats("stale").get("evictions").asLong()).isZero();
    }
}
