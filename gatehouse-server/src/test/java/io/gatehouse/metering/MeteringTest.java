package io.gatehouse.metering;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.Gatehouse;
import io.gatehouse.clock.ManualClock;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.telemetry.Metrics;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Usage per consumer and route, as metrics and as a JSON-lines log per window, across a reload and a shutdown. */
@org.junit.jupiter.params.ParameterizedClass
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class MeteringTest {
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol protocol;
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");

    @TempDir
    Path dir;

    private String config(Path log, String extraConsumer) throws Exception {
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest("shop-key".getBytes(StandardCharsets.UTF_8)));
        return """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: api
                        cluster: api
                        filters:
                          - api_key: {}
                          - rate_limit: {limits: [{rate: 3/m}]}
                consumers:
                  - {name: shop, api_keys: [{sha256: %s}]}
                %s
                metering: {path: "%s", interval: 1m}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), hash, extraConsumer, log, backend.address());
    }

    @Test
    void usageIsCountedPerConsumerRouteAndWindowAndNothingIsLostAcrossAReload() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2030-01-01T00:00:10Z"));
        Path log = dir.resolve("metering.jsonl");
        Gatehouse g = Gatehouse.start(ConfigLoader.parse(config(log, ""), "m.yaml"), clock);
        HttpClient client = protocol.client();
        URI uri = protocol.uri(g.listenerAddress("edge").getPort(), "/orders");
        try {
            for (int i = 0; i < 4; i++) {   // 3 pass, the 4th is limited
                client.send(HttpRequest.newBuilder(uri).header("x-api-key", "shop-key").build(), HttpResponse.BodyHandlers.ofString());
            }
            client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());   // anonymous: 401
            String scrape = g.telemetry().metrics().scrape(Metrics.PROMETHEUS_CONTENT_TYPE);
            assertThat(scrape).contains("gatehouse_consumer_requests_total{consumer=\"shop\",route=\"api\",status_class=\"2xx\"} 3.0")
                    .contains("gatehouse_consumer_requests_total{consumer=\"shop\",route=\"api\",status_class=\"4xx\"} 1.0")
                    .contains("gatehouse_consumer_limited_total{consumer=\"shop\",route=\"api\"} 1.0")
                    .contains("gatehouse_consumer_requests_total{consumer=\"anonymous\",route=\"api\",status_class=\"4xx\"} 1.0");

            // a reload (one more consumer) keeps the open window
            g.reload(ConfigLoader.parse(config(log, "  - {name: other}"), "m.yaml"));
            clock.advance(Duration.ofMinutes(1));
            client.send(HttpRequest.newBuilder(uri).header("x-api-key", "shop-key").build(), HttpResponse.BodyHandlers.ofString());
        } finally {
            g.shutdown(Duration.ofSeconds(1));   // writes every open window
        }
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = Files.readAllLines(log).stream().map(l -> {
            try {
                return json.readTree(l);
            } catch (Exception e) {
                throw new AssertionError(l, e);
            }
        }).toList();
        assertThat(lines).extracting(n -> n.get("window_start").asText() + " " + n.get("consumer").asText() + " " + n.get("requests").asInt())
                .containsExactly("2030-01-01T00:00:00Z anonymous 1", "2030-01-01T00:00:00Z shop 4", "2030-01-01T00:01:00Z shop 1");
        JsonNode shop = lines.get(1);
        assertThat(shop.get("status").get("2xx").asInt()).isEqualTo(3);
        assertThat(shop.get("status").get("4xx").asInt()).isEqualTo(1);
        assertThat(shop.get("limited").asInt()).isEqualTo(1);
        assertThat(shop.get("bytes_out").asLong()).isPositive();
        assertThat(shop.get("route").asText()).isEqualTo("api");
    }

    /**
     * Only configured consumers get a label of their own: subjects nobody configured all land in {@code unknown}, so
     * tokens cannot grow the label set. Latency is a histogram per consumer and route; failed authentications are
     * counted by reason.
     */
    @Test
    void unconfiguredSubjectsShareTheUnknownLabelLatencyIsAHistogramAndAuthFailuresAreCountedByReason() throws Exception {
        String secret = "0123456789abcdef0123456789abcdef-metering";
        Gatehouse g = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: tokens
                        cluster: api
                        filters: [{jwt: {secret: "%s"}}]
                consumers:
                  - {name: shop}
                metering: {path: "%s", interval: 1m}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), secret, dir.resolve("m.jsonl"), backend.address()), "m.yaml"));
        HttpClient client = protocol.client();
        URI uri = protocol.uri(g.listenerAddress("edge").getPort(), "/orders");
        try {
            for (String sub : List.of("shop", "stranger-1", "stranger-2", "stranger-3")) {
                // shop's request carries a body of 100 bytes: bytes in are counted too
                HttpRequest.BodyPublisher body = sub.equals("shop") ? HttpRequest.BodyPublishers.ofString("x".repeat(100))
                        : HttpRequest.BodyPublishers.noBody();
                assertThat(client.send(HttpRequest.newBuilder(uri).header("authorization", "Bearer " + token(sub, secret))
                        .POST(body).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            }
            assertThat(client.send(HttpRequest.newBuilder(uri).header("authorization", "Bearer " + token("shop", secret + "-forged")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
            assertThat(client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
            String scrape = g.telemetry().metrics().scrape(Metrics.PROMETHEUS_CONTENT_TYPE);
            assertThat(scrape).contains("gatehouse_consumer_requests_total{consumer=\"shop\",route=\"tokens\",status_class=\"2xx\"} 1.0")
                    .contains("gatehouse_consumer_requests_total{consumer=\"unknown\",route=\"tokens\",status_class=\"2xx\"} 3.0")
                    .contains("gatehouse_consumer_received_bytes_total{consumer=\"shop\",route=\"tokens\"} 100.0")
                    .doesNotContain("stranger");
            assertThat(scrape).as("latency per consumer and route, in a few buckets")
                    .contains("gatehouse_consumer_latency_seconds_count{consumer=\"unknown\",route=\"tokens\"} 3")
                    .contains("gatehouse_consumer_latency_seconds_count{consumer=\"shop\",route=\"tokens\"} 1")
                    .contains("gatehouse_consumer_latency_seconds_bucket{consumer=\"shop\",route=\"tokens\",le=\"10.0\"} 1");
            assertThat(scrape.lines().filter(l -> l.startsWith("gatehouse_consumer_latency_seconds_bucket{consumer=\"shop\"")).count())
                    .as("a fixed few buckets").isEqualTo(12);   // 11 bounds and +Inf
            assertThat(scrape).as("failures by reason")
                    .containsPattern("gatehouse_auth_failures_total\\{[^}]*reason=\"bad_signature\"[^}]*\\} 1.0")
                    .containsPattern("gatehouse_auth_failures_total\\{[^}]*reason=\"missing_credentials\"[^}]*\\} 1.0");
        } finally {
            g.shutdown(Duration.ofSeconds(1));
        }
    }

    private static String token(String subject, String secret) throws Exception {
        com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(new com.nimbusds.jose.JWSHeader(com.nimbusds.jose.JWSAlgorithm.HS256),
                new com.nimbusds.jwt.JWTClaimsSet.Builder().subject(subject)
                        .expirationTime(new java.util.Date(System.currentTimeMillis() + 3_600_000)).build());
        jwt.sign(new com.nimbusds.jose.crypto.MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }
}
