package io.gatehouse.ratelimit;

import io.gatehouse.Gatehouse;
import io.gatehouse.clock.ManualClock;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code rate_limit} and {@code concurrency_limit} over real sockets, time moved by a {@link ManualClock}. */
@org.junit.jupiter.params.ParameterizedClass(name = "{0}")
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class RateLimitTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol protocol;
    private HttpClient client;
    private final ManualClock clock = new ManualClock();
    private Gatehouse g;

    @AfterEach
    void stop() {
        if (g != null) g.shutdown(Duration.ofSeconds(1));
    }

    private void start(String filters) throws Exception {
        client = protocol.client();
        g = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: api
                        cluster: api
                        filters:
                %s
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), filters, backend.address()), "limits.yaml"), clock);
    }

    private HttpResponse<String> get(Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(protocol.uri(g.listenerAddress("edge").getPort(), "/x"))
                .timeout(Duration.ofSeconds(10));
        headers.forEach(b::header);
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).as("the protocol this run is about").isEqualTo(protocol.version());
        return r;
    }

    @Test
    void aBurstThenARateWithHeadersThatAgreeWithTheDecisions() throws Exception {
        start("""
                          - rate_limit:
                              key: header:x-tenant
                              limits: [{rate: 2/s, burst: 3, name: burst}, {rate: 100/h}]
                """);
        List<String> remaining = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> ok = get(Map.of("x-tenant", "a"));
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.headers().firstValue("ratelimit-policy")).hasValue("\"burst\";q=3;w=1, \"per_hour\";q=100;w=3600");
            remaining.add(ok.headers().firstValue("ratelimit").orElseThrow());
        }
        assertThat(remaining).extracting(s -> s.replaceAll(";t=\\d+", "")).containsExactly("\"burst\";r=2", "\"burst\";r=1", "\"burst\";r=0");
        HttpResponse<String> limited = get(Map.of("x-tenant", "a"));
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("retry-after")).hasValue("1");
        assertThat(limited.headers().firstValue("ratelimit")).get().asString().startsWith("\"burst\";r=0;t=");
        assertThat(limited.headers().firstValue("content-type")).hasValue("application/problem+json");
        assertThat(get(Map.of("x-tenant", "b")).statusCode()).as("another key has its own bucket").isEqualTo(200);

        clock.advance(Duration.ofMillis(500)); // 2/s: one token back
        assertThat(get(Map.of("x-tenant", "a")).statusCode()).isEqualTo(200);
        assertThat(get(Map.of("x-tenant", "a")).statusCode()).isEqualTo(429);
        assertThat(backend.requestCount()).isEqualTo(5);
    }

    @Test
    void theLongerWindowHoldsWhenTheShortOneHasRoom() throws Exception {
        start("""
                          - rate_limit: {key: client_ip, limits: [{rate: 10/s}, {rate: 3/m}]}
                """);
        for (int i = 0; i < 3; i++) assertThat(get(Map.of()).statusCode()).isEqualTo(200);
        clock.advance(Duration.ofSeconds(2));
        HttpResponse<String> r = get(Map.of());
        assertThat(r.statusCode()).isEqualTo(429);
        assertThat(Integer.parseInt(r.headers().firstValue("retry-after").orElseThrow())).isBetween(15, 20);
    }

    @Test
    void aConsumersPlanGivesItsOwnLimits() throws Exception {
        start("""
                          - api_key: {}
                          - rate_limit:
                              limits: [{rate: 1/m}]
                              plans: [{plan: gold, limits: [{rate: 5/m, name: gold}]}]
                consumers:
                  - {name: free-app, api_keys: [{sha256: %s}]}
                  - {name: gold-app, plan: gold, api_keys: [{sha256: %s}]}
                """.formatted(sha256("free-key"), sha256("gold-key")));
        assertThat(get(Map.of("x-api-key", "free-key")).statusCode()).isEqualTo(200);
        assertThat(get(Map.of("x-api-key", "free-key")).statusCode()).isEqualTo(429);
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = get(Map.of("x-api-key", "gold-key"));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("ratelimit-policy")).hasValue("\"gold\";q=5;w=60");
        }
        assertThat(get(Map.of("x-api-key", "gold-key")).statusCode()).isEqualTo(429);
    }

    private static String sha256(String key) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    @Test
    void concurrencyBeyondTheMaximumIs429AndTheCountComesBack() throws Exception {
        start("""
                          - concurrency_limit: {max: 1}
                """);
        // the first response is held until the second request was refused (a fixed delay could end first)
        java.util.concurrent.CompletableFuture<Void> release = new java.util.concurrent.CompletableFuture<>();
        backend.enqueue(TestResponse.ok("slow").holdUntil(release), TestResponse.ok("next"));
        CompletableFuture<HttpResponse<String>> first = client.sendAsync(HttpRequest.newBuilder(
                protocol.uri(g.listenerAddress("edge").getPort(), "/slow")).build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> backend.requestCount() == 1);
        HttpResponse<String> second = get(Map.of());
        assertThat(second.statusCode()).isEqualTo(429);
        assertThat(second.headers().firstValue("gatehouse-reason")).hasValue("concurrency_limited");
        release.complete(null);
        assertThat(first.get().body()).isEqualTo("slow");
        await().atMost(Duration.ofSeconds(5)).until(() -> get(Map.of()).statusCode() == 200);
    }
}
