package io.gatehouse.cache;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestCertificates;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
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

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The disk tier behind the memory tier, in process, over real sockets (TLS; HTTP/1.1 and HTTP/2): a memory miss is
 * served from disk (read off the event loop, then promoted), and purges reach both tiers.
 */
class DiskTierTest {
    @RegisterExtension
    static final TestBackend origin = new TestBackend().name("origin");
    @TempDir
    static Path dir;
    static Gatehouse g;
    static HttpClient h1, h2;

    @BeforeAll
    static void start() throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority("Test CA");
        TestCertificates.PemFiles edge = ca.issue("edge", "localhost", "127.0.0.1").writeTo(dir, "edge");
        certs = edge;
        g = Gatehouse.start(config());
        h1 = HttpClient.newBuilder().version(Version.HTTP_1_1).sslContext(ca.trustingContext()).connectTimeout(Duration.ofSeconds(5)).build();
        h2 = HttpClient.newBuilder().version(Version.HTTP_2).sslContext(ca.trustingContext()).connectTimeout(Duration.ofSeconds(5)).build();
    }

    static TestCertificates.PemFiles certs;
    static long memorySize = 1 << 20;

    static io.gatehouse.config.GatehouseConfig config() throws Exception {
        return ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    tls:
                      certificates: [{cert: "%s", key: "%s"}]
                    routes:
                      - name: all
                        cluster: app
                        filters:
                          - cache: {x_cache: true, max_size: %d, max_object_size: 32KiB, disk: {path: "%s", max_size: 16MiB}}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(certs.cert(), certs.key(), memorySize, dir.resolve("cache"), origin.address()), "disk.yaml");
    }

    @AfterAll
    static void stop() {
        if (g != null) g.shutdown(Duration.ofSeconds(1));
    }

    static TestResponse object(RecordedRequest r) {
        return TestResponse.ok("x".repeat(20_000) + r.path()).header("cache-control", "max-age=3600")
                .header("surrogate-key", r.path().startsWith("/tagged") ? "t1" : "other");
    }

    HttpResponse<String> get(Version v, String path) throws Exception {
        URI uri = URI.create("https://127.0.0.1:" + g.listenerAddress("edge").getPort() + path);
        return (v == Version.HTTP_2 ? h2 : h1).send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static RouteCache cache() {
        return RouteCache.of(g.telemetry().metrics().registry()).get(0);
    }

    long originRequests(String path) {
        return origin.requests().stream().filter(r -> r.path().equals(path)).count();
    }

    /**
     * A reload with another memory size starts an empty memory tier on the same disk directory: what was stored
     * before is served from disk (read off the event loop), promoted to memory, and served from memory after that.
     */
    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void aMemoryMissIsServedFromDiskAndPromoted(Version v) throws Exception {
        origin.respond(DiskTierTest::object);
        String p = "/reloaded-" + v;
        assertThat(get(v, p).headers().firstValue("x-cache")).hasValue("MISS");
        await().atMost(Duration.ofSeconds(10)).until(() -> cache().store().disk().contains(key(p)));
        memorySize += 64 * 1024;
        g.reload(config());
        DiskStore disk = cache().store().disk();
        assertThat(cache().store().get(primary(p), "")).isNull();      // a new, empty memory tier
        assertThat(disk.contains(key(p))).isTrue();                    // the directory indexed again
        HttpResponse<String> r = get(v, p);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-cache")).hasValue("HIT");
        assertThat(r.body()).isEqualTo("x".repeat(20_000) + p);
        assertThat(disk.hits()).isEqualTo(1);
        assertThat(originRequests(p)).isEqualTo(1);
        assertThat(cache().store().get(primary(p), "")).isNotNull();   // promoted
        assertThat(get(v, p).headers().firstValue("x-cache")).hasValue("HIT");
        assertThat(disk.hits()).isEqualTo(1);                          // the second hit came from memory
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void purgesReachBothTiers(Version v) throws Exception {
        origin.respond(DiskTierTest::object);
        String hard = "/tagged-hard-" + v, soft = "/soft-" + v;
        get(v, hard);
        get(v, soft);
        DiskStore disk = cache().store().disk();
        await().atMost(Duration.ofSeconds(10)).until(() -> disk.contains(key(hard)) && disk.contains(key(soft)));
        assertThat(cache().store().purgeTag("t1", false)).isGreaterThanOrEqualTo(1);
        assertThat(disk.contains(key(hard))).isFalse();
        assertThat(get(v, hard).headers().firstValue("x-cache")).hasValue("MISS");
        assertThat(originRequests(hard)).isEqualTo(2);

        String url = primary(soft);
        assertThat(cache().store().purgeUrl(url, true)).isEqualTo(1);
        assertThat(disk.contains(key(soft))).isTrue();                 // soft: kept, but validated before reuse
        assertThat(get(v, soft).headers().firstValue("x-cache")).hasValue("EXPIRED");
        assertThat(originRequests(soft)).isEqualTo(2);
    }

    /**
     * A chunked response that outgrows max_object_size after its disk copy started: the client gets it whole, and the
     * .tmp file its first bytes went to is deleted (nothing of it is left on disk).
     */
    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void aResponseThatTurnsOutTooBigLeavesNoTmpFile(Version v) throws Exception {
        String path = "/too-big-chunked-" + v;
        origin.respond(r -> TestResponse.ok().header("cache-control", "max-age=3600").generatedBody(200_000).chunked()
                .dripBody(8192, Duration.ofMillis(5)));
        URI uri = URI.create("https://127.0.0.1:" + g.listenerAddress("edge").getPort() + path);
        HttpResponse<byte[]> r = (v == Version.HTTP_2 ? h2 : h1).send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.body()).hasSize(200_000);
        assertThat(r.headers().firstValue("cache-status").orElseThrow()).doesNotContain("stored");
        Path route = dir.resolve("cache").resolve("edge.all");
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try (var files = java.nio.file.Files.list(route)) {
                return files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp"));
            }
        });
        assertThat(cache().store().disk().contains(key(path))).isFalse();
        assertThat(get(v, path).headers().firstValue("x-cache")).hasValue("MISS");
    }

    /** The key's primary part (the host without its port, as the cache key takes it). */
    String primary(String path) {
        return "https://127.0.0.1" + path;
    }

    String key(String path) {
        return primary(path) + '\0';
    }
}
