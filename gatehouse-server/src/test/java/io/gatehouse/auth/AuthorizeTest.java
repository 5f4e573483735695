package io.gatehouse.auth;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.Protocol;
import io.gatehouse.testing.TestBackend;
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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code authorize} over real sockets: deny and allow lists on the client address after trusted proxies, methods,
 * and rules on the identity an HS256 {@code jwt} filter before it established (scopes, groups, claims). On HTTP/1.1
 * and on HTTP/2 (TLS, ALPN h2): one engine per protocol.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Protocol.class)
class AuthorizeTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    static final String SECRET = "0123456789abcdef0123456789abcdef-shared";
    static GatehouseFixture g;
    static HttpClient client;
    static Protocol protocol;
    @Parameter
    Protocol parameter;

    /** One engine per protocol: started by the first test of each run of the class. */
    @BeforeEach
    void startFor() {
        if (protocol == parameter) return;
        stop();
        start(parameter);
    }

    static void start(Protocol p) {
        protocol = p;
        client = p.client();
        g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    proxy_headers: {trusted_proxies: [127.0.0.1/32, 10.0.0.0/8]}
                    routes:
                      - name: admin
                        match: {path_prefix: /admin}
                        cluster: api
                        filters:
                          - jwt: {secret: "%s", require_exp: false}
                          - authorize:
                              groups: [staff]
                              scopes: [admin:write]
                              claims: [{name: tenant, equals: acme}, {name: roles, contains: ops}, {name: email, glob: "*@acme.test"}]
                      - name: open
                        cluster: api
                        filters:
                          - authorize:
                              deny_cidrs: [203.0.113.0/24]
                              deny_user_agents: ["*sqlmap*"]
                              deny_headers: [{name: x-debug, equals: "1"}]
                              allow_cidrs: [127.0.0.0/8, 198.51.100.0/24]
                              methods: [GET, HEAD]
                consumers:
                  - {name: ops-bot, groups: [staff]}
                  - {name: intern, groups: [interns]}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                """.formatted(p.listenerTls(), SECRET, backend.address()));
    }

    @AfterAll
    static void stop() {
        if (g != null) g.close();
        g = null;
        protocol = null;
    }

    static URI uri(String path) {
        return protocol.uri(g.address().getPort(), path);
    }

    static HttpResponse<String> send(HttpRequest request) {
        try {
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(response.version()).isEqualTo(protocol.version());
            return response;
        } catch (Exception e) {
            throw new AssertionError("request failed: " + e, e);
        }
    }

    static HttpResponse<String> get(String path, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10));
        headers.forEach(b::header);
        return send(b.build());
    }

    static String token(String sub, String scope, String tenant, String roles, String email) throws Exception {
        var claims = new com.nimbusds.jwt.JWTClaimsSet.Builder().subject(sub).claim("scope", scope).claim("tenant", tenant)
                .claim("roles", java.util.List.of(roles.split(","))).claim("email", email).build();
        var jwt = new com.nimbusds.jwt.SignedJWT(new com.nimbusds.jose.JWSHeader(com.nimbusds.jose.JWSAlgorithm.HS256), claims);
        jwt.sign(new com.nimbusds.jose.crypto.MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
        return "Bearer " + jwt.serialize();
    }

    static String reason(HttpResponse<String> r) {
        return r.headers().firstValue("gatehouse-reason").orElse("");
    }

    @Test
    void theClientAddressIsTheNearestUntrustedHopAndListsApplyToIt() {
        assertThat(get("/x", Map.of()).statusCode()).as("127.0.0.1 itself, allowed").isEqualTo(200);
        // the peer (127.0.0.1) and 10.1.1.1 are trusted proxies: the client is 198.51.100.7, allowed
        assertThat(get("/x", Map.of("x-forwarded-for", "198.51.100.7, 10.1.1.1")).statusCode()).isEqualTo(200);
        HttpResponse<String> denied = get("/x", Map.of("x-forwarded-for", "203.0.113.9, 10.1.1.1"));
        assertThat(denied.statusCode()).isEqualTo(403);
        assertThat(reason(denied)).isEqualTo("denied");
        // what a client writes left of an untrusted hop is its own claim: 192.0.2.1 is the client, not 198.51.100.7
        HttpResponse<String> spoof = get("/x", Map.of("x-forwarded-for", "198.51.100.7, 192.0.2.1"));
        assertThat(spoof.statusCode()).isEqualTo(403);
        assertThat(reason(spoof)).isEqualTo("ip_not_allowed");
    }

    @Test
    void denyListsOnUserAgentAndHeadersAndTheMethodList() {
        assertThat(reason(get("/x", Map.of("user-agent", "sqlmap/1.7")))).isEqualTo("denied");
        assertThat(reason(get("/x", Map.of("x-debug", "1")))).isEqualTo("denied");
        HttpResponse<String> post = send(HttpRequest.newBuilder(uri("/x")).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");
        assertThat(post.headers().firstValue("content-type")).hasValue("application/problem+json");
    }

    @Test
    void identityRulesGroupsScopesAndClaims() throws Exception {
        String good = token("ops-bot", "admin:write admin:read", "acme", "ops,dev", "bot@acme.test");
        assertThat(get("/admin/users", Map.of("authorization", good)).statusCode()).isEqualTo(200);

        assertThat(reason(get("/admin/users", Map.of("authorization", token("intern", "admin:write", "acme", "ops", "i@acme.test")))))
                .isEqualTo("group_not_allowed");
        HttpResponse<String> scope = get("/admin/users", Map.of("authorization", token("ops-bot", "admin:read", "acme", "ops", "b@acme.test")));
        assertThat(scope.statusCode()).isEqualTo(403);
        assertThat(reason(scope)).isEqualTo("insufficient_scope");
        assertThat(scope.headers().firstValue("www-authenticate")).hasValue("Bearer error=\"insufficient_scope\", scope=\"admin:write\"");
        assertThat(reason(get("/admin/users", Map.of("authorization", token("ops-bot", "admin:write", "other", "ops", "b@acme.test")))))
                .isEqualTo("claim_mismatch");
        assertThat(reason(get("/admin/users", Map.of("authorization", token("ops-bot", "admin:write", "acme", "dev", "b@acme.test")))))
                .isEqualTo("claim_mismatch");
        assertThat(reason(get("/admin/users", Map.of("authorization", token("ops-bot", "admin:write", "acme", "ops", "b@evil.test")))))
                .isEqualTo("claim_mismatch");
    }
}
