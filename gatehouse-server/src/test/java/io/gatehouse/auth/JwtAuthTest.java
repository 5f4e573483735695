package io.gatehouse.auth;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.gatehouse.Gatehouse;
import io.gatehouse.clock.ManualClock;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.EdECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code jwt} filter, table-driven over real sockets: every rejection of the issue has its own reason (401 with
 * {@code WWW-Authenticate}, 403 for a disabled consumer), and valid tokens pass (an {@code aud} array containing
 * ours, a token at the edge of the skew window, each key type). Time is a {@link ManualClock}.
 */
@org.junit.jupiter.params.ParameterizedClass(name = "{0}")
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class JwtAuthTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");

    static final Instant START = Instant.parse("2030-06-01T12:00:00Z");
    static final String SECRET = "0123456789abcdef0123456789abcdef-shared";
    static RSAKey rsa;
    static ECKey ec;
    static ECKey ec384;
    static KeyPair ed;
    static OctetKeyPair edJwk;
    static ManualClock clock;
    static Gatehouse gatehouse;
    static HttpClient client;
    static io.gatehouse.Protocol protocol;
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol parameter;

    /** One engine per protocol: started by the first test of each run of the class. */
    @org.junit.jupiter.api.BeforeEach
    void startFor() throws Exception {
        if (protocol == parameter) return;
        if (gatehouse != null) stop();
        start(parameter);
    }

    static void start(io.gatehouse.Protocol p) throws Exception {
        protocol = p;
        client = p.client();
        rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
        ec384 = new ECKeyGenerator(Curve.P_384).keyID("ec-2").generate();
        KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
        ed = g.generateKeyPair();
        edJwk = new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(rawEd25519(ed))).keyID("ed-1").build();
        String jwks = new JWKSet(List.of(rsa.toPublicJWK(), ec.toPublicJWK(), ec384.toPublicJWK(), edJwk)).toString(true).replace("'", "''");
        clock = new ManualClock(START);
        gatehouse = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: api
                        cluster: api
                        filters:
                          - jwt:
                              issuer: https://issuer.test
                              audiences: [edge-api]
                              jwks: '%s'
                              secret: "%s"
                              algorithms: [RS256, RS384, RS512, PS256, ES256, ES384, EdDSA, HS256]
                consumers:
                  - {name: blocked-app, disabled: true}
                  - {name: partner-app, groups: [partners]}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(p.listenerTls(), jwks, SECRET, backend.address()), "jwt.yaml"), clock);
    }

    @AfterAll
    static void stop() {
        if (gatehouse != null) gatehouse.shutdown(Duration.ofSeconds(1));
        gatehouse = null;
        protocol = null;
    }

    /** The server's present: one test moves the clock, so tokens are made relative to it. */
    static Instant now() {
        return clock.instant();
    }

    /** Claims that pass, to change one thing at a time. */
    static JWTClaimsSet.Builder good() {
        return new JWTClaimsSet.Builder().issuer("https://issuer.test").audience("edge-api").subject("partner-app")
                .expirationTime(Date.from(now().plusSeconds(300))).issueTime(Date.from(now().minusSeconds(10)))
                .claim("scope", "links:read links:write");
    }

    static String rs256(JWTClaimsSet claims) {
        return sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1").build(), claims, rsaSigner());
    }

    static JWSSigner rsaSigner() {
        try {
            return new RSASSASigner(rsa);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String sign(JWSHeader header, JWTClaimsSet claims, JWSSigner signer) {
        try {
            SignedJWT jwt = new SignedJWT(header, claims);
            jwt.sign(signer);
            return jwt.serialize();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String ed25519(JWTClaimsSet claims) {
        try {
            String head = Base64URL.encode("{\"alg\":\"EdDSA\",\"kid\":\"ed-1\"}".getBytes(StandardCharsets.UTF_8)).toString();
            String body = Base64URL.encode(claims.toString().getBytes(StandardCharsets.UTF_8)).toString();
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(ed.getPrivate());
            s.update((head + "." + body).getBytes(StandardCharsets.US_ASCII));
            return head + "." + body + "." + Base64URL.encode(s.sign());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The 32 bytes RFC 8037 puts in {@code x}: the public key's encoding (little-endian y, x's parity on top). */
    static byte[] rawEd25519(KeyPair kp) {
        var point = ((EdECPublicKey) kp.getPublic()).getPoint();
        byte[] be = point.getY().toByteArray();
        byte[] le = new byte[32];
        for (int i = 0; i < Math.min(32, be.length); i++) le[i] = be[be.length - 1 - i];
        if (point.isXOdd()) le[31] |= (byte) 0x80;
        return le;
    }

    static Stream<Arguments> tokens() throws Exception {
        return Stream.of(
                Arguments.of("RS256, valid", (Supplier<String>) () -> rs256(good().build()), 200, null),
                Arguments.of("PS256, valid", (Supplier<String>) () -> sign(new JWSHeader.Builder(JWSAlgorithm.PS256).keyID("rsa-1").build(),
                        good().build(), rsaSigner()), 200, null),
                Arguments.of("ES256, valid", (Supplier<String>) () -> sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec-1").build(),
                        good().build(), ecSigner()), 200, null),
                Arguments.of("RS384, valid", (Supplier<String>) () -> sign(new JWSHeader.Builder(JWSAlgorithm.RS384).keyID("rsa-1").build(),
                        good().build(), rsaSigner()), 200, null),
                Arguments.of("RS512, valid", (Supplier<String>) () -> sign(new JWSHeader.Builder(JWSAlgorithm.RS512).keyID("rsa-1").build(),
                        good().build(), rsaSigner()), 200, null),
                Arguments.of("ES384, valid", (Supplier<String>) () -> sign(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID("ec-2").build(),
                        good().build(), ecSigner(ec384)), 200, null),
                Arguments.of("EdDSA, valid", (Supplier<String>) () -> ed25519(good().build()), 200, null),
                Arguments.of("HS256 with the shared secret, valid", (Supplier<String>) () -> sign(new JWSHeader(JWSAlgorithm.HS256),
                        good().build(), macSigner(SECRET)), 200, null),
                Arguments.of("aud an array containing ours", (Supplier<String>) () -> rs256(good().audience(List.of("other", "edge-api")).build()), 200, null),
                Arguments.of("expired 29 s ago, within the 30 s skew", (Supplier<String>) () -> rs256(good().expirationTime(Date.from(now().minusSeconds(29))).build()), 200, null),
                Arguments.of("no kid: every key tried", (Supplier<String>) () -> sign(new JWSHeader(JWSAlgorithm.RS256), good().build(), rsaSigner()), 200, null),
                Arguments.of("malformed", (Supplier<String>) () -> "not.a.jwt", 401, "malformed_token"),
                Arguments.of("alg none", (Supplier<String>) () -> new PlainJWT(good().build()).serialize(), 401, "alg_none"),
                Arguments.of("algorithm not allowed (PS512)", (Supplier<String>) () -> sign(new JWSHeader.Builder(JWSAlgorithm.PS512).keyID("rsa-1").build(),
                        good().build(), rsaSigner()), 401, "algorithm_not_allowed"),
                Arguments.of("algorithm confusion: HS256 keyed with the RSA public key", (Supplier<String>) () -> sign(
                        new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build(), good().build(), macSigner(publicPem())), 401, "algorithm_confusion"),
                Arguments.of("algorithm confusion, no kid: HS256 keyed with the RSA key's PEM", (Supplier<String>) () -> sign(
                        new JWSHeader(JWSAlgorithm.HS256), good().build(), macSigner(publicPem())), 401, "algorithm_confusion"),
                Arguments.of("HS256 with another secret", (Supplier<String>) () -> sign(new JWSHeader(JWSAlgorithm.HS256),
                        good().build(), macSigner(SECRET + "-not")), 401, "bad_signature"),
                Arguments.of("an RSA key for ES256", (Supplier<String>) () -> sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("rsa-1").build(),
                        good().build(), ecSigner()), 401, "algorithm_key_mismatch"),
                Arguments.of("jku header", (Supplier<String>) () -> sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1")
                        .jwkURL(URI.create("https://attacker.test/jwks")).build(), good().build(), rsaSigner()), 401, "untrusted_key_reference"),
                Arguments.of("jwk header", (Supplier<String>) () -> sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1")
                        .jwk(rsa.toPublicJWK()).build(), good().build(), rsaSigner()), 401, "untrusted_key_reference"),
                Arguments.of("x5u header", (Supplier<String>) () -> sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1")
                        .x509CertURL(URI.create("https://attacker.test/cert")).build(), good().build(), rsaSigner()), 401, "untrusted_key_reference"),
                Arguments.of("x5c header", (Supplier<String>) () -> sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1")
                        .x509CertChain(List.of(com.nimbusds.jose.util.Base64.encode("a certificate of the token's choosing, never read"))).build(), good().build(), rsaSigner()), 401, "untrusted_key_reference"),
                Arguments.of("crit header", (Supplier<String>) () -> sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1")
                        .criticalParams(Set.of("exp")).type(JOSEObjectType.JWT).build(), good().build(), rsaSigner()), 401, "unsupported_crit"),
                Arguments.of("signature over different bytes", (Supplier<String>) () -> tamper(rs256(good().build())), 401, "bad_signature"),
                Arguments.of("unknown kid", (Supplier<String>) () -> sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-9").build(),
                        good().build(), rsaSigner()), 401, "unknown_key"),
                Arguments.of("no exp", (Supplier<String>) () -> rs256(good().expirationTime(null).build()), 401, "missing_exp"),
                Arguments.of("expired 31 s ago", (Supplier<String>) () -> rs256(good().expirationTime(Date.from(now().minusSeconds(31))).build()), 401, "expired"),
                Arguments.of("nbf in 31 s", (Supplier<String>) () -> rs256(good().notBeforeTime(Date.from(now().plusSeconds(31))).build()), 401, "not_yet_valid"),
                Arguments.of("iat in 31 s", (Supplier<String>) () -> rs256(good().issueTime(Date.from(now().plusSeconds(31))).build()), 401, "issued_in_future"),
                Arguments.of("wrong issuer", (Supplier<String>) () -> rs256(good().issuer("https://evil.test").build()), 401, "wrong_issuer"),
                Arguments.of("wrong audience", (Supplier<String>) () -> rs256(good().audience(List.of("other-api")).build()), 401, "wrong_audience"),
                Arguments.of("a disabled consumer", (Supplier<String>) () -> rs256(good().subject("blocked-app").build()), 403, "consumer_disabled"),
                // the token's text is decoded strictly (one spelling per token) and its JSON may not repeat a member
                Arguments.of("RS256 over raw JSON text, valid (the helper below is right)", (Supplier<String>) () -> rs256Raw(
                        "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", good().build().toString()), 200, null),
                Arguments.of("header repeats alg", (Supplier<String>) () -> rs256Raw(
                        "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"alg\":\"HS256\"}", good().build().toString()), 401, "malformed_token"),
                Arguments.of("claims repeat exp (an expired one first)", (Supplier<String>) () -> rs256Raw("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}",
                        good().build().toString().replaceFirst("^\\{", "{\"exp\":" + (now().getEpochSecond() - 3600) + ",")), 401, "malformed_token"),
                Arguments.of("b64: false without crit (RFC 7797 payload)", (Supplier<String>) () -> rs256Raw(
                        "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"b64\":false}", good().build().toString()), 401, "malformed_token"),
                Arguments.of("whitespace inside the signature", (Supplier<String>) () -> { String t = rs256(good().build());
                        return t.substring(0, t.length() - 10) + " " + t.substring(t.length() - 10); }, 401, "malformed_token"),
                Arguments.of("signature padded with '='", (Supplier<String>) () -> rs256(good().build()) + "==", 401, "malformed_token"),
                Arguments.of("signature in non-canonical base64url (unused low bits set)", (Supplier<String>) () -> nonCanonical(rs256(good().build())),
                        401, "malformed_token"),
                Arguments.of("payload in the standard base64 alphabet ('+' and '/')", (Supplier<String>) () -> rs256Raw(
                        "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", good().claim("pad", "??????").build().toString(), true),
                        401, "malformed_token"));
    }

    static String rs256Raw(String headerJson, String claimsJson) {
        return rs256Raw(headerJson, claimsJson, false);
    }

    /** An RS256 token over exactly these JSON texts (nimbus's builders would refuse to write some of them). */
    static String rs256Raw(String headerJson, String claimsJson, boolean standardAlphabet) {
        try {
            java.util.Base64.Encoder enc = standardAlphabet ? java.util.Base64.getEncoder().withoutPadding()
                    : java.util.Base64.getUrlEncoder().withoutPadding();
            String input = enc.encodeToString(headerJson.getBytes(StandardCharsets.UTF_8)) + "."
                    + enc.encodeToString(claimsJson.getBytes(StandardCharsets.UTF_8));
            if (standardAlphabet && !input.contains("+") && !input.contains("/")) throw new IllegalStateException("no +/ in " + input);
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initSign(rsa.toPrivateKey());
            s.update(input.getBytes(StandardCharsets.US_ASCII));
            return input + "." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(s.sign());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The same signature bytes, its last character spelled with the unused low bits set (a 256-byte value: 4 bits). */
    static String nonCanonical(String token) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        int last = alphabet.indexOf(token.charAt(token.length() - 1));
        String other = token.substring(0, token.length() - 1) + alphabet.charAt(last | 0x1);
        if (!java.util.Arrays.equals(Base64URL.from(other.substring(other.lastIndexOf('.') + 1)).decode(),
                Base64URL.from(token.substring(token.lastIndexOf('.') + 1)).decode())) {
            throw new IllegalStateException("not the same signature bytes");
        }
        return other;
    }

    static JWSSigner ecSigner() {
        return ecSigner(ec);
    }

    static JWSSigner ecSigner(ECKey key) {
        try {
            return new ECDSASigner(key);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static JWSSigner macSigner(String secret) {
        try {
            return new MACSigner(secret.getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String publicPem() {
        try {
            return "-----BEGIN PUBLIC KEY-----\n" + java.util.Base64.getMimeEncoder().encodeToString(rsa.toPublicKey().getEncoded())
                    + "\n-----END PUBLIC KEY-----\n";
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The same signature over a payload with one claim changed. */
    static String tamper(String token) {
        String[] p = token.split("\\.");
        String claims = new String(Base64URL.from(p[1]).decode(), StandardCharsets.UTF_8).replace("partner-app", "admin-app00");
        return p[0] + "." + Base64URL.encode(claims.getBytes(StandardCharsets.UTF_8)) + "." + p[2];
    }

    static HttpResponse<String> call(String authorization, Map<String, String> extra) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(protocol.uri(gatehouse.listenerAddress("edge").getPort(), "/links"))
                .timeout(Duration.ofSeconds(10));
        if (authorization != null) b.header("authorization", authorization);
        extra.forEach(b::header);
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).as("the protocol this run is about").isEqualTo(protocol.version());
        return r;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tokens")
    void eachTokenIsAcceptedOrRefusedWithItsReason(String name, Supplier<String> token, int status, String reason) throws Exception {
        backend.reset();
        HttpResponse<String> r = call("Bearer " + token.get(), Map.of("x-consumer", "forged"));
        assertThat(r.statusCode()).as(name).isEqualTo(status);
        if (status == 200) {
            RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
            assertThat(seen.header("x-consumer")).as("the identity, never the client's copy").isEqualTo("partner-app");
            assertThat(seen.header("x-subject")).isEqualTo("partner-app");
            assertThat(seen.header("x-scopes")).isEqualTo("links:read links:write");
            assertThat(seen.header("x-consumer-groups")).isEqualTo("partners");
            return;
        }
        assertThat(r.headers().firstValue("content-type")).hasValue("application/problem+json");
        assertThat(r.headers().firstValue("gatehouse-reason")).hasValue(reason);
        assertThat(r.body()).contains("\"reason\":\"" + reason + "\"").contains("\"status\":" + status);
        if (status == 401) {
            assertThat(r.headers().firstValue("www-authenticate")).get().asString()
                    .startsWith("Bearer realm=\"api\"").contains("error=\"invalid_token\"");
        }
        assertThat(backend.requestCount()).as("nothing refused reaches the endpoint").isZero();
    }

    @Test
    void noTokenIs401WithABearerChallengeAndNoErrorCode() throws Exception {
        HttpResponse<String> r = call(null, Map.of());
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("www-authenticate")).hasValue("Bearer realm=\"api\"");
        assertThat(r.headers().firstValue("gatehouse-reason")).hasValue("missing_credentials");
    }

    @Test
    void aCachedTokenStopsWorkingAtItsExpiryAsTheClockMoves() throws Exception {
        ManualClock local = clock;
        String token = rs256(good().expirationTime(Date.from(now().plusSeconds(60))).build());
        assertThat(call("Bearer " + token, Map.of()).statusCode()).isEqualTo(200);
        assertThat(call("Bearer " + token, Map.of()).statusCode()).as("from the cache").isEqualTo(200);
        local.advance(Duration.ofSeconds(60 + 30));
        HttpResponse<String> late = call("Bearer " + token, Map.of());
        assertThat(late.statusCode()).isEqualTo(401);
        assertThat(late.headers().firstValue("gatehouse-reason")).hasValue("expired");
    }
}
