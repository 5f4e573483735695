package io.gatehouse.cache;

import io.gatehouse.Gatehouse;
import io.gatehouse.clock.ManualClock;
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
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code cache} filter over real sockets (TLS; HTTP/1.1 and HTTP/2 by ALPN) against an origin the test scripts
 * and counts requests on; time moved with a {@link ManualClock}. Each test uses its own paths (the cache lives as
 * long as the class's Gatehouse).
 */
class CacheFilterTest {
    @RegisterExtension
    static final TestBackend origin = new TestBackend().name("origin");
    @TempDir
    static Path dir;
    static final ManualClock clock = new ManualClock();
    static Gatehouse g;
    static HttpClient h1, h2;

    @BeforeAll
    static void start() throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority("Test CA");
        TestCertificates.PemFiles edge = ca.issue("edge", "localhost", "127.0.0.1").writeTo(dir, "edge");
        g = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    tls:
                      certificates: [{cert: "%s", key: "%s"}]
                    routes:
                      - name: stale
                        match: {path_prefix: /stale}
                        cluster: app
                        filters:
                          - cache: {stale_on_error: 1h, x_cache: true}
                      - name: small
                        match: {path_prefix: /small}
                        cluster: app
                        filters:
                          - cache: {max_object_size: 1KiB, x_cache: true}
                      - name: cdn
                        match: {path_prefix: /}
                        cluster: app
                        filters:
                          - cache: {x_cache: true, purge_from: [127.0.0.1/32], bypass: ["cookie:session"]}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(edge.cert(), edge.key(), origin.address()), "cache.yaml"), clock);
        h1 = HttpClient.newBuilder().version(Version.HTTP_1_1).sslContext(ca.trustingContext()).connectTimeout(Duration.ofSeconds(5)).build();
        h2 = HttpClient.newBuilder().version(Version.HTTP_2).sslContext(ca.trustingContext()).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        if (g != null) g.shutdown(Duration.ofSeconds(1));
    }

    static HttpResponse<String> send(Version v, String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://localhost:" + g.listenerAddress("edge").getPort() + path))
                .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        HttpResponse<String> r = (v == Version.HTTP_2 ? h2 : h1).send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(v);
        return r;
    }

    static HttpResponse<String> get(Version v, String path, String... headers) throws Exception {
        return send(v, "GET", path, headers);
    }

    static long originRequests(String path) {
        return origin.requests().stream().filter(r -> r.path().equals(path)).count();
    }

    static List<RecordedRequest> recorded(String path) {
        return origin.requests().stream().filter(r -> r.path().equals(path)).toList();
    }

    static String header(HttpResponse<?> r, String name) {
        return r.headers().firstValue(name).orElse(null);
    }

    static void respond(Function<RecordedRequest, TestResponse> f) {
        origin.respond(f);
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void aMissIsStoredThenHitsThenIsValidatedWith304(Version v) throws Exception {
        String p = "/a-" + v;
        respond(r -> r.header("if-none-match") != null && r.header("if-none-match").equals("\"e1\"")
                ? TestResponse.status(304).header("cache-control", "max-age=60").header("x-new", "1")
                : TestResponse.ok("v1").header("cache-control", "max-age=60").header("etag", "\"e1\""));
        HttpResponse<String> miss = get(v, p);
        assertThat(miss.body()).isEqualTo("v1");
        assertThat(header(miss, "x-cache")).isEqualTo("MISS");
        assertThat(header(miss, "cache-status")).isEqualTo("gatehouse; fwd=uri-miss; fwd-status=200; stored");
        HttpResponse<String> hit = get(v, p);
        assertThat(hit.body()).isEqualTo("v1");
        assertThat(header(hit, "x-cache")).isEqualTo("HIT");
        assertThat(header(hit, "cache-status")).startsWith("gatehouse; hit; ttl=");
        assertThat(header(hit, "age")).isEqualTo("0");
        assertThat(originRequests(p)).isEqualTo(1);

        clock.advance(Duration.ofSeconds(30));
        assertThat(header(get(v, p), "age")).isEqualTo("30");

        clock.advance(Duration.ofSeconds(31));
        HttpResponse<String> validated = get(v, p);
        assertThat(validated.statusCode()).isEqualTo(200);
        assertThat(validated.body()).isEqualTo("v1");
        assertThat(header(validated, "x-new")).isEqualTo("1");
        assertThat(header(validated, "x-cache")).isEqualTo("REVALIDATED");
        assertThat(header(validated, "cache-status")).isEqualTo("gatehouse; fwd=stale; fwd-status=304");
        assertThat(recorded(p)).hasSize(2);
        assertThat(recorded(p).get(1).header("if-none-match")).isEqualTo("\"e1\"");

        // the client's own conditional, answered here with weak comparison
        HttpResponse<String> notModified = get(v, p, "if-none-match", "W/\"e1\"");
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(header(notModified, "etag")).isEqualTo("\"e1\"");
        assertThat(get(v, p, "if-none-match", "\"other\"").statusCode()).isEqualTo(200);
        assertThat(originRequests(p)).isEqualTo(2);
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void headIsAnsweredFromTheStoredGet(Version v) throws Exception {
        String p = "/head-" + v;
        respond(r -> TestResponse.ok("hello").header("cache-control", "max-age=60"));
        get(v, p);
        HttpResponse<String> head = send(v, "HEAD", p);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(header(head, "content-length")).isEqualTo("5");
        assertThat(header(head, "x-cache")).isEqualTo("HIT");
        assertThat(originRequests(p)).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void unsafeMethodsInvalidateTheTargetAndSameOriginLocationsUnlessTheyFail(Version v) throws Exception {
        String p = "/c-" + v, other = "/c2-" + v;
        respond(r -> switch (r.method()) {
            case "GET" -> TestResponse.ok("doc").header("cache-control", "max-age=600");
            case "DELETE" -> TestResponse.status(500);
            default -> TestResponse.ok("done").header("location", other);
        });
        get(v, p);
        get(v, other);
        get(v, p);
        get(v, other);
        assertThat(originRequests(p)).isEqualTo(1);
        assertThat(originRequests(other)).isEqualTo(1);
        send(v, "DELETE", p);                 // an error answer invalidates nothing
        assertThat(header(get(v, p), "x-cache")).isEqualTo("HIT");
        send(v, "FROB", p);                   // an unknown method is unsafe
        assertThat(header(get(v, p), "x-cache")).isEqualTo("MISS");
        assertThat(header(get(v, other), "x-cache")).isEqualTo("MISS");
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void varyMakesVariantsWithAcceptEncodingNormalised(Version v) throws Exception {
        String p = "/vary-" + v;
        respond(r -> TestResponse.ok("for " + r.header("accept-encoding")).header("cache-control", "max-age=60")
                .header("vary", "Accept-Encoding"));
        assertThat(get(v, p, "accept-encoding", "gzip, br").body()).isEqualTo("for gzip, br");
        HttpResponse<String> same = get(v, p, "accept-encoding", "BR;q=1,gzip");
        assertThat(same.body()).isEqualTo("for gzip, br");
        assertThat(header(same, "x-cache")).isEqualTo("HIT");
        assertThat(get(v, p, "accept-encoding", "identity").body()).isEqualTo("for identity");
        assertThat(get(v, p, "accept-encoding", "gzip;q=0, br, identity").body()).isEqualTo("for gzip;q=0, br, identity");
        assertThat(originRequests(p)).isEqualTo(3);
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void privateAuthorizationAndSetCookieResponsesAreNotStoredAndNoCacheIsAlwaysValidated(Version v) throws Exception {
        String priv = "/private-" + v, auth = "/auth-" + v, nc = "/nocache-" + v;
        respond(r -> {
            if (r.path().equals(priv)) return TestResponse.ok("mine").header("cache-control", "private, max-age=60");
            if (r.path().equals(auth)) return TestResponse.ok("yours").header("cache-control", "max-age=60");
            if (r.header("if-none-match") != null) return TestResponse.status(304);
            return TestResponse.ok("nc").header("cache-control", "no-cache").header("etag", "\"n\"");
        });
        get(v, priv);
        get(v, priv);
        get(v, auth, "authorization", "Basic YTpi");
        get(v, auth, "authorization", "Basic YTpi");
        assertThat(originRequests(priv)).isEqualTo(2);
        assertThat(originRequests(auth)).isEqualTo(2);
        assertThat(get(v, nc).body()).isEqualTo("nc");
        HttpResponse<String> again = get(v, nc);
        assertThat(again.body()).isEqualTo("nc");
        assertThat(header(again, "x-cache")).isEqualTo("REVALIDATED");
        assertThat(recorded(nc).get(1).header("if-none-match")).isEqualTo("\"n\"");
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void anObjectTooBigStreamsThroughWhole(Version v) throws Exception {
        String p = "/small/big-" + v;
        respond(r -> TestResponse.ok().generatedBody(64 * 1024).chunked().header("cache-control", "max-age=60"));
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://localhost:" + g.listenerAddress("edge").getPort() + p))
                .timeout(Duration.ofSeconds(10)).build();
        HttpResponse<byte[]> first = (v == Version.HTTP_2 ? h2 : h1).send(request, HttpResponse.BodyHandlers.ofByteArray());
        assertThat(first.body()).hasSize(64 * 1024);
        HttpResponse<byte[]> second = (v == Version.HTTP_2 ? h2 : h1).send(request, HttpResponse.BodyHandlers.ofByteArray());
        assertThat(second.body()).isEqualTo(first.body());
        assertThat(header(second, "x-cache")).isEqualTo("MISS");
        assertThat(originRequests(p)).isEqualTo(2);
        // a small one on the same route is stored
        String small = "/small/ok-" + v;
        respond(r -> TestResponse.ok("tiny").chunked().header("cache-control", "max-age=60"));
        get(v, small);
        assertThat(header(get(v, small), "x-cache")).isEqualTo("HIT");
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void anOriginFailureServesTheLastGoodCopyWhenTheOperatorAllowsIt(Version v) throws Exception {
        String p = "/stale/x-" + v, q = "/y-" + v;
        respond(r -> TestResponse.ok("good").header("cache-control", "max-age=10"));
        get(v, p);
        get(v, q);
        clock.advance(Duration.ofSeconds(11));
        respond(r -> TestResponse.status(503).body("down"));
        HttpResponse<String> stale = get(v, p);
        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(stale.body()).isEqualTo("good");
        assertThat(header(stale, "x-cache")).isEqualTo("STALE");
        assertThat(header(stale, "cache-status")).contains("fwd-status=503", "detail=stale-on-error");
        // a route without stale_on_error passes the failure on
        assertThat(get(v, q).statusCode()).isEqualTo(503);
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void rangesAreCutFromTheStoredResponse(Version v) throws Exception {
        String p = "/range-" + v;
        respond(r -> TestResponse.ok("0123456789").header("cache-control", "max-age=60").header("etag", "\"r\"")
                .header("content-type", "text/plain"));
        assertThat(get(v, p, "range", "bytes=0-1").body()).isEqualTo("0123456789");   // a miss fetches the whole
        assertThat(recorded(p).get(0).header("range")).isNull();
        HttpResponse<String> one = get(v, p, "range", "bytes=2-4");
        assertThat(one.statusCode()).isEqualTo(206);
        assertThat(one.body()).isEqualTo("234");
        assertThat(header(one, "content-range")).isEqualTo("bytes 2-4/10");
        HttpResponse<String> suffix = get(v, p, "range", "bytes=-3");
        assertThat(suffix.body()).isEqualTo("789");
        HttpResponse<String> multi = get(v, p, "range", "bytes=0-1, 8-");
        assertThat(multi.statusCode()).isEqualTo(206);
        assertThat(header(multi, "content-type")).startsWith("multipart/byteranges; boundary=");
        assertThat(multi.body()).contains("Content-Range: bytes 0-1/10\r\n\r\n01\r\n", "Content-Range: bytes 8-9/10\r\n\r\n89\r\n");
        assertThat(get(v, p, "range", "bytes=2-4", "if-range", "\"other\"").statusCode()).isEqualTo(200);
        assertThat(get(v, p, "range", "bytes=2-4", "if-range", "\"r\"").statusCode()).isEqualTo(206);
        HttpResponse<String> unsatisfiable = get(v, p, "range", "bytes=20-");
        assertThat(unsatisfiable.statusCode()).isEqualTo(416);
        assertThat(header(unsatisfiable, "content-range")).isEqualTo("bytes */10");
        // overlapping ranges amplify a response (RFC 9110 §14.2): the whole is served instead, as the files action does
        HttpResponse<String> overlapping = get(v, p, "range", "bytes=0-5, 3-8");
        assertThat(overlapping.statusCode()).isEqualTo(200);
        assertThat(overlapping.body()).isEqualTo("0123456789");
        assertThat(originRequests(p)).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void onlyIfCachedBypassCacheableErrorsAndPurge(Version v) throws Exception {
        String p = "/misc-" + v, gone = "/gone-" + v;
        respond(r -> r.path().equals(gone) ? TestResponse.status(404).header("cache-control", "max-age=60")
                : TestResponse.ok("x").header("cache-control", "max-age=60"));
        assertThat(get(v, p, "cache-control", "only-if-cached").statusCode()).isEqualTo(504);
        assertThat(originRequests(p)).isZero();
        get(v, gone);
        assertThat(get(v, gone).statusCode()).isEqualTo(404);
        assertThat(originRequests(gone)).isEqualTo(1);
        get(v, p);
        HttpResponse<String> bypassed = get(v, p, "cookie", "session=abc");
        assertThat(header(bypassed, "x-cache")).isEqualTo("BYPASS");
        assertThat(originRequests(p)).isEqualTo(2);
        assertThat(header(get(v, p, "cache-control", "only-if-cached"), "x-cache")).isEqualTo("HIT");
        HttpResponse<String> purged = send(v, "PURGE", p);
        assertThat(purged.statusCode()).isEqualTo(200);
        assertThat(purged.body()).contains("\"purged\":1");
        assertThat(header(get(v, p), "x-cache")).isEqualTo("MISS");
        assertThat(originRequests(p)).isEqualTo(3);
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void staleWhileRevalidateServesStaleAndRefreshesOnceInTheBackground(Version v) throws Exception {
        String p = "/swr-" + v;
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        respond(r -> TestResponse.ok("v" + n.incrementAndGet()).header("cache-control", "max-age=10, stale-while-revalidate=60"));
        assertThat(get(v, p).body()).isEqualTo("v1");
        clock.advance(Duration.ofSeconds(11));
        HttpResponse<String> stale = get(v, p);
        assertThat(stale.body()).isEqualTo("v1");
        assertThat(header(stale, "x-cache")).isEqualTo("STALE");
        assertThat(header(stale, "cache-status")).contains("detail=stale-while-revalidate");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HttpResponse<String> fresh = get(v, p);
            assertThat(fresh.body()).isEqualTo("v2");
            assertThat(header(fresh, "x-cache")).isEqualTo("HIT");
        });
        assertThat(originRequests(p)).isEqualTo(2);
    }

    /**
     * Many clients (on HTTP/2, streams of one connection) find the same entry stale at once while its refresh is
     * slow: every one is answered stale at once, and the origin sees one refresh, not one per request.
     */
    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void concurrentStaleRequestsAreAllServedStaleAndMakeOneRefresh(Version v) throws Exception {
        String p = "/swr-many-" + v;
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        respond(r -> {
            int i = n.incrementAndGet();
            TestResponse t = TestResponse.ok("v" + i).header("cache-control", "max-age=10, stale-while-revalidate=60");
            return i == 1 ? t : t.delayHeaders(Duration.ofSeconds(3));   // the refresh is slow
        });
        assertThat(get(v, p).body()).isEqualTo("v1");
        clock.advance(Duration.ofSeconds(11));
        URI uri = URI.create("https://localhost:" + g.listenerAddress("edge").getPort() + p);
        List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> all = new java.util.ArrayList<>();
        for (int i = 0; i < 30; i++) {
            all.add((v == Version.HTTP_2 ? h2 : h1).sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (var f : all) {
            HttpResponse<String> r = f.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(r.version()).isEqualTo(v);
            assertThat(r.body()).isEqualTo("v1");
            assertThat(header(r, "x-cache")).isEqualTo("STALE");
            assertThat(header(r, "cache-status")).contains("detail=stale-while-revalidate");
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            HttpResponse<String> fresh = get(v, p);
            assertThat(fresh.body()).isEqualTo("v2");
            assertThat(header(fresh, "x-cache")).isEqualTo("HIT");
        });
        assertThat(originRequests(p)).isEqualTo(2);
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void interimResponsesAreForwardedAndOnlyTheFinalOneIsStored(Version v) throws Exception {
        String p = "/early-" + v;
        respond(r -> TestResponse.ok("final").header("cache-control", "max-age=60").interim(103, "link", "</s.css>; rel=preload"));
        HttpResponse<String> first = get(v, p);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).isEqualTo("final");
        HttpResponse<String> hit = get(v, p);
        assertThat(hit.statusCode()).isEqualTo(200);
        assertThat(hit.body()).isEqualTo("final");
        assertThat(header(hit, "x-cache")).isEqualTo("HIT");
        assertThat(originRequests(p)).isEqualTo(1);
    }
}
