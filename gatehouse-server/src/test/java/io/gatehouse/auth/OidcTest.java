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
import io.gatehouse.Protocol;
import io.gatehouse.clock.ManualClock;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code oidc} against an identity provider started in the test (discovery, authorize, token and JWKS endpoints;
 * PKCE checked by the provider): a full sign-in, the session cookie, refresh before the tokens expire, a forged state
 * and a tampered cookie refused, an API call answered 401 rather than redirected, and logout. The HTTP-level flow on
 * HTTP/1.1 and on HTTP/2 (TLS, ALPN h2, the session cookie then {@code Secure}); the provider itself speaks HTTP/1.1.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Protocol.class)
class OidcTest {
    @RegisterExtension
    static final TestBackend app = new TestBackend().name("app");
    @RegisterExtension
    static final TestBackend idp = new TestBackend().name("idp");

    static RSAKey key;
    static final Map<String, String[]> codes = new ConcurrentHashMap<>();   // code → {challenge, nonce}
    static final AtomicInteger refreshes = new AtomicInteger();
    static ManualClock clock;
    static Gatehouse edge;
    static HttpClient browser;
    static Protocol protocol;
    @Parameter
    Protocol parameter;

    static String issuer() {
        return "http://127.0.0.1:" + idp.port();
    }

    @BeforeAll
    static void key() throws Exception {
        key = new RSAKeyGenerator(2048).keyID("idp-1").generate();
    }

    /** One engine per protocol: started by the first test of each run of the class. */
    @org.junit.jupiter.api.BeforeEach
    void startFor() throws Exception {
        if (protocol != parameter) {
            stop();
            start(parameter);
        }
        idp.respond(OidcTest::provider);   // the backend forgets its responder before each test
    }

    static void start(Protocol p) throws Exception {
        protocol = p;
        clock = new ManualClock();
        refreshes.set(0);
        idp.respond(OidcTest::provider);
        edge = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: app
                        cluster: app
                        filters:
                          - oidc:
                              issuer: "%s"
                              client_id: edge-client
                              client_secret: s3cret
                              cookie_secret: "0123456789abcdef0123456789abcdef-cookies"
                clusters:
                  - name: app
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(p.listenerTls(), issuer(), app.address()), "oidc.yaml"), clock);
        browser = p.clientBuilder().cookieHandler(new CookieManager()).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @AfterAll
    static void stop() {
        if (edge != null) edge.shutdown(Duration.ofSeconds(1));
        edge = null;
        protocol = null;
    }

    /** A small OpenID provider: enough of the spec to sign a user in, with PKCE enforced. */
    static TestResponse provider(RecordedRequest r) {
        String path = r.path();
        Map<String, java.util.List<String>> q = new QueryStringDecoder(r.uri()).parameters();
        try {
            switch (path) {
                case "/.well-known/openid-configuration" -> {
                    return json("""
                            {"issuer":"%1$s","authorization_endpoint":"%1$s/authorize","token_endpoint":"%1$s/token",
                             "jwks_uri":"%1$s/jwks","end_session_endpoint":"%1$s/logout"}""".formatted(issuer()));
                }
                case "/jwks" -> {
                    return json(new JWKSet(key.toPublicJWK()).toString(true));
                }
                case "/authorize" -> {
                    assertThat(q.get("code_challenge_method")).containsExactly("S256");
                    String code = "code-" + codes.size();
                    codes.put(code, new String[] {q.get("code_challenge").get(0), q.get("nonce").get(0)});
                    return TestResponse.status(302).header("location", q.get("redirect_uri").get(0) + "?code=" + code
                            + "&state=" + q.get("state").get(0));
                }
                case "/token" -> {
                    Map<String, java.util.List<String>> form = new QueryStringDecoder("?" + r.bodyAsString()).parameters();
                    if (!"s3cret".equals(form.get("client_secret").get(0))) return TestResponse.status(401);
                    if (form.get("grant_type").get(0).equals("refresh_token")) {
                        refreshes.incrementAndGet();
                        return json("{\"access_token\":\"at2\",\"refresh_token\":\"rt2\",\"expires_in\":300}");
                    }
                    String[] issued = codes.remove(form.get("code").get(0));
                    String verifier = form.get("code_verifier").get(0);
                    String challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(
                            java.security.MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
                    if (issued == null || !issued[0].equals(challenge)) return TestResponse.status(400).body("{\"error\":\"invalid_grant\"}");
                    SignedJWT id = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("idp-1").build(),
                            new JWTClaimsSet.Builder().issuer(issuer()).audience("edge-client").subject("alice")
                                    .claim("email", "alice@example.test").claim("nonce", issued[1])
                                    .expirationTime(Date.from(clock.instant().plusSeconds(600))).build());
                    id.sign(new RSASSASigner(key));
                    return json("{\"id_token\":\"" + id.serialize() + "\",\"access_token\":\"at1\",\"refresh_token\":\"rt1\",\"expires_in\":300}");
                }
                default -> {
                    return TestResponse.status(404);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static TestResponse json(String body) {
        return TestResponse.ok(body).header("content-type", "application/json");
    }

    static HttpResponse<String> get(String url, String accept) throws Exception {
        return checked(browser.send(HttpRequest.newBuilder(URI.create(url)).header("accept", accept).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()));
    }

    /** An answer from the edge must have come over this run's protocol (the provider's answers are HTTP/1.1). */
    static HttpResponse<String> checked(HttpResponse<String> r) {
        if (r.uri().getPort() != idp.port()) assertThat(r.version()).as(r.uri().toString()).isEqualTo(protocol.version());
        return r;
    }

    static String edgeUrl(String path) {
        return protocol.uri(edge.listenerAddress("edge").getPort(), path).toString();
    }

    @Test
    void aNamedClusterCarriesTheCallsToTheProvider() throws Exception {
        // the provider's host does not resolve: its calls reach it only through the named cluster, with its Host
        idp.respond(r -> r.path().equals("/.well-known/openid-configuration")
                ? json("""
                        {"issuer":"https://idp.invalid","authorization_endpoint":"https://idp.invalid/authorize",
                         "token_endpoint":"https://idp.invalid/token","jwks_uri":"https://idp.invalid/jwks"}""")
                : r.path().equals("/jwks") ? json(new JWKSet(key.toPublicJWK()).toString(true)) : TestResponse.status(404));
        Gatehouse named = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: app
                        cluster: app
                        filters:
                          - oidc:
                              issuer: "https://idp.invalid"
                              client_id: edge-client
                              cookie_secret: "0123456789abcdef0123456789abcdef-cookies"
                              cluster: idp
                clusters:
                  - name: app
                    endpoints: ["%s"]
                  - name: idp
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), app.address(), idp.address()), "oidc-cluster.yaml"), clock);
        try {
            HttpClient plain = protocol.clientBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
            HttpResponse<String> first = checked(plain.send(HttpRequest.newBuilder(protocol.uri(named.listenerAddress("edge").getPort(), "/page"))
                    .header("accept", "text/html").timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()));
            assertThat(first.statusCode()).isEqualTo(302);
            assertThat(first.headers().firstValue("location").orElseThrow()).startsWith("https://idp.invalid/authorize?");
            assertThat(idp.requests()).filteredOn(r -> "idp.invalid".equals(r.header("host")))
                    .extracting(RecordedRequest::path).contains("/.well-known/openid-configuration");
            assertThat(named.cluster("idp").traffic().requests()).isPositive();
        } finally {
            named.shutdown(Duration.ofSeconds(1));
        }
    }

    @Test
    void signInThenUseTheSessionRefreshItAndSignOut() throws Exception {
        HttpResponse<String> first = get(edgeUrl("/reports?year=2030"), "text/html");
        assertThat(first.statusCode()).isEqualTo(302);
        String authorize = first.headers().firstValue("location").orElseThrow();
        assertThat(authorize).startsWith(issuer() + "/authorize?response_type=code&client_id=edge-client");
        HttpResponse<String> atProvider = get(authorize, "text/html");
        String callback = atProvider.headers().firstValue("location").orElseThrow();
        HttpResponse<String> signedIn = get(callback, "text/html");
        assertThat(signedIn.statusCode()).isEqualTo(302);
        assertThat(signedIn.headers().firstValue("location")).hasValue("/reports?year=2030");
        assertThat(signedIn.headers().allValues("set-cookie")).anyMatch(c -> c.startsWith("gatehouse_session=") && c.toLowerCase().contains("httponly"));
        assertThat(signedIn.headers().allValues("set-cookie")).as("Secure exactly when the edge speaks TLS")
                .anyMatch(c -> c.startsWith("gatehouse_session=") && c.toLowerCase().contains("; secure") == (protocol == Protocol.HTTP_2));

        HttpResponse<String> page = get(edgeUrl("/reports?year=2030"), "text/html");
        assertThat(page.statusCode()).isEqualTo(200);
        RecordedRequest seen = app.takeRequest(Duration.ofSeconds(5));
        assertThat(seen.header("x-subject")).isEqualTo("alice");
        assertThat(seen.header("cookie")).as("the session cookie goes upstream as the client sent it").isNotNull();

        // four minutes and a half later the provider's tokens (5 min) are close to expiry: refreshed on the way
        clock.advance(Duration.ofSeconds(270));
        HttpResponse<String> refreshed = get(edgeUrl("/reports"), "text/html");
        assertThat(refreshed.statusCode()).isEqualTo(200);
        assertThat(refreshes.get()).isEqualTo(1);
        assertThat(refreshed.headers().allValues("set-cookie")).anyMatch(c -> c.startsWith("gatehouse_session="));
        assertThat(get(edgeUrl("/reports"), "text/html").statusCode()).isEqualTo(200);
        assertThat(refreshes.get()).as("the new tokens last another five minutes").isEqualTo(1);

        HttpResponse<String> out = get(edgeUrl("/oauth2/logout"), "text/html");
        assertThat(out.statusCode()).isEqualTo(302);
        assertThat(out.headers().firstValue("location")).hasValueSatisfying(l -> assertThat(l).startsWith(issuer() + "/logout"));
        assertThat(get(edgeUrl("/reports"), "text/html").statusCode()).as("signed out").isEqualTo(302);
    }

    @Test
    void anApiCallWithoutASessionIs401AndForgedOrTamperedValuesAreRefused() throws Exception {
        HttpClient plain = protocol.client();
        HttpResponse<String> api = checked(plain.send(HttpRequest.newBuilder(URI.create(edgeUrl("/api/data"))).header("accept", "application/json").build(),
                HttpResponse.BodyHandlers.ofString()));
        assertThat(api.statusCode()).isEqualTo(401);
        assertThat(api.headers().firstValue("gatehouse-reason")).hasValue("missing_session");

        HttpResponse<String> forged = checked(plain.send(HttpRequest.newBuilder(URI.create(edgeUrl("/oauth2/callback?code=x&state=forged"))).build(),
                HttpResponse.BodyHandlers.ofString()));
        assertThat(forged.statusCode()).isEqualTo(400);
        assertThat(forged.headers().firstValue("gatehouse-reason")).hasValue("oidc_bad_state");

        HttpResponse<String> tampered = checked(plain.send(HttpRequest.newBuilder(URI.create(edgeUrl("/reports")))
                .header("accept", "text/html").header("cookie", "gatehouse_session=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC").build(),
                HttpResponse.BodyHandlers.ofString()));
        assertThat(tampered.statusCode()).as("not a session: sign in again").isEqualTo(302);
    }
}
