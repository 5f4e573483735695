package io.gatehouse.cache;

import io.gatehouse.Gatehouse;
import io.gatehouse.clock.ManualClock;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import io.gatehouse.testing.TestCertificates;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpClient.Version;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tiered caching with three real Gatehouse instances: two edges with caches whose cluster is a shield Gatehouse with
 * a cache, whose cluster is the counted origin. Each object reaches the origin once for the whole fleet; {@code Age}
 * at an edge is the shield's Age plus the edge's own resident time (RFC 9111 §4.2.3); {@code Cache-Status} lists the
 * shield, then the edge (RFC 9211); the edges and the shield compute the same cache key. One clock for all three.
 */
class CacheShieldTest {
    @RegisterExtension
    static final TestBackend origin = new TestBackend().name("origin");
    static final ManualClock clock = new ManualClock(Instant.parse("2026-12-01T00:00:00Z"));
    static Gatehouse shield, edge1, edge2;
    static HttpClient h1, h2;

    @TempDir
    static Path dir;
    static TestCertificates.PemFiles certs;
    static Path caFile;

    /** A TLS listener (so clients speak HTTP/2 by ALPN); the edges reach the shield over TLS too, so all see https. */
    static String yaml(String status, String upstream, boolean tlsUpstream) {
        return """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    tls:
                      certificates: [{cert: "%s", key: "%s"}]
                    routes:
                      - name: all
                        cluster: up
                        filters:
                          - cache: {status_name: %s, x_cache: true}
                clusters:
                  - name: up
                    endpoints: ["%s"]
                %s
                admin: {address: "off"}
                """.formatted(certs.cert(), certs.key(), status, upstream,
                tlsUpstream ? "    tls: {ca: \"" + caFile + "\", server_name: localhost}" : "");
    }

    @BeforeAll
    static void start() throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority("Test CA");
        certs = ca.issue("gatehouse", "localhost", "127.0.0.1").writeTo(dir, "gatehouse");
        caFile = ca.writeCertificate(dir.resolve("ca.pem"));
        shield = Gatehouse.start(ConfigLoader.parse(yaml("shield", origin.address(), false), "shield.yaml"), clock);
        String shieldAddress = "127.0.0.1:" + shield.listenerAddress("edge").getPort();
        edge1 = Gatehouse.start(ConfigLoader.parse(yaml("edge1", shieldAddress, true), "edge1.yaml"), clock);
        edge2 = Gatehouse.start(ConfigLoader.parse(yaml("edge2", shieldAddress, true), "edge2.yaml"), clock);
        h1 = HttpClient.newBuilder().version(Version.HTTP_1_1).sslContext(ca.trustingContext()).connectTimeout(Duration.ofSeconds(5)).build();
        h2 = HttpClient.newBuilder().version(Version.HTTP_2).sslContext(ca.trustingContext()).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        for (Gatehouse g : new Gatehouse[]{edge1, edge2, shield}) if (g != null) g.shutdown(Duration.ofSeconds(1));
    }

    static TestResponse respond(RecordedRequest r) {
        String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(Instant.ofEpochMilli(clock.currentTimeMillis()).atZone(ZoneOffset.UTC));
        return TestResponse.ok("object " + r.path()).header("cache-control", "max-age=600").header("date", date);
    }

    static HttpResponse<String> get(Version v, Gatehouse g, String path) throws Exception {
        URI uri = URI.create("https://127.0.0.1:" + g.listenerAddress("edge").getPort() + path);
        HttpResponse<String> r = (v == Version.HTTP_2 ? h2 : h1).send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(v);
        return r;
    }

    static long originRequests(String path) {
        return origin.requests().stream().filter(r -> r.path().equals(path)).count();
    }

    static String status(HttpResponse<?> r) {
        return String.join(", ", r.headers().allValues("cache-status"));
    }

    static long age(HttpResponse<?> r) {
        return r.headers().firstValueAsLong("age").orElse(-1);
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void theFleetHitsTheOriginOncePerObjectWithAgeAndCacheStatusCarried(Version v) throws Exception {
        origin.respond(CacheShieldTest::respond);
        String p = "/tiered-" + v + "?b=2&a=1";

        HttpResponse<String> first = get(v, edge1, p);
        assertThat(first.body()).isEqualTo("object /tiered-" + v);
        assertThat(status(first)).matches("shield; fwd=uri-miss; fwd-status=200; stored, edge1; fwd=uri-miss; fwd-status=200; stored");
        assertThat(first.headers().firstValue("age")).isEmpty();   // generated by the origin for this request (§5.1)

        clock.advance(10, TimeUnit.SECONDS);
        HttpResponse<String> second = get(v, edge2, p);
        assertThat(second.body()).isEqualTo("object /tiered-" + v);
        assertThat(status(second)).matches("shield; hit; ttl=590, edge2; fwd=uri-miss; fwd-status=200; stored");
        assertThat(age(second)).isEqualTo(10);
        assertThat(originRequests("/tiered-" + v)).isEqualTo(1);

        clock.advance(5, TimeUnit.SECONDS);
        HttpResponse<String> fromEdge2 = get(v, edge2, p);
        // the shield's 10 s when edge2 got it, plus 5 s resident at edge2
        assertThat(age(fromEdge2)).isEqualTo(15);
        assertThat(status(fromEdge2)).endsWith("edge2; hit; ttl=585");
        HttpResponse<String> fromEdge1 = get(v, edge1, p);
        assertThat(age(fromEdge1)).isEqualTo(15);
        assertThat(status(fromEdge1)).endsWith("edge1; hit; ttl=585");
        // the same key at both tiers: the query sorted the same way, so the other order is the same object everywhere
        HttpResponse<String> reordered = get(v, edge2, "/tiered-" + v + "?a=1&b=2");
        assertThat(status(reordered)).endsWith("edge2; hit; ttl=585");
        assertThat(get(v, shield, "/tiered-" + v + "?a=1&b=2").headers().firstValue("x-cache")).hasValue("HIT");
        assertThat(originRequests("/tiered-" + v)).isEqualTo(1);
    }
}
