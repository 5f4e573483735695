package io.gatehouse.auth;

import io.gatehouse.Gatehouse;
import io.gatehouse.clock.ManualClock;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** The {@code api_key} filter over real sockets: hashed keys, rotation by expiry, disabled consumers, no forgery. */
@org.junit.jupiter.params.ParameterizedClass(name = "{0}")
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class ApiKeyAuthTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");

    static final Instant START = Instant.parse("2030-06-01T12:00:00Z");
    static final String OLD_KEY = "gh_old_3b1f0c7e9d2a4b6c8e0f1a2b3c4d5e6f";
    static final String NEW_KEY = "gh_new_9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d";
    static final String BLOCKED_KEY = "gh_blk_1111222233334444555566667777888";
    static ManualClock clock;
    static Gatehouse gatehouse;
    static HttpClient client;
    static io.gatehouse.Protocol protocol;

    static String sha256(String key) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    }

    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol parameter;

    /** One engine per protocol: started by the first test of each run of the class. */
    @BeforeEach
    void startFor() throws Exception {
        if (protocol == parameter) return;
        if (gatehouse != null) stop();
        start(parameter);
    }

    static void start(io.gatehouse.Protocol p) throws Exception {
        protocol = p;
        client = p.client();
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
                          - api_key: {query: api_key}
                consumers:
                  - name: shop
                    groups: [retail, beta]
                    api_keys:
                      - {sha256: %s, expires: "2030-06-02T12:00:00Z"}
                      - {sha256: %s}
                  - name: blocked
                    disabled: true
                    api_keys: [{sha256: %s}]
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(p.listenerTls(), sha256(OLD_KEY), sha256(NEW_KEY), sha256(BLOCKED_KEY), backend.address()), "keys.yaml"), clock);
    }

    @AfterAll
    static void stop() {
        if (gatehouse != null) gatehouse.shutdown(Duration.ofSeconds(1));
        gatehouse = null;
        protocol = null;
    }

    @BeforeEach
    void clear() {
        backend.reset();
    }

    static HttpResponse<String> call(String pathAndQuery, String header, String value) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(protocol.uri(gatehouse.listenerAddress("edge").getPort(), pathAndQuery))
                .timeout(Duration.ofSeconds(10)).header("x-consumer", "forged");
        if (header != null) b.header(header, value);
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).as("the protocol this run is about").isEqualTo(protocol.version());
        return r;
    }

    @Test
    void aValidKeyInTheHeaderPassesWithTheConsumersIdentityAndWithoutTheKey() throws Exception {
        assertThat(call("/orders", "x-api-key", NEW_KEY).statusCode()).isEqualTo(200);
        RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
        assertThat(seen.header("x-consumer")).isEqualTo("shop");
        assertThat(seen.header("x-consumer-groups")).isEqualTo("retail,beta");
        assertThat(seen.header("x-api-key")).as("the credential stays at the edge").isNull();
    }

    @Test
    void aKeyInTheQueryPassesAndIsRemovedFromTheUriUpstream() throws Exception {
        assertThat(call("/orders?page=2&api_key=" + NEW_KEY + "&sort=asc", null, null).statusCode()).isEqualTo(200);
        RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
        assertThat(seen.uri()).isEqualTo("/orders?page=2&sort=asc");
        assertThat(seen.header("x-consumer")).isEqualTo("shop");
    }

    @Test
    void refusalsSayWhyAndReachNoEndpoint() throws Exception {
        HttpResponse<String> none = call("/orders", null, null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("www-authenticate")).hasValue("ApiKey realm=\"api\"");
        assertThat(none.headers().firstValue("gatehouse-reason")).hasValue("missing_credentials");

        HttpResponse<String> wrong = call("/orders", "x-api-key", "gh_guess_000000000000000000000000000");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.headers().firstValue("gatehouse-reason")).hasValue("unknown_api_key");
        assertThat(wrong.body()).doesNotContain("gh_guess").contains("\"status\":401");
        assertThat(wrong.headers().firstValue("content-type")).hasValue("application/problem+json");

        HttpResponse<String> blocked = call("/orders", "x-api-key", BLOCKED_KEY);
        assertThat(blocked.statusCode()).isEqualTo(403);
        assertThat(blocked.headers().firstValue("gatehouse-reason")).hasValue("consumer_disabled");
        assertThat(backend.requestCount()).isZero();
    }

    @Test
    void duringARotationBothKeysWorkUntilTheOldOneExpires() throws Exception {
        ManualClock local = clock;
        Instant before = local.instant();
        assertThat(before).isBefore(Instant.parse("2030-06-02T12:00:00Z"));
        assertThat(call("/a", "x-api-key", OLD_KEY).statusCode()).isEqualTo(200);
        assertThat(call("/a", "x-api-key", NEW_KEY).statusCode()).isEqualTo(200);
        local.advance(Duration.between(before, Instant.parse("2030-06-02T12:00:00Z")));
        HttpResponse<String> old = call("/a", "x-api-key", OLD_KEY);
        assertThat(old.statusCode()).isEqualTo(401);
        assertThat(old.headers().firstValue("gatehouse-reason")).hasValue("expired_api_key");
        assertThat(call("/a", "x-api-key", NEW_KEY).statusCode()).isEqualTo(200);
    }
}
