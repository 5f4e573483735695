package io.gatehouse.cache;

import io.gatehouse.Protocol;
import io.gatehouse.clock.ManualClock;
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

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.gatehouse.cache.CacheEdge.header;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Validation, invalidation, operator TTLs, the origin's own {@code stale-if-error} and the request's directives, over
 * real sockets on HTTP/1.1 and HTTP/2, against an origin the test scripts and counts requests on; time moved with a
 * {@link ManualClock} (the origin sends no {@code Date}, so the cache's clock alone decides ages).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Protocol.class)
class CacheValidationTest {
    static final String LM = "Sat, 01 Jan 2000 00:00:00 GMT";

    @RegisterExtension
    static final TestBackend origin = new TestBackend().name("origin");
    static CacheEdge edge;
    static ManualClock clock;
    @Parameter
    Protocol protocol;
    final AtomicInteger served = new AtomicInteger();

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
                      - {name: ttl, match: {path_prefix: /ttl}, cluster: app, filters: [cache: {x_cache: true, ttl: {"200": 10m, "404": 1m}}]}
                      - name: ignore
                        match: {path_prefix: /ignore}
                        cluster: app
                        filters: [cache: {x_cache: true, origin_cache_control: ignore, ttl: {"200": 1m}}]
                      - {name: site, match: {path_prefix: /}, cluster: app, filters: [cache: {x_cache: true}]}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(origin.address()), clock);
    }

    @AfterAll
    static void stop() {
        if (edge != null) edge.close();
        edge = null;
    }

    static List<RecordedRequest> recorded(String path) {
        return origin.requests().stream().filter(r -> r.path().equals(path)).toList();
    }

    @Test
    void lastModifiedIsRevalidatedWithIfModifiedSinceAndThe304IsMerged() {
        String p = "/lm";
        origin.respond(r -> r.header("if-modified-since") != null
                ? TestResponse.status(304).header("cache-control", "max-age=10").header("x-version", "merged")
                : TestResponse.ok("doc").header("cache-control", "max-age=10").header("last-modified", LM).header("x-version", "first"));
        assertThat(edge.xCache(p)).isEqualTo("MISS");
        assertThat(edge.xCache(p)).isEqualTo("HIT");
        clock.advance(Duration.ofSeconds(11));
        HttpResponse<String> validated = edge.get(p);
        assertThat(validated.statusCode()).isEqualTo(200);
        assertThat(validated.body()).isEqualTo("doc");
        assertThat(header(validated, "x-cache")).isEqualTo("REVALIDATED");
        assertThat(header(validated, "x-version")).isEqualTo("merged");
        assertThat(header(validated, "last-modified")).isEqualTo(LM);
        assertThat(recorded(p)).hasSize(2);
        assertThat(recorded(p).get(1).header("if-modified-since")).isEqualTo(LM);
        assertThat(recorded(p).get(1).header("if-none-match")).isNull();
        // the 304's max-age made it fresh again, with the merged header
        HttpResponse<String> hit = edge.get(p);
        assertThat(header(hit, "x-cache")).isEqualTo("HIT");
        assertThat(header(hit, "x-version")).isEqualTo("merged");
        assertThat(recorded(p)).hasSize(2);
    }

    @Test
    void targetedFieldsDecideFreshnessOverCacheControlAndThisCachesOwnIsNotPassedOn() {
        // RFC 9213: CDN-Cache-Control, and this cache's own target (gatehouse-cache-control) before it, replace
        // Cache-Control for this cache; the client still gets Cache-Control as the origin sent it
        origin.respond(r -> switch (r.path()) {
            case "/tg/cdn" -> TestResponse.ok("cdn").header("cache-control", "max-age=1").header("cdn-cache-control", "max-age=60");
            case "/tg/own" -> TestResponse.ok("own").header("cache-control", "max-age=1")
                    .header("gatehouse-cache-control", "max-age=100").header("cdn-cache-control", "max-age=10");
            default -> TestResponse.ok("none").header("cache-control", "max-age=600").header("cdn-cache-control", "no-store");
        });
        assertThat(edge.xCache("/tg/cdn")).isEqualTo("MISS");
        assertThat(edge.xCache("/tg/own")).isEqualTo("MISS");
        assertThat(edge.xCache("/tg/nostore")).isEqualTo("MISS");
        clock.advance(Duration.ofSeconds(30));
        HttpResponse<String> cdn = edge.get("/tg/cdn");
        assertThat(header(cdn, "x-cache")).as("fresh by CDN-Cache-Control, stale by Cache-Control").isEqualTo("HIT");
        assertThat(header(cdn, "cache-control")).isEqualTo("max-age=1");
        HttpResponse<String> own = edge.get("/tg/own");
        assertThat(header(own, "x-cache")).as("fresh by this cache's target, stale by CDN-Cache-Control").isEqualTo("HIT");
        assertThat(header(own, "gatehouse-cache-control")).as("this cache's field is its own").isNull();
        assertThat(edge.xCache("/tg/nostore")).as("a targeted no-store beats Cache-Control's max-age").isEqualTo("MISS");
        clock.advance(Duration.ofSeconds(31));
        assertThat(edge.xCache("/tg/cdn")).as("61 s: past the CDN field's max-age").isNotEqualTo("HIT");
        assertThat(edge.xCache("/tg/own")).isEqualTo("HIT");
        assertThat(recorded("/tg/cdn")).hasSize(2);
        assertThat(recorded("/tg/own")).hasSize(1);
        assertThat(recorded("/tg/nostore")).hasSize(2);   // each request went to the origin
    }

    @Test
    void theCacheAnswersTheClientsOwnIfModifiedSince() {
        String p = "/ims";
        origin.respond(r -> TestResponse.ok("page").header("cache-control", "max-age=600").header("last-modified", LM));
        assertThat(edge.get(p).body()).isEqualTo("page");
        HttpResponse<String> same = edge.get(p, "if-modified-since", LM);
        assertThat(same.statusCode()).isEqualTo(304);
        assertThat(same.body()).isEmpty();
        assertThat(header(same, "last-modified")).isEqualTo(LM);
        assertThat(header(same, "x-cache")).isEqualTo("HIT");
        assertThat(edge.get(p, "if-modified-since", "Sun, 02 Jan 2000 00:00:00 GMT").statusCode()).isEqualTo(304);
        HttpResponse<String> older = edge.get(p, "if-modified-since", "Fri, 31 Dec 1999 23:59:59 GMT");
        assertThat(older.statusCode()).isEqualTo(200);
        assertThat(older.body()).isEqualTo("page");
        assertThat(edge.get(p, "if-modified-since", "not a date").statusCode()).isEqualTo(200);
        // If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3): no ETag stored, so it cannot match
        assertThat(edge.get(p, "if-modified-since", LM, "if-none-match", "\"x\"").statusCode()).isEqualTo(200);
        assertThat(recorded(p)).hasSize(1);
    }

    @Test
    void anUnsafeMethodInvalidatesTheSameOriginContentLocationOnly() {
        origin.respond(r -> r.method().equals("GET")
                ? TestResponse.ok("doc " + r.path() + " #" + served.incrementAndGet()).header("cache-control", "max-age=600")
                : TestResponse.ok("made").header("content-location", r.header("x-content-location")));
        for (String p : List.of("/cl/a", "/cl/b", "/cl/form")) {
            assertThat(edge.xCache(p)).isEqualTo("MISS");
            assertThat(edge.xCache(p)).isEqualTo("HIT");
        }
        // another origin's URL is not this cache's to invalidate; the target itself is
        assertThat(edge.send("POST", "/cl/form", "x-content-location", "http://elsewhere.example/cl/b").statusCode()).isEqualTo(200);
        assertThat(edge.xCache("/cl/b")).isEqualTo("HIT");
        assertThat(edge.xCache("/cl/form")).isEqualTo("MISS");
        // a relative reference resolves against the target: "a" is /cl/a
        assertThat(edge.send("POST", "/cl/form", "x-content-location", "a").statusCode()).isEqualTo(200);
        assertThat(edge.xCache("/cl/a")).isEqualTo("MISS");
        assertThat(edge.send("PUT", "/cl/form", "x-content-location", "/cl/b").statusCode()).isEqualTo(200);
        assertThat(edge.xCache("/cl/b")).isEqualTo("MISS");
        assertThat(recorded("/cl/a").stream().filter(r -> r.method().equals("GET")).count()).isEqualTo(2);
        assertThat(recorded("/cl/b").stream().filter(r -> r.method().equals("GET")).count()).isEqualTo(2);
    }

    @Test
    void operatorTtlsByStatusApplyWhereTheOriginGivesNoFreshness() {
        origin.respond(r -> switch (r.path()) {
            case "/ttl/missing", "/plain-missing" -> TestResponse.status(404).body("nope");
            case "/ttl/explicit" -> TestResponse.ok("short").header("cache-control", "max-age=5");
            default -> TestResponse.ok("page");
        });
        HttpResponse<String> missing = edge.get("/ttl/missing");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(header(missing, "x-cache")).isEqualTo("MISS");
        HttpResponse<String> stored404 = edge.get("/ttl/missing");
        assertThat(stored404.statusCode()).isEqualTo(404);
        assertThat(stored404.body()).isEqualTo("nope");
        assertThat(header(stored404, "x-cache")).isEqualTo("HIT");
        assertThat(edge.xCache("/ttl/page")).isEqualTo("MISS");
        assertThat(edge.xCache("/ttl/explicit")).isEqualTo("MISS");
        // without a ttl: for it, a 404 with no freshness and no Last-Modified is never fresh
        edge.get("/plain-missing");
        assertThat(edge.xCache("/plain-missing")).isNotEqualTo("HIT");
        assertThat(recorded("/plain-missing")).hasSize(2);

        clock.advance(Duration.ofSeconds(59));
        assertThat(edge.xCache("/ttl/missing")).isEqualTo("HIT");
        assertThat(edge.xCache("/ttl/explicit")).isNotEqualTo("HIT");   // the origin's max-age=5 wins over 10m
        clock.advance(Duration.ofSeconds(2));
        assertThat(edge.xCache("/ttl/missing")).isNotEqualTo("HIT");   // 1 minute for a 404
        assertThat(edge.xCache("/ttl/page")).isEqualTo("HIT");
        clock.advance(Duration.ofMinutes(10));
        assertThat(edge.xCache("/ttl/page")).isNotEqualTo("HIT");      // 10 minutes for a 200
        assertThat(recorded("/ttl/missing")).hasSize(2);
        assertThat(recorded("/ttl/page")).hasSize(2);
        assertThat(recorded("/ttl/explicit")).hasSize(2);
    }

    @Test
    void originCacheControlIgnoreLetsOnlyTheOperatorTtlsDecide() {
        origin.respond(r -> r.path().equals("/ignore/gone")
                ? TestResponse.status(404).header("cache-control", "max-age=600")
                : TestResponse.ok("i" + served.incrementAndGet()).header("cache-control", "no-store, no-cache, private, max-age=0"));
        assertThat(edge.get("/ignore/x").body()).isEqualTo("i1");
        HttpResponse<String> hit = edge.get("/ignore/x");
        assertThat(hit.body()).isEqualTo("i1");
        assertThat(header(hit, "x-cache")).isEqualTo("HIT");
        clock.advance(Duration.ofSeconds(30));
        assertThat(edge.xCache("/ignore/x")).isEqualTo("HIT");
        clock.advance(Duration.ofSeconds(31));
        assertThat(edge.get("/ignore/x").body()).isEqualTo("i2");
        // the origin's max-age=600 on a 404 counts for nothing: no ttl: for 404
        edge.get("/ignore/gone");
        assertThat(edge.xCache("/ignore/gone")).isEqualTo("MISS");
        assertThat(recorded("/ignore/x")).hasSize(2);
        assertThat(recorded("/ignore/gone")).hasSize(2);
    }

    @Test
    void theOriginsOwnStaleIfErrorServesTheLastGoodCopyWithinItsWindow() {
        origin.respond(r -> TestResponse.ok("good " + r.path())
                .header("cache-control", r.path().equals("/sie/x") ? "max-age=10, stale-if-error=60" : "max-age=10"));
        edge.get("/sie/x");
        edge.get("/sie/plain");
        clock.advance(Duration.ofSeconds(11));
        origin.respond(r -> TestResponse.status(503).body("down"));
        HttpResponse<String> stale = edge.get("/sie/x");
        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(stale.body()).isEqualTo("good /sie/x");
        assertThat(header(stale, "x-cache")).isEqualTo("STALE");
        assertThat(header(stale, "cache-status")).contains("fwd-status=503");
        // no stale-if-error and no operator stale_on_error on this route: the failure passes on
        assertThat(edge.get("/sie/plain").statusCode()).isEqualTo(503);
        clock.advance(Duration.ofSeconds(60));   // 71 s stale: past the 60 s window
        assertThat(edge.get("/sie/x").statusCode()).isEqualTo(503);
        assertThat(recorded("/sie/x")).hasSize(3);
    }

    @Test
    void requestDirectivesMaxAgeMinFreshNoCacheAndMaxStale() {
        String p = "/req";
        origin.respond(r -> r.header("if-none-match") != null
                ? TestResponse.status(304).header("cache-control", "max-age=100")
                : TestResponse.ok("r").header("cache-control", "max-age=100").header("etag", "\"r\""));
        assertThat(edge.xCache(p)).isEqualTo("MISS");
        clock.advance(Duration.ofSeconds(30));
        assertThat(edge.xCache(p, "cache-control", "max-age=60")).isEqualTo("HIT");
        assertThat(recorded(p)).hasSize(1);
        HttpResponse<String> tooOld = edge.get(p, "cache-control", "max-age=20");   // age 30 > 20
        assertThat(header(tooOld, "x-cache")).isEqualTo("REVALIDATED");
        assertThat(header(tooOld, "cache-status")).contains("fwd=request");
        assertThat(tooOld.body()).isEqualTo("r");
        assertThat(recorded(p)).hasSize(2);
        assertThat(recorded(p).get(1).header("if-none-match")).isEqualTo("\"r\"");

        // validated just now: 100 s left
        assertThat(edge.xCache(p, "cache-control", "min-fresh=50")).isEqualTo("HIT");
        assertThat(edge.xCache(p, "cache-control", "min-fresh=101")).isEqualTo("REVALIDATED");
        assertThat(recorded(p)).hasSize(3);
        assertThat(edge.xCache(p, "cache-control", "no-cache")).isEqualTo("REVALIDATED");
        assertThat(edge.xCache(p, "pragma", "no-cache")).isEqualTo("REVALIDATED");
        assertThat(recorded(p)).hasSize(5);

        clock.advance(Duration.ofSeconds(110));   // 10 s stale
        HttpResponse<String> accepted = edge.get(p, "cache-control", "max-stale=30");
        assertThat(accepted.body()).isEqualTo("r");
        assertThat(header(accepted, "x-cache")).isEqualTo("STALE");
        assertThat(recorded(p)).hasSize(5);
        assertThat(edge.xCache(p, "cache-control", "max-stale=5")).isEqualTo("REVALIDATED");
        assertThat(recorded(p)).hasSize(6);
    }

    @Test
    void aRequestWithNoStoreIsAnsweredButItsResponseIsNotStored() {
        String p = "/nostore";
        origin.respond(r -> TestResponse.ok("n" + served.incrementAndGet()).header("cache-control", "max-age=100"));
        assertThat(edge.get(p, "cache-control", "no-store").body()).isEqualTo("n1");
        HttpResponse<String> next = edge.get(p);
        assertThat(header(next, "x-cache")).isEqualTo("MISS");
        assertThat(next.body()).isEqualTo("n2");
        HttpResponse<String> hit = edge.get(p);
        assertThat(header(hit, "x-cache")).isEqualTo("HIT");
        assertThat(hit.body()).isEqualTo("n2");
        // no-store on a request does not stop a stored response from answering it
        assertThat(edge.get(p, "cache-control", "no-store").body()).isEqualTo("n2");
        assertThat(recorded(p)).hasSize(2);
    }
}
