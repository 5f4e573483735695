package io.gatehouse.ratelimit;

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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import redis.embedded.RedisServer;

import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Rate-limit keys beyond the address and the route: {@code api_key} gives each of a consumer's keys its own bucket,
 * named in Redis by the key's hash (never the secret), and {@code claim:NAME} makes the callers that share a claim's
 * value share one bucket.
 */
@ParameterizedClass
@EnumSource(Protocol.class)
class RateLimitKeysTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    static final String KEY_1 = "gh_first_key_of_the_shop_0123456789";
    static final String KEY_2 = "gh_second_key_of_the_shop_987654321";
    static final String SECRET = "0123456789abcdef0123456789abcdef-tenants";
    static RedisServer redis;
    static int redisPort;
    static Gatehouse gatehouse;
    static HttpClient client;
    static Protocol protocol;
    @Parameter
    Protocol parameter;

    @BeforeAll
    static void startRedis() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            redisPort = s.getLocalPort();
        }
        redis = new RedisServer(redisPort);
        redis.start();
    }

    /** One engine per protocol; its route names carry the protocol, so the two runs never share a Redis bucket. */
    @BeforeEach
    void startFor() throws Exception {
        if (protocol == parameter) return;
        if (gatehouse != null) gatehouse.shutdown(Duration.ofSeconds(1));
        protocol = parameter;
        client = parameter.client();
        String p = parameter.name().toLowerCase(Locale.ROOT).replace('_', '-');
        gatehouse = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: keyed-%s
                        match: {path_prefix: /keyed}
                        cluster: api
                        filters:
                          - api_key: {header: x-api-key}
                          - rate_limit: {key: api_key, mode: global, limits: [{rate: 2/h}]}
                      - name: tenant-%s
                        match: {path_prefix: /tenant}
                        cluster: api
                        filters:
                          - jwt: {secret: "%s"}
                          - rate_limit: {key: "claim:tenant", limits: [{rate: 2/h}]}
                consumers:
                  - name: shop
                    api_keys: [{sha256: %s}, {sha256: %s}]
                redis: {address: "127.0.0.1:%d", timeout: 2s}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(parameter.listenerTls(), p, p, SECRET, sha256(KEY_1), sha256(KEY_2), redisPort,
                backend.address()), "keys.yaml"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (gatehouse != null) gatehouse.shutdown(Duration.ofSeconds(1));
        gatehouse = null;
        protocol = null;
        redis.stop();
    }

    static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    private int get(String path, String header, String value) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(protocol.uri(gatehouse.listenerAddress("edge").getPort(), path))
                .header(header, value).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(protocol.version());
        return r.statusCode();
    }

    @Test
    void eachApiKeyHasItsOwnBucketNamedByItsHashNeverItsSecret() throws Exception {
        assertThat(List.of(get("/keyed", "x-api-key", KEY_1), get("/keyed", "x-api-key", KEY_1), get("/keyed", "x-api-key", KEY_1)))
                .containsExactly(200, 200, 429);
        // the same consumer's other key: a bucket of its own
        assertThat(List.of(get("/keyed", "x-api-key", KEY_2), get("/keyed", "x-api-key", KEY_2), get("/keyed", "x-api-key", KEY_2)))
                .containsExactly(200, 200, 429);
        io.lettuce.core.RedisClient direct = io.lettuce.core.RedisClient.create("redis://127.0.0.1:" + redisPort);
        try (var conn = direct.connect()) {
            String p = protocol.name().toLowerCase(Locale.ROOT).replace('_', '-');
            List<String> keys = conn.sync().keys("gatehouse:rl:edge:keyed-" + p + ":*");
            assertThat(keys).containsExactlyInAnyOrder(
                    "gatehouse:rl:edge:keyed-" + p + ":k:" + sha256(KEY_1).substring(0, 16),
                    "gatehouse:rl:edge:keyed-" + p + ":k:" + sha256(KEY_2).substring(0, 16));
            assertThat(String.join(" ", conn.sync().keys("*"))).doesNotContain(KEY_1).doesNotContain(KEY_2);
        } finally {
            direct.shutdown();
        }
    }

    @Test
    void callersSharingAClaimsValueShareItsBucket() throws Exception {
        String alice = token("alice", "acme"), bob = token("bob", "acme"), carol = token("carol", "globex");
        assertThat(get("/tenant", "authorization", "Bearer " + alice)).isEqualTo(200);
        assertThat(get("/tenant", "authorization", "Bearer " + bob)).isEqualTo(200);
        assertThat(get("/tenant", "authorization", "Bearer " + alice)).as("acme's two are spent, whoever spent them").isEqualTo(429);
        assertThat(get("/tenant", "authorization", "Bearer " + bob)).isEqualTo(429);
        assertThat(get("/tenant", "authorization", "Bearer " + carol)).as("another tenant").isEqualTo(200);
    }

    private static String token(String subject, String tenant) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), new JWTClaimsSet.Builder().subject(subject)
                .claim("tenant", tenant).expirationTime(new Date(System.currentTimeMillis() + 3_600_000)).build());
        jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }
}
