package io.gatehouse.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Purge through the admin API (URL, prefix, tag; soft and hard) and the figures it shows, over real sockets. */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class CacheAdminTest {
    @RegisterExtension
    static final TestBackend origin = new TestBackend().name("origin");
    static GatehouseFixture g;
    static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() {
        g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: site
                        cluster: app
                        filters:
                          - cache: {x_cache: true}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                admin: {address: "127.0.0.1:0", token: s3cret}
                """.formatted(origin.address()));
    }

    @AfterAll
    static void stop() {
        if (g != null) g.close();
    }

    static HttpResponse<String> admin(String method, String path, String body) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.gatehouse().adminAddress().getPort() + path))
                .timeout(Duration.ofSeconds(10)).header("authorization", "Bearer s3cret").header("content-type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build();
        return client.send(r, HttpResponse.BodyHandlers.ofString());
    }

    static String xCache(String path) {
        return g.get(path).headers().firstValue("x-cache").orElse(null);
    }

    @Test
    @org.junit.jupiter.api.Order(1)   // its figures count from a fresh start
    void purgeByUrlTagAndPrefixHardAndSoftAndTheFigures() throws Exception {
        origin.respond(r -> {
            if (r.header("if-none-match") != null) return TestResponse.status(304);
            return TestResponse.ok("body of " + r.path()).header("cache-control", "max-age=600").header("etag", "\"x\"")
                    .header("surrogate-key", r.path().startsWith("/products") ? "products p" + r.path().length() : "other");
        });
        for (String p : new String[]{"/a?y=2&x=1", "/products/1", "/products/22", "/img/1", "/img/2"}) {
            assertThat(xCache(p)).isEqualTo("MISS");
            assertThat(xCache(p)).isEqualTo("HIT");
        }
        assertThat(g.get("/products/1").headers().firstValue("surrogate-key")).isEmpty();

        // one URL: the query as the key normalises it (sorted)
        HttpResponse<String> url = admin("POST", "/cache/purge", "{\"url\": \"http://127.0.0.1/a?x=1&y=2\"}");
        assertThat(url.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(url.body()).get("purged").asInt()).isEqualTo(1);
        assertThat(xCache("/a?y=2&x=1")).isEqualTo("MISS");

        // a tag (Surrogate-Key), hard
        assertThat(JSON.readTree(admin("POST", "/cache/purge", "{\"tag\": \"products\"}").body()).get("purged").asInt()).isEqualTo(2);
        assertThat(xCache("/products/1")).isEqualTo("MISS");

        // a prefix, soft: marked stale, validated before reuse (304: the body does not cross again)
        int before = origin.requestCount();
        assertThat(JSON.readTree(admin("POST", "/cache/purge", "{\"prefix\": \"http://127.0.0.1/img/\", \"soft\": true}").body())
                .get("purged").asInt()).isEqualTo(2);
        assertThat(xCache("/img/1")).isEqualTo("REVALIDATED");
        assertThat(origin.requests().get(before).header("if-none-match")).isEqualTo("\"x\"");
        assertThat(xCache("/img/1")).isEqualTo("HIT");

        HttpResponse<String> bad = admin("POST", "/cache/purge", "{\"url\": \"/relative\"}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.headers().firstValue("content-type")).hasValue("application/problem+json");
        assertThat(admin("POST", "/cache/purge", "{\"tag\": \"a\", \"url\": \"http://h/\"}").statusCode()).isEqualTo(400);
        assertThat(admin("GET", "/cache/purge", null).statusCode()).isEqualTo(405);

        JsonNode stats = JSON.readTree(admin("GET", "/cache", null).body()).get("routes").get(0);
        assertThat(stats.get("route").asText()).isEqualTo("site");
        assertThat(stats.get("hits").asLong()).isEqualTo(7);
        assertThat(stats.get("misses").asLong()).isEqualTo(7);
        assertThat(stats.get("revalidated").asLong()).isEqualTo(1);
        assertThat(stats.get("entries").asLong()).isEqualTo(4);   // /products/22 was purged and not asked for again
        assertThat(stats.get("hit_bytes").asLong()).isGreaterThan(0);
        var meters = g.gatehouse().telemetry().metrics().registry();
        assertThat(meters.get("gatehouse.cache.requests").tag("route", "site").tag("result", "hit").counter().count()).isEqualTo(7);
        assertThat(meters.get("gatehouse.cache.origin.saved").tag("route", "site").counter().count()).isEqualTo(8);
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void theStoreOutlivesAReloadThatKeepsTheRoute() throws Exception {
        origin.respond(r -> TestResponse.ok("kept").header("cache-control", "max-age=600"));
        assertThat(xCache("/reload-me")).isEqualTo("MISS");
        var config = g.gatehouse().config();
        g.gatehouse().reload(io.gatehouse.config.ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:%d
                    routes:
                      - name: site
                        cluster: app
                        filters:
                          - cache: {x_cache: true, status_name: edge-1}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                admin: {address: "127.0.0.1:%d", token: s3cret}
                """.formatted(g.address().getPort(), origin.address(), g.gatehouse().adminAddress().getPort()), "reload.yaml"));
        HttpResponse<String> after = g.get("/reload-me");
        assertThat(after.headers().firstValue("x-cache")).hasValue("HIT");
        assertThat(after.headers().firstValue("cache-status").orElseThrow()).startsWith("edge-1; hit");
        assertThat(config).isNotSameAs(g.gatehouse().config());
    }
}
