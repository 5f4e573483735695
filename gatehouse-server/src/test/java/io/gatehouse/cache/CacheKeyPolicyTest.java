package io.gatehouse.cache;

import io.gatehouse.Protocol;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The per-route cache policy over real sockets, HTTP/1.1 and HTTP/2: {@code enabled}, each {@code key:} option and a
 * {@code header:} bypass. Each case sends two requests that must share one stored object or must not, and the
 * origin's count of requests says which happened (the bodies too: the origin numbers its answers).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Protocol.class)
class CacheKeyPolicyTest {
    @RegisterExtension
    static final TestBackend origin = new TestBackend().name("origin");
    static CacheEdge edge;
    @Parameter
    Protocol protocol;
    final AtomicInteger served = new AtomicInteger();

    @BeforeEach
    void startFor() {
        if (edge == null || edge.protocol != protocol) {
            stop();
            edge = CacheEdge.start(protocol, """
                    listeners:
                      - name: edge
                        address: 127.0.0.1:0
                        {tls}
                        routes:
                          - {name: off, match: {path_prefix: /off}, cluster: app, filters: [cache: {enabled: false, x_cache: true}]}
                          - {name: qignore, match: {path_prefix: /qignore}, cluster: app, filters: [cache: {x_cache: true, key: {query: ignore}}]}
                          - {name: qasis, match: {path_prefix: /qasis}, cluster: app, filters: [cache: {x_cache: true, key: {query: as_is}}]}
                          - {name: qallow, match: {path_prefix: /qallow}, cluster: app, filters: [cache: {x_cache: true, key: {query_allow: [id, page]}}]}
                          - {name: hdr, match: {path_prefix: /hdr}, cluster: app, filters: [cache: {x_cache: true, key: {headers: [X-Tenant]}}]}
                          - {name: cookie, match: {path_prefix: /cookie}, cluster: app, filters: [cache: {x_cache: true, key: {cookies: [lang]}}]}
                          - {name: nohost, match: {path_prefix: /nohost}, cluster: app, filters: [cache: {x_cache: true, key: {host: false, scheme: false}}]}
                          - {name: debug, match: {path_prefix: /debug}, cluster: app, filters: [cache: {x_cache: true, bypass: ["header:x-debug"]}]}
                          - {name: plain, match: {path_prefix: /}, cluster: app, filters: [cache: {x_cache: true}]}
                    clusters:
                      - name: app
                        endpoints: ["%s"]
                    admin: {address: "off"}
                    """.formatted(origin.address()), null);
        }
        origin.respond(r -> TestResponse.ok("#" + served.incrementAndGet() + " " + r.uri()).header("cache-control", "max-age=600"));
    }

    @AfterAll
    static void stop() {
        if (edge != null) edge.close();
        edge = null;
    }

    static long originCount(String path) {
        return origin.requests().stream().filter(r -> r.path().equals(path)).count();
    }

    @Test
    void aRouteWithTheCacheTurnedOffAlwaysGoesToTheOrigin() {
        String first = edge.get("/off/a").body(), second = edge.get("/off/a").body();
        assertThat(first).isEqualTo("#1 /off/a");
        assertThat(second).isEqualTo("#2 /off/a");
        assertThat(edge.get("/off/a").headers().firstValue("x-cache")).isEmpty();   // not even labelled
        assertThat(originCount("/off/a")).isEqualTo(3);
    }

    @Test
    void theDefaultKeySortsTheQueryButKeepsEveryParameter() {
        assertThat(edge.xCache("/s?a=1&b=2")).isEqualTo("MISS");
        assertThat(edge.xCache("/s?b=2&a=1")).isEqualTo("HIT");
        assertThat(edge.xCache("/s?a=1&b=3")).isEqualTo("MISS");
        assertThat(edge.xCache("/s?a=1")).isEqualTo("MISS");
        assertThat(edge.xCache("/s")).isEqualTo("MISS");
        assertThat(originCount("/s")).isEqualTo(4);
    }

    @Test
    void queryIgnoreMakesEveryQueryOneObject() {
        assertThat(edge.get("/qignore/x?utm=1").body()).isEqualTo("#1 /qignore/x?utm=1");
        var other = edge.get("/qignore/x?page=9&utm=2");
        assertThat(other.body()).isEqualTo("#1 /qignore/x?utm=1");
        assertThat(CacheEdge.header(other, "x-cache")).isEqualTo("HIT");
        assertThat(edge.xCache("/qignore/x")).isEqualTo("HIT");
        assertThat(edge.xCache("/qignore/y?utm=1")).isEqualTo("MISS");   // the path still counts
        assertThat(originCount("/qignore/x")).isEqualTo(1);
    }

    @Test
    void queryAsIsKeepsTheOrderOfParameters() {
        assertThat(edge.xCache("/qasis/x?a=1&b=2")).isEqualTo("MISS");
        assertThat(edge.xCache("/qasis/x?a=1&b=2")).isEqualTo("HIT");
        assertThat(edge.xCache("/qasis/x?b=2&a=1")).isEqualTo("MISS");
        assertThat(originCount("/qasis/x")).isEqualTo(2);
    }

    @Test
    void aQueryAllowListKeysOnlyOnTheNamedParameters() {
        assertThat(edge.get("/qallow/x?id=7&utm_source=mail&page=2").body()).isEqualTo("#1 /qallow/x?id=7&utm_source=mail&page=2");
        // other parameters and their order do not matter; the allowed ones still sort
        var same = edge.get("/qallow/x?page=2&utm_source=ads&fbclid=z&id=7");
        assertThat(CacheEdge.header(same, "x-cache")).isEqualTo("HIT");
        assertThat(same.body()).isEqualTo("#1 /qallow/x?id=7&utm_source=mail&page=2");
        assertThat(edge.xCache("/qallow/x?id=8&page=2")).isEqualTo("MISS");
        assertThat(edge.xCache("/qallow/x?id=7")).isEqualTo("MISS");
        assertThat(edge.xCache("/qallow/x?utm_source=mail")).isEqualTo("MISS");
        assertThat(edge.xCache("/qallow/x?fbclid=q")).isEqualTo("HIT");   // no allowed parameter: the bare path
        assertThat(originCount("/qallow/x")).isEqualTo(4);
    }

    @Test
    void keyHeadersSeparateObjectsByTheirValues() {
        assertThat(edge.get("/hdr/x", "x-tenant", "acme").body()).startsWith("#1");
        assertThat(edge.get("/hdr/x", "x-tenant", "acme").body()).startsWith("#1");
        assertThat(edge.get("/hdr/x", "x-tenant", "globex").body()).startsWith("#2");
        assertThat(edge.get("/hdr/x").body()).startsWith("#3");          // absent is its own object
        assertThat(edge.xCache("/hdr/x", "x-tenant", "globex")).isEqualTo("HIT");
        assertThat(edge.xCache("/hdr/x", "x-other", "acme")).isEqualTo("HIT");   // a field not named is not in the key
        assertThat(originCount("/hdr/x")).isEqualTo(3);
    }

    @Test
    void keyCookiesSeparateObjectsByTheNamedCookieOnly() {
        assertThat(edge.get("/cookie/x", "cookie", "lang=en; theme=dark").body()).startsWith("#1");
        assertThat(edge.xCache("/cookie/x", "cookie", "theme=light; lang=en")).isEqualTo("HIT");
        assertThat(edge.get("/cookie/x", "cookie", "lang=fr").body()).startsWith("#2");
        assertThat(edge.xCache("/cookie/x", "cookie", "lang=fr")).isEqualTo("HIT");
        assertThat(edge.get("/cookie/x").body()).startsWith("#3");
        assertThat(originCount("/cookie/x")).isEqualTo(3);
    }

    @Test
    void hostOffSharesAnObjectAcrossHostNamesWhileTheDefaultKeepsThemApart() {
        // the store is per listener, so every request here has one scheme: scheme: false is configured but changes nothing
        assertThat(edge.send("GET", edge.uri("/nohost/x")).body()).startsWith("#1");
        var other = edge.send("GET", edge.otherHostUri("/nohost/x"));
        assertThat(CacheEdge.header(other, "x-cache")).isEqualTo("HIT");
        assertThat(other.body()).startsWith("#1");
        assertThat(originCount("/nohost/x")).isEqualTo(1);

        assertThat(edge.send("GET", edge.uri("/withhost")).body()).startsWith("#2");
        var apart = edge.send("GET", edge.otherHostUri("/withhost"));
        assertThat(CacheEdge.header(apart, "x-cache")).isEqualTo("MISS");
        assertThat(apart.body()).startsWith("#3");
        assertThat(CacheEdge.header(edge.send("GET", edge.otherHostUri("/withhost")), "x-cache")).isEqualTo("HIT");
        assertThat(originCount("/withhost")).isEqualTo(2);
    }

    @Test
    void aHeaderBypassGoesToTheOriginAndLeavesTheStoredObjectAlone() {
        assertThat(edge.xCache("/debug/x")).isEqualTo("MISS");
        var bypassed = edge.get("/debug/x", "x-debug", "1");
        assertThat(CacheEdge.header(bypassed, "x-cache")).isEqualTo("BYPASS");
        assertThat(CacheEdge.header(bypassed, "cache-status")).contains("fwd=bypass", "detail=header");
        assertThat(bypassed.body()).startsWith("#2");
        var hit = edge.get("/debug/x");
        assertThat(CacheEdge.header(hit, "x-cache")).isEqualTo("HIT");
        assertThat(hit.body()).startsWith("#1");
        assertThat(originCount("/debug/x")).isEqualTo(2);
    }
}
