package io.gatehouse.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code examples/gateway-jwt.yaml} as shipped: an RS256 key pair made here, its public half in a PEM file named by
 * GATEHOUSE_JWT_PUBLIC_KEY; only the addresses are moved (port 0, the test's backend); on HTTP/1.1 and HTTP/2.
 * {@code examples/gateway-jwks.yaml} likewise, against an issuer started here.
 */
@org.junit.jupiter.params.ParameterizedClass
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class GatewayJwtExampleTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol protocol;

    /**
     * The example's text with only its addresses moved: port 0 (TLS on it for the HTTP/2 run), the test's backend
     * for {@code endpoint}, no admin listener.
     */
    private String moved(String yaml, String listen, String endpoint, String admin) {
        return yaml.replace("    address: " + listen + "\n", "    address: 127.0.0.1:0\n    " + protocol.listenerTls() + "\n")
                .replace(endpoint, backend.address()).replace("address: " + admin, "address: \"off\"");
    }

    private HttpResponse<String> send(HttpClient client, HttpRequest request) throws Exception {
        HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(protocol.version());
        return r;
    }

    @TempDir
    Path dir;

    @Test
    void theExampleAcceptsTheIssuersTokensForItsAudienceAndRefusesTheRest() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair keys = g.generateKeyPair();
        Path pem = dir.resolve("issuer-public.pem");
        Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(keys.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        java.util.function.Function<String, String> env = Map.of("GATEHOUSE_JWT_PUBLIC_KEY", pem.toString())::get;
        GatehouseConfig shipped = ConfigLoader.load(Path.of("..", "examples", "gateway-jwt.yaml"), env);
        ListenerConfig l = shipped.listeners().get(0);
        assertThat(l.address()).isEqualTo("127.0.0.1:8085");
        assertThat(shipped.clusters().get(0).endpoints().get(0).address()).isEqualTo("127.0.0.1:27080");
        String yaml = moved(Files.readString(Path.of("..", "examples", "gateway-jwt.yaml")), "127.0.0.1:8085", "127.0.0.1:27080", "127.0.0.1:9086");
        Gatehouse gatehouse = Gatehouse.start(ConfigLoader.parse(yaml, "gateway-jwt.yaml", env));
        try {
            HttpClient client = protocol.client();
            URI uri = protocol.uri(gatehouse.listenerAddress("edge").getPort(), "/hello");
            String good = token(keys, "https://issuer.test", "edge-api");
            HttpResponse<String> ok = send(client, HttpRequest.newBuilder(uri).header("authorization", "Bearer " + good).build());
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(backend.takeRequest(Duration.ofSeconds(5)).header("x-consumer")).isEqualTo("app-42");
            for (String bad : List.of(token(keys, "https://other.test", "edge-api"), token(keys, "https://issuer.test", "other-api"))) {
                HttpResponse<String> no = send(client, HttpRequest.newBuilder(uri).header("authorization", "Bearer " + bad).build());
                assertThat(no.statusCode()).isEqualTo(401);
            }
            HttpResponse<String> none = send(client, HttpRequest.newBuilder(uri).build());
            assertThat(none.statusCode()).isEqualTo(401);
            assertThat(none.headers().firstValue("www-authenticate")).get().asString().startsWith("Bearer");
        } finally {
            gatehouse.shutdown(Duration.ofSeconds(1));
        }
    }

    /**
     * {@code examples/gateway-jwks.yaml} as shipped, its {@code jwks_url} pointed (GATEHOUSE_JWKS_URL) at an issuer
     * started here and its addresses moved: the issuer's tokens pass with the consumer from {@code client_id}, and an
     * HS256 token keyed with the issuer's public key is refused as algorithm confusion.
     */
    @Test
    void theJwksExampleTakesItsKeysFromTheIssuersEndpoint() throws Exception {
        com.nimbusds.jose.jwk.RSAKey key = new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048).keyID("k1").generate();
        try (TestBackend issuer = new TestBackend().name("issuer")) {
            issuer.start();
            issuer.respond(r -> io.gatehouse.testing.TestResponse.ok(new com.nimbusds.jose.jwk.JWKSet(key.toPublicJWK()).toString(true))
                    .header("content-type", "application/json").header("cache-control", "max-age=300"));
            String yaml = Files.readString(Path.of("..", "examples", "gateway-jwks.yaml"));
            GatehouseConfig shipped = ConfigLoader.parse(yaml, "gateway-jwks.yaml", name -> null);
            assertThat(shipped.listeners().get(0).address()).isEqualTo("127.0.0.1:8086");
            Gatehouse gatehouse = Gatehouse.start(ConfigLoader.parse(moved(yaml, "127.0.0.1:8086", "127.0.0.1:27081", "127.0.0.1:9087"), "gateway-jwks.yaml",
                    Map.of("GATEHOUSE_JWKS_URL", "http://127.0.0.1:" + issuer.port() + "/.well-known/jwks.json")::get));
            try {
                HttpClient client = protocol.client();
                URI uri = protocol.uri(gatehouse.listenerAddress("edge").getPort(), "/orders");
                SignedJWT good = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").build(), claims());
                good.sign(new RSASSASigner(key));
                HttpResponse<String> ok = send(client, HttpRequest.newBuilder(uri).header("authorization", "Bearer " + good.serialize()).build());
                assertThat(ok.statusCode()).isEqualTo(200);
                var seen = backend.takeRequest(Duration.ofSeconds(5));
                assertThat(seen.header("x-consumer")).isEqualTo("shop-frontend");
                assertThat(issuer.takeRequest(Duration.ofSeconds(5)).uri()).isEqualTo("/.well-known/jwks.json");

                SignedJWT confused = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("k1").build(), claims());
                confused.sign(new com.nimbusds.jose.crypto.MACSigner(key.toPublicKey().getEncoded()));
                HttpResponse<String> no = send(client, HttpRequest.newBuilder(uri).header("authorization", "Bearer " + confused.serialize()).build());
                assertThat(no.statusCode()).isEqualTo(401);
                assertThat(no.headers().firstValue("gatehouse-reason")).hasValue("algorithm_confusion");
            } finally {
                gatehouse.shutdown(Duration.ofSeconds(1));
            }
        }
    }

    private static JWTClaimsSet claims() {
        return new JWTClaimsSet.Builder().issuer("https://issuer.test").audience("orders-api").subject("user-7")
                .claim("client_id", "shop-frontend").expirationTime(Date.from(Instant.now().plusSeconds(300))).build();
    }

    private static String token(KeyPair keys, String issuer, String audience) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.RS256), new JWTClaimsSet.Builder().issuer(issuer)
                .audience(audience).subject("app-42").expirationTime(Date.from(Instant.now().plusSeconds(300))).build());
        jwt.sign(new RSASSASigner(keys.getPrivate()));
        return jwt.serialize();
    }
}
