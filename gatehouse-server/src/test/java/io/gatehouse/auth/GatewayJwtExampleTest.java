package io.gatehouse.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.gatehouse.Gatehouse;
import io.gatehouse.config.ClusterConfig;
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
 * GATEHOUSE_JWT_PUBLIC_KEY; only the addresses are moved (port 0, the test's backend).
 */
class GatewayJwtExampleTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");

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
        GatehouseConfig shipped = ConfigLoader.load(Path.of("..", "examples", "gateway-jwt.yaml"),
                Map.of("GATEHOUSE_JWT_PUBLIC_KEY", pem.toString())::get);
        ListenerConfig l = shipped.listeners().get(0);
        assertThat(l.address()).isEqualTo("127.0.0.1:8085");
        assertThat(shipped.clusters().get(0).endpoints().get(0).address()).isEqualTo("127.0.0.1:27080");
        GatehouseConfig moved = new GatehouseConfig(
                List.of(new ListenerConfig(l.name(), "127.0.0.1:0", l.routes(), l.limits(), l.timeouts(), l.proxyHeaders(), l.tls(),
                        l.compression(), l.http2(), l.filters(), l.protocol())),
                List.of(new ClusterConfig("api", List.of(ClusterConfig.EndpointConfig.of(backend.address())), null, null, null, null, null, null, null, null)),
                new io.gatehouse.config.AdminConfig("off", null), null);
        Gatehouse gatehouse = Gatehouse.start(moved);
        try {
            HttpClient client = HttpClient.newHttpClient();
            URI uri = URI.create("http://127.0.0.1:" + gatehouse.listenerAddress("edge").getPort() + "/hello");
            String good = token(keys, "https://issuer.test", "edge-api");
            HttpResponse<String> ok = client.send(HttpRequest.newBuilder(uri).header("authorization", "Bearer " + good).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(backend.takeRequest(Duration.ofSeconds(5)).header("x-consumer")).isEqualTo("app-42");
            for (String bad : List.of(token(keys, "https://other.test", "edge-api"), token(keys, "https://issuer.test", "other-api"))) {
                HttpResponse<String> no = client.send(HttpRequest.newBuilder(uri).header("authorization", "Bearer " + bad).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(no.statusCode()).isEqualTo(401);
            }
            HttpResponse<String> none = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(none.statusCode()).isEqualTo(401);
            assertThat(none.headers().firstValue("www-authenticate")).get().asString().startsWith("Bearer");
        } finally {
            gatehouse.shutdown(Duration.ofSeconds(1));
        }
    }

    private static String token(KeyPair keys, String issuer, String audience) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.RS256), new JWTClaimsSet.Builder().issuer(issuer)
                .audience(audience).subject("app-42").expirationTime(Date.from(Instant.now().plusSeconds(300))).build());
        jwt.sign(new RSASSASigner(keys.getPrivate()));
        return jwt.serialize();
    }
}
