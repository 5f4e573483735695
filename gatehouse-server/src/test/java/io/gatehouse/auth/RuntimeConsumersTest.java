package io.gatehouse.auth;

import com.fasterxml.jackson.databind.JsonNode;
import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.redis.SharedRedis;
import io.gatehouse.redis.SharedRedis.Answer;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Consumers managed at runtime through the admin API, shared by two edges through a real Redis: made on one edge,
 * its key works on the other after its next poll; a rotation keeps both keys working; disable, enable and delete reach
 * every edge; a plan's limits apply; the listing shows usage and what is left of the quota. Keys are stored hashed.
 * On HTTP/1.1 and on HTTP/2 (TLS, ALPN h2): one Redis for the class (emptied between the two), two edges per protocol.
 */
@org.junit.jupiter.params.ParameterizedClass(name = "{0}")
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class RuntimeConsumersTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    static SharedRedis redis;
    static Gatehouse a;
    static Gatehouse b;
    static HttpClient client;
    static io.gatehouse.Protocol protocol;
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol parameter;
    static final String SECRET = "runtime-consumers-test-secret-0123456789";
    @org.junit.jupiter.api.io.TempDir
    static java.nio.file.Path dir;

    @BeforeAll
    static void startRedis() throws Exception {
        redis = new SharedRedis();
    }

    /** Two edges per protocol, on an empty Redis: started by the first test of each run of the class. */
    @org.junit.jupiter.api.BeforeEach
    void startFor() throws Exception {
        if (protocol == parameter) return;
        stopEdges();
        redis.flush();
        start(parameter);
    }

    // Redis's timeout is generous (5 s): an admin write or poll slowed by a loaded machine must not fail as a Redis
    // timeout, which is not what these tests are about
    static void start(io.gatehouse.Protocol p) throws Exception {
        protocol = p;
        client = p.client();
        String yaml = """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: jwt
                        match: {path_prefix: /jwt}
                        cluster: api
                        filters:
                          - jwt: {secret: "%s", algorithms: [HS256]}
                      - name: api
                        cluster: api
                        filters:
                          - api_key: {}
                          - rate_limit: {limits: [{rate: 1000/s}], plans: [{plan: tiny, limits: [{rate: 2/h, name: tiny}]}]}
                          - quota: {per_day: 100}
                consumers:
                  - name: from-config
                    api_keys: [{sha256: "%s"}]
                redis: {address: "%s", timeout: 5s}
                metering: {path: "%s"}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "127.0.0.1:0"}
                """;
        a = Gatehouse.start(ConfigLoader.parse(yaml.formatted(p.listenerTls(), SECRET, "a".repeat(64), redis.address(),
                dir.resolve(p + "-a.jsonl"), backend.address()), "a.yaml"));
        b = Gatehouse.start(ConfigLoader.parse(yaml.formatted(p.listenerTls(), SECRET, "a".repeat(64), redis.address(),
                dir.resolve(p + "-b.jsonl"), backend.address()), "b.yaml"));
    }

    static void stopEdges() {
        if (a != null) a.shutdown(Duration.ofSeconds(1));
        if (b != null) b.shutdown(Duration.ofSeconds(1));
        a = b = null;
        protocol = null;
    }

    @AfterAll
    static void stop() throws Exception {
        stopEdges();
        redis.close();
    }

    /** Sends {@code request} on this run's protocol; the answer must have come on it. */
    static int send(HttpRequest.Builder request) throws Exception {
        HttpResponse<Void> r = client.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding());
        assertThat(r.version()).isEqualTo(protocol.version());
        return r.statusCode();
    }

    static int call(Gatehouse g, String key) throws Exception {
        return send(HttpRequest.newBuilder(protocol.uri(g.listenerAddress("edge").getPort(), "/x")).header("x-api-key", key));
    }

    /** Waits for {@code edge} to answer {@code status} to {@code key} (see {@link SharedRedis#REACHES_OTHER_EDGE}). */
    static void reaches(Gatehouse edge, String key, int status) {
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).pollInterval(Duration.ofMillis(20)).until(() -> call(edge, key) == status);
    }

    @Test
    void aConsumerMadeOnOneEdgeWorksOnTheOtherAndFollowsEveryChange() throws Exception {
        Answer made = SharedRedis.admin(a, "POST", "/consumers", "{\"name\": \"partner-7\", \"groups\": [\"partners\"], \"metadata\": {\"tier\": \"b\"}}");
        assertThat(made.status()).isEqualTo(201);
        String key = made.json().get("api_key").asText();
        assertThat(key).startsWith("gh_").hasSizeGreaterThan(40);
        JsonNode stored = made.json().get("consumer");
        assertThat(stored.get("api_keys").get(0).get("sha256").asText()).isEqualTo(ConsumerStore.sha256Hex(key));
        assertThat(stored.toString()).as("only the hash is kept").doesNotContain(key);

        assertThat(call(a, key)).isEqualTo(200);
        reaches(b, key, 200);

        Answer rotated = SharedRedis.admin(b, "POST", "/consumers/partner-7/keys", "{\"overlap\": \"1h\"}");
        assertThat(rotated.status()).isEqualTo(200);
        String next = rotated.json().get("api_key").asText();
        reaches(a, next, 200);
        assertThat(call(a, key)).as("the old key works during the overlap").isEqualTo(200);
        assertThat(rotated.json().get("consumer").get("api_keys").get(0).get("expires").asText()).isNotEmpty();

        assertThat(SharedRedis.admin(a, "POST", "/consumers/partner-7/disable", null).status()).isEqualTo(200);
        reaches(b, next, 403);
        assertThat(SharedRedis.admin(a, "POST", "/consumers/partner-7/enable", null).status()).isEqualTo(200);
        reaches(b, next, 200);

        assertThat(SharedRedis.admin(b, "DELETE", "/consumers/partner-7", null).status()).isEqualTo(200);
        reaches(a, next, 401);
        assertThat(SharedRedis.admin(a, "GET", "/consumers/partner-7", null).status()).isEqualTo(404);
    }

    @Test
    void aRuntimeConsumersPlanAppliesAndTheListingShowsUsageAndQuota() throws Exception {
        Answer made = SharedRedis.admin(a, "POST", "/consumers", "{\"name\": \"small-app\", \"plan\": \"tiny\"}");
        String key = made.json().get("api_key").asText();
        reaches(b, key, 200);
        assertThat(call(b, key)).isEqualTo(200);
        assertThat(call(b, key)).as("plan tiny: 2 an hour").isEqualTo(429);

        JsonNode listed = null;
        for (JsonNode c : SharedRedis.admin(b, "GET", "/consumers", null).json().get("consumers")) {
            if (c.get("name").asText().equals("small-app")) listed = c;
        }
        assertThat(listed).isNotNull();
        assertThat(listed.get("source").asText()).isEqualTo("runtime");
        assertThat(listed.get("plan").asText()).isEqualTo("tiny");
        assertThat(listed.get("usage").get("requests").asLong()).as("polled until 200, then 200 and 429 on edge b").isGreaterThanOrEqualTo(3);
        assertThat(listed.get("usage").get("limited").asLong()).isEqualTo(1);
        JsonNode quota = listed.get("quotas").get(0);
        assertThat(quota.get("route").asText()).isEqualTo("edge/api");
        assertThat(quota.get("per_day").asLong()).isEqualTo(100);
        assertThat(quota.get("used_today").asLong()).as("counted only what passed: both edges share it").isEqualTo(2);
        assertThat(quota.get("left_today").asLong()).isEqualTo(98);
    }

    static int bearer(Gatehouse g, String token) throws Exception {
        return send(HttpRequest.newBuilder(protocol.uri(g.listenerAddress("edge").getPort(), "/jwt/x")).header("authorization", "Bearer " + token));
    }

    @Test
    void aCachedTokenOfARuntimeConsumerSeesItDisabledAtOnce() throws Exception {
        assertThat(SharedRedis.admin(a, "POST", "/consumers", "{\"name\": \"jwt-app\"}").status()).isEqualTo(201);
        com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(new com.nimbusds.jose.JWSHeader(com.nimbusds.jose.JWSAlgorithm.HS256),
                new com.nimbusds.jwt.JWTClaimsSet.Builder().subject("jwt-app")
                        .expirationTime(new java.util.Date(System.currentTimeMillis() + 600_000)).build());
        jwt.sign(new com.nimbusds.jose.crypto.MACSigner(SECRET.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        String token = jwt.serialize();
        assertThat(bearer(b, token)).isEqualTo(200);
        assertThat(bearer(b, token)).as("from the verified-token cache").isEqualTo(200);
        assertThat(SharedRedis.admin(a, "POST", "/consumers/jwt-app/disable", null).status()).isEqualTo(200);
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).pollInterval(Duration.ofMillis(20)).until(() -> bearer(b, token) == 403);
        assertThat(SharedRedis.admin(b, "POST", "/consumers/jwt-app/enable", null).status()).isEqualTo(200);
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).pollInterval(Duration.ofMillis(20)).until(() -> bearer(a, token) == 200);
    }

    @Test
    void refusalsAreProblems() {
        Answer clash = SharedRedis.admin(a, "POST", "/consumers", "{\"name\": \"from-config\"}");
        assertThat(clash.status()).isEqualTo(409);
        assertThat(clash.contentType()).isEqualTo("application/problem+json");
        assertThat(SharedRedis.admin(a, "POST", "/consumers/from-config/disable", null).status()).isEqualTo(409);
        assertThat(SharedRedis.admin(a, "POST", "/consumers", "{\"name\": \"twice\"}").status()).isEqualTo(201);
        assertThat(SharedRedis.admin(b, "POST", "/consumers", "{\"name\": \"twice\"}").status()).isEqualTo(409);
        Answer bad = SharedRedis.admin(a, "POST", "/consumers", "{\"name\": \"has space\"}");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().get("detail").asText()).startsWith("name:");
        assertThat(SharedRedis.admin(a, "POST", "/consumers", "{\"name\": \"k\", \"api_keys\": [{\"sha256\": \"" + "b".repeat(64) + "\"}]}").status())
                .as("Gatehouse makes keys").isEqualTo(400);
        assertThat(SharedRedis.admin(a, "POST", "/consumers/nobody/keys", null).status()).isEqualTo(404);
        assertThat(SharedRedis.admin(a, "GET", "/consumers", null).json().get("consumers").get(0).get("source").asText()).isNotEmpty();
    }
}
