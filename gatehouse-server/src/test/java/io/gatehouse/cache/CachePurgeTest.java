package io.gatehouse.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.Protocol;
import io.gatehouse.testing.RecordedRequest;
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
import java.util.List;

import static io.gatehouse.cache.CacheEdge.header;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Purge over real sockets on HTTP/1.1 and HTTP/2: by {@code Cache-Tag} through the admin API, and the {@code PURGE}
 * method, which only addresses in {@code purge_from} may send. The client's address is the listener's model of it:
 * the peer, or the {@code X-Forwarded-For} hop a trusted proxy (here 127.0.0.1) names. So 127.0.0.1 itself, outside
 * {@code purge_from: [10.0.0.0/8]}, is refused, and a request a trusted proxy forwards for 10.1.2.3 is allowed.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Protocol.class)
class CachePurgeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient adminClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @RegisterExtension
    static final TestBackend origin = new TestBackend().name("origin");
    static CacheEdge edge;
    @Parameter
    Protocol protocol;

    @BeforeEach
    void startFor() {
        if (edge != null && edge.protocol == protocol) return;
        stop();
        edge = CacheEdge.start(protocol, """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    {tls}
                    proxy_headers: {trusted_proxies: [127.0.0.1/32]}
                    routes:
                      - name: site
                        cluster: app
                        filters: [cache: {x_cache: true, purge_from: [10.0.0.0/8]}]
                clusters:
                  - name: app
                    endpoints: ["%s"]
                admin: {address: "127.0.0.1:0", token: s3cret}
                """.formatted(origin.address()), null);
    }

    @AfterAll
    static void stop() {
        if (edge != null) edge.close();
        edge = null;
    }

    static JsonNode adminPurge(String body) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.gatehouse.adminAddress().getPort() + "/cache/purge"))
                .timeout(Duration.ofSeconds(10)).header("authorization", "Bearer s3cret").header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<String> response = adminClient.send(r, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    static List<RecordedRequest> recorded(String path) {
        return origin.requests().stream().filter(r -> r.path().equals(path)).toList();
    }

    @Test
    void cacheTagValuesArePurgedByTag() throws Exception {
        origin.respond(r -> TestResponse.ok("body of " + r.path()).header("cache-control", "max-age=600").header("cache-tag", switch (r.path()) {
            case "/t/1" -> "product-1, sale";
            case "/t/2" -> "product-2,sale";
            default -> "other";
        }));
        for (String p : List.of("/t/1", "/t/2", "/t/3")) {
            assertThat(edge.xCache(p)).isEqualTo("MISS");
            HttpResponse<String> hit = edge.get(p);
            assertThat(header(hit, "x-cache")).isEqualTo("HIT");
            assertThat(hit.headers().firstValue("cache-tag")).isEmpty();   // the tags are the cache's, not the client's
        }
        assertThat(adminPurge("{\"tag\": \"sale\"}").get("purged").asInt()).isEqualTo(2);
        assertThat(edge.xCache("/t/1")).isEqualTo("MISS");
        assertThat(edge.xCache("/t/2")).isEqualTo("MISS");
        assertThat(edge.xCache("/t/3")).isEqualTo("HIT");
        assertThat(adminPurge("{\"tag\": \"product-2\"}").get("purged").asInt()).isEqualTo(1);
        assertThat(edge.xCache("/t/2")).isEqualTo("MISS");
        assertThat(edge.xCache("/t/1")).isEqualTo("HIT");
        assertThat(adminPurge("{\"tag\": \"sale, product-1\"}").get("purged").asInt()).isZero();   // one tag, not a list
        assertThat(recorded("/t/1")).hasSize(2);
        assertThat(recorded("/t/2")).hasSize(3);
        assertThat(recorded("/t/3")).hasSize(1);
    }

    @Test
    void purgeFromAnAddressOutsidePurgeFromIsRefusedAndPurgesNothing() {
        String p = "/guarded";
        origin.respond(r -> TestResponse.ok("kept").header("cache-control", "max-age=600"));
        edge.get(p);
        HttpResponse<String> refused = edge.send("PURGE", p);
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(header(refused, "content-type")).isEqualTo("application/problem+json");
        assertThat(refused.body()).contains("purge_not_allowed");
        HttpResponse<String> forwardedForOutsider = edge.send("PURGE", p, "x-forwarded-for", "192.168.7.7");
        assertThat(forwardedForOutsider.statusCode()).isEqualTo(403);
        // what a client writes on the left of X-Forwarded-For is its own claim: the trusted proxy's hop is the right one
        assertThat(edge.send("PURGE", p, "x-forwarded-for", "10.9.9.9, 192.168.7.7").statusCode()).isEqualTo(403);
        assertThat(edge.xCache(p)).isEqualTo("HIT");
        assertThat(recorded(p)).hasSize(1);   // no PURGE reached the origin either

        HttpResponse<String> allowed = edge.send("PURGE", p, "x-forwarded-for", "10.1.2.3");
        assertThat(allowed.statusCode()).isEqualTo(200);
        assertThat(allowed.body()).contains("\"purged\":1", "\"soft\":false");
        assertThat(edge.xCache(p)).isEqualTo("MISS");
        assertThat(recorded(p)).hasSize(2);
    }

    @Test
    void aSoftPurgeMarksStaleSoTheNextRequestRevalidates() {
        String p = "/soft";
        origin.respond(r -> r.header("if-none-match") != null ? TestResponse.status(304).header("cache-control", "max-age=600")
                : TestResponse.ok("soft body").header("cache-control", "max-age=600").header("etag", "\"s1\""));
        edge.get(p);
        assertThat(edge.xCache(p)).isEqualTo("HIT");
        HttpResponse<String> purged = edge.send("PURGE", p, "x-forwarded-for", "10.1.2.3", "gatehouse-purge", "soft");
        assertThat(purged.statusCode()).isEqualTo(200);
        assertThat(purged.body()).contains("\"purged\":1", "\"soft\":true");
        HttpResponse<String> next = edge.get(p);
        assertThat(header(next, "x-cache")).isEqualTo("REVALIDATED");   // kept, but validated before reuse
        assertThat(next.body()).isEqualTo("soft body");
        assertThat(recorded(p)).hasSize(2);
        assertThat(recorded(p).get(1).header("if-none-match")).isEqualTo("\"s1\"");
        assertThat(edge.xCache(p)).isEqualTo("HIT");
        assertThat(recorded(p)).hasSize(2);
    }
}
