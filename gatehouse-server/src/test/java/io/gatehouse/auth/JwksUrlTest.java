package io.gatehouse.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.gatehouse.Gatehouse;
import io.gatehouse.clock.ManualClock;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keys from the issuer's JWKS endpoint: the first fetch, a rotation picked up on the first token of the new key (no
 * request fails), unknown key ids fetched for at most every 30 s, and an issuer that is down failing no request whose
 * key is known.
 */
@org.junit.jupiter.params.ParameterizedClass
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class JwksUrlTest {
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol protocol;
    @RegisterExtension
    static final TestBackend api = new TestBackend().name("api");
    @RegisterExtension
    static final TestBackend issuer = new TestBackend().name("issuer");

    @Test
    void rotationWithoutAFailedRequestAndAnIssuerOutageThatFailsNoKnownKey() throws Exception {
        RSAKey a = new RSAKeyGenerator(2048).keyID("a").generate();
        RSAKey b = new RSAKeyGenerator(2048).keyID("b").generate();
        RSAKey c = new RSAKeyGenerator(2048).keyID("c").generate();
        AtomicReference<String> published = new AtomicReference<>(new JWKSet(a.toPublicJWK()).toString(true));
        issuer.respond(r -> TestResponse.ok(published.get()).header("content-type", "application/json"));
        ManualClock clock = new ManualClock();
        Gatehouse g = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: api
                        cluster: api
                        filters: [{jwt: {jwks_url: "http://127.0.0.1:%d/jwks", jwks_refresh: 1h}}]
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), issuer.port(), api.address()), "jwks.yaml"), clock);
        HttpClient client = protocol.client();
        URI uri = protocol.uri(g.listenerAddress("edge").getPort(), "/x");
        try {
            assertThat(call(client, uri, token(a))).isEqualTo(200);
            int fetches = issuer.requestCount();
            assertThat(fetches).isEqualTo(1);

            // the issuer rotates to b: the first token signed by b fetches the new set, and passes
            published.set(new JWKSet(List.of(a.toPublicJWK(), b.toPublicJWK())).toString(true));
            assertThat(call(client, uri, token(b))).isEqualTo(200);
            assertThat(issuer.requestCount()).isEqualTo(2);

            // an unknown key, once the last such fetch is 30 s old: one more fetch, then none for 30 s however many come
            assertThat(call(client, uri, token(c))).as("within 30 s of the rotation's fetch: none").isEqualTo(401);
            assertThat(issuer.requestCount()).isEqualTo(2);
            clock.advance(Duration.ofSeconds(31));
            assertThat(call(client, uri, token(c))).isEqualTo(401);
            assertThat(call(client, uri, token(c))).isEqualTo(401);
            assertThat(issuer.requestCount()).isEqualTo(3);
            clock.advance(Duration.ofSeconds(31));

            // the issuer goes down: known keys keep working, an unknown one is refused at once
            issuer.stop();
            assertThat(call(client, uri, token(a))).isEqualTo(200);
            assertThat(call(client, uri, token(b))).isEqualTo(200);
            assertThat(call(client, uri, token(c))).isEqualTo(401);
        } finally {
            g.shutdown(Duration.ofSeconds(1));
            issuer.restart();
        }
    }

    /**
     * The background refresh runs on the server's clock and honours the JWKS's own {@code max-age}: a rotated set is
     * in place before a token of the new key arrives (no fetch on its account, no failure). Then the issuer is down
     * across several refreshes (the clock moved well past a minute): every token of a known key passes, each failed
     * refresh is logged and counted, and the keys catch up once the issuer is back.
     */
    @Test
    void theBackgroundRefreshHonoursMaxAgeAndAnIssuerDownForMinutesFailsNoKnownKey() throws Exception {
        RSAKey a = new RSAKeyGenerator(2048).keyID("a").generate();
        RSAKey b = new RSAKeyGenerator(2048).keyID("b").generate();
        RSAKey c = new RSAKeyGenerator(2048).keyID("c").generate();
        AtomicReference<String> published = new AtomicReference<>(new JWKSet(a.toPublicJWK()).toString(true));
        issuer.respond(r -> TestResponse.ok(published.get()).header("content-type", "application/json")
                .header("cache-control", "public, max-age=120"));
        ManualClock clock = new ManualClock();
        Gatehouse g = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: api
                        cluster: api
                        filters: [{jwt: {jwks_url: "http://127.0.0.1:%d/jwks", jwks_refresh: 1h}}]
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), issuer.port(), api.address()), "jwks.yaml"), clock);
        HttpClient client = protocol.client();
        URI uri = protocol.uri(g.listenerAddress("edge").getPort(), "/x");
        try (io.gatehouse.LogCapture logs = io.gatehouse.LogCapture.of(ch.qos.logback.classic.Level.WARN, JwksSource.class.getName())) {
            assertThat(call(client, uri, token(a))).isEqualTo(200);
            assertThat(issuer.requestCount()).isEqualTo(1);

            // max-age 120 s: due again at 90 s (three quarters), long before jwks_refresh's hour
            published.set(new JWKSet(List.of(a.toPublicJWK(), b.toPublicJWK())).toString(true));
            clock.advance(Duration.ofSeconds(80));
            stays(() -> issuer.requestCount() == 1);   // not due yet
            clock.advance(Duration.ofSeconds(11));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> issuer.requestCount() == 2);
            assertThat(call(client, uri, token(b))).as("b, known before its first token").isEqualTo(200);
            assertThat(issuer.requestCount()).as("no fetch on b's account").isEqualTo(2);

            // the issuer goes down; the clock moves through three refreshes (90 s, then every 30 s after a failure)
            issuer.stop();
            for (int i = 1; i <= 3; i++) {
                clock.advance(Duration.ofSeconds(i == 1 ? 91 : 31));
                int failures = i;
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> logs.events().stream()
                        .filter(e -> e.getFormattedMessage().contains("fetch failed")).count() >= failures);
                assertThat(call(client, uri, token(a))).as("a known key, refresh %d failed", i).isEqualTo(200);
                assertThat(call(client, uri, token(b))).isEqualTo(200);
            }
            assertThat(logs.logged("jwks http://127.0.0.1:" + issuer.port() + "/jwks: fetch failed", "keeping the 2 keys")).isTrue();

            // back, with c added: the next refresh (30 s after the last failure) picks it up
            published.set(new JWKSet(List.of(b.toPublicJWK(), c.toPublicJWK())).toString(true));
            issuer.restart();
            issuer.respond(r -> TestResponse.ok(published.get()).header("content-type", "application/json")
                    .header("cache-control", "max-age=120"));
            int before = issuer.requestCount();
            clock.advance(Duration.ofSeconds(31));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> issuer.requestCount() > before);
            assertThat(call(client, uri, token(c))).isEqualTo(200);
            assertThat(issuer.requestCount()).isEqualTo(before + 1);
        } finally {
            g.shutdown(Duration.ofSeconds(1));
            issuer.restart();
        }
    }

    @Test
    void failedFetchesAreCountedAndMaxAgeIsBoundedByTheRefreshSettings() throws Exception {
        RSAKey a = new RSAKeyGenerator(2048).keyID("a").generate();
        // a max-age of 10 s is held to the 30 s floor; one of a day to jwks_refresh (2 min here)
        AtomicReference<String> maxAge = new AtomicReference<>("max-age=10");
        issuer.respond(r -> TestResponse.ok(new JWKSet(a.toPublicJWK()).toString(true)).header("cache-control", maxAge.get()));
        ManualClock clock = new ManualClock();
        JwksSource source = new JwksSource("http://127.0.0.1:%d/k".formatted(issuer.port()), Duration.ofMinutes(2), clock);
        try {
            source.firstLoad().get(10, java.util.concurrent.TimeUnit.SECONDS);
            int n = issuer.requestCount();
            clock.advance(Duration.ofSeconds(29));
            stays(() -> issuer.requestCount() == n);
            maxAge.set("max-age=86400");
            clock.advance(Duration.ofSeconds(2));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> issuer.requestCount() == n + 1);
            clock.advance(Duration.ofSeconds(119));
            stays(() -> issuer.requestCount() == n + 1);   // within jwks_refresh
            issuer.stop();
            clock.advance(Duration.ofSeconds(2));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> source.failedFetches() == 1);
            assertThat(source.keys()).extracting(k -> k.getKeyID()).containsExactly("a");
        } finally {
            source.close();
            issuer.restart();
        }
    }

    @Test
    void jwksClusterFetchesThroughTheNamedClustersUpstreamClient() throws Exception {
        RSAKey a = new RSAKeyGenerator(2048).keyID("a").generate();
        issuer.respond(r -> TestResponse.ok(new JWKSet(a.toPublicJWK()).toString(true)).header("content-type", "application/json"));
        // the URL's host does not even resolve: the fetch goes to the cluster's endpoint, with the URL's Host
        Gatehouse g = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: api
                        cluster: api
                        filters: [{jwt: {jwks_url: "https://keys.invalid/.well-known/jwks.json", jwks_cluster: idp}}]
                clusters:
                  - name: api
                    endpoints: ["%s"]
                  - name: idp
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), api.address(), issuer.address()), "jwks.yaml"), new ManualClock());
        try {
            URI uri = protocol.uri(g.listenerAddress("edge").getPort(), "/x");
            assertThat(call(protocol.client(), uri, token(a))).isEqualTo(200);
            var fetch = issuer.takeRequest(Duration.ofSeconds(5));
            assertThat(fetch.uri()).isEqualTo("/.well-known/jwks.json");
            assertThat(fetch.header("host")).isEqualTo("keys.invalid");
            assertThat(fetch.header("accept")).isEqualTo("application/json");
            // counted like the cluster's other traffic
            assertThat(g.cluster("idp").traffic().requests()).isEqualTo(1);
        } finally {
            g.shutdown(Duration.ofSeconds(1));
        }
    }

    @Test
    void anImplicitClusterCarriesTheUrlsHostAndAnUnknownJwksClusterIsAConfigError() throws Exception {
        RSAKey a = new RSAKeyGenerator(2048).keyID("a").generate();
        issuer.respond(r -> TestResponse.ok(new JWKSet(a.toPublicJWK()).toString(true)));
        String url = "http://127.0.0.1:%d/keys?v=1".formatted(issuer.port());
        JwksSource source = new JwksSource(url, Duration.ofHours(1), new ManualClock());
        try {
            assertThat(source.firstLoad().get(10, java.util.concurrent.TimeUnit.SECONDS)).extracting(k -> k.getKeyID()).containsExactly("a");
            var fetch = issuer.takeRequest(Duration.ofSeconds(5));
            assertThat(fetch.uri()).isEqualTo("/keys?v=1");
            assertThat(fetch.header("host")).isEqualTo("127.0.0.1:" + issuer.port());
        } finally {
            source.close();
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: api
                        cluster: api
                        filters: [{jwt: {jwks_url: "%s", jwks_cluster: idq}}]
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), url, api.address()), "jwks.yaml"), new ManualClock()))
                .hasStackTraceContaining("jwks_cluster: no cluster named 'idq' (clusters: api)");
    }

    /**
     * {@code condition} holds for a while: several ticks of the refresher, which would have fetched by then. A false
     * reading fails at once (failFast), so the generous atMost, room for a stalled machine, cannot let a flap pass.
     */
    private static void stays(java.util.concurrent.Callable<Boolean> condition) {
        org.awaitility.Awaitility.await().during(Duration.ofMillis(1000)).atMost(Duration.ofSeconds(10))
                .failFast("the condition stopped holding", () -> !condition.call()).until(condition);
    }

    private int call(HttpClient client, URI uri, String token) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).header("authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).as("the protocol this run is about").isEqualTo(protocol.version());
        return r.statusCode();
    }

    private static String token(RSAKey key) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(),
                new JWTClaimsSet.Builder().subject("s").expirationTime(new Date(System.currentTimeMillis() + 3_600_000)).build());
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }
}
