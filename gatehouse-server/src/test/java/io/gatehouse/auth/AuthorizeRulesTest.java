package io.gatehouse.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.gatehouse.Gatehouse;
import io.gatehouse.Protocol;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code authorize} rules the other tests leave out, on both protocols: a claim that must be {@code one_of} several
 * values, scopes granted in the {@code scp} claim (an array, as Azure AD and Okta send them), and a route open only to
 * named consumers (not groups).
 */
@ParameterizedClass
@EnumSource(Protocol.class)
class AuthorizeRulesTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    static final String SECRET = "0123456789abcdef0123456789abcdef-authorize";
    static Gatehouse gatehouse;
    static HttpClient client;
    static Protocol protocol;
    @Parameter
    Protocol parameter;

    @BeforeEach
    void startFor() throws Exception {
        if (protocol == parameter) return;
        stop();
        protocol = parameter;
        client = parameter.client();
        gatehouse = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: regions
                        match: {path_prefix: /regions}
                        cluster: api
                        filters:
                          - jwt: {secret: "%s"}
                          - authorize: {claims: [{name: region, one_of: [eu-west, eu-central]}]}
                      - name: scoped
                        match: {path_prefix: /scoped}
                        cluster: api
                        filters:
                          - jwt: {secret: "%s"}
                          - authorize: {scopes: ["orders:read", "orders:write"]}
                      - name: named
                        match: {path_prefix: /named}
                        cluster: api
                        filters:
                          - jwt: {secret: "%s"}
                          - authorize: {consumers: [billing]}
                consumers:
                  - {name: billing, groups: [finance]}
                  - {name: reporting, groups: [finance]}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(parameter.listenerTls(), SECRET, SECRET, SECRET, backend.address()), "authorize.yaml"));
    }

    @AfterAll
    static void stop() {
        if (gatehouse != null) gatehouse.shutdown(Duration.ofSeconds(1));
        gatehouse = null;
        protocol = null;
    }

    private HttpResponse<String> call(String path, Consumer<JWTClaimsSet.Builder> claims) throws Exception {
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().subject("billing").expirationTime(new Date(System.currentTimeMillis() + 3_600_000));
        claims.accept(b);
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), b.build());
        jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(protocol.uri(gatehouse.listenerAddress("edge").getPort(), path))
                .header("authorization", "Bearer " + jwt.serialize()).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(protocol.version());
        return r;
    }

    private static void refused(HttpResponse<String> r, String reason) {
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.headers().firstValue("gatehouse-reason")).hasValue(reason);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/problem+json");
    }

    @Test
    void aClaimMustBeOneOfTheListedValues() throws Exception {
        assertThat(call("/regions", c -> c.claim("region", "eu-west")).statusCode()).isEqualTo(200);
        assertThat(call("/regions", c -> c.claim("region", "eu-central")).statusCode()).isEqualTo(200);
        refused(call("/regions", c -> c.claim("region", "us-east")), "claim_mismatch");
        refused(call("/regions", c -> c.claim("region", "eu-west-2")), "claim_mismatch");
        refused(call("/regions", c -> { }), "claim_mismatch");
    }

    @Test
    void scopesComeFromTheScpClaimAsWellAsFromScope() throws Exception {
        assertThat(call("/scoped", c -> c.claim("scp", List.of("orders:read", "orders:write", "profile"))).statusCode()).isEqualTo(200);
        assertThat(call("/scoped", c -> c.claim("scp", "orders:write orders:read")).statusCode()).as("scp as a string").isEqualTo(200);
        assertThat(call("/scoped", c -> c.claim("scope", "orders:read orders:write")).statusCode()).isEqualTo(200);
        HttpResponse<String> missing = call("/scoped", c -> c.claim("scp", List.of("orders:read")));
        refused(missing, "insufficient_scope");
        assertThat(missing.headers().firstValue("www-authenticate")).get().asString().contains("insufficient_scope");
    }

    @Test
    void onlyTheNamedConsumersNotTheirGroupMates() throws Exception {
        assertThat(call("/named", c -> c.subject("billing")).statusCode()).isEqualTo(200);
        refused(call("/named", c -> c.subject("reporting")), "consumer_not_allowed");
        refused(call("/named", c -> c.subject("someone-else")), "consumer_not_allowed");
    }
}
