package io.gatehouse.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.telemetry.AccessLog;
import io.gatehouse.telemetry.Telemetry;
import io.gatehouse.testing.TestBackend;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The client's address after trusted proxies is settled once, when the exchange starts, from the headers as the
 * client sent them: a filter that rewrites {@code X-Forwarded-For} afterwards changes what goes upstream, not who the
 * client is for deny lists, the access log or hashing on the client.
 */
class ClientAddressTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final StringWriter log = new StringWriter();
    private static TestBackend a;
    private static TestBackend b;
    private static Gatehouse gatehouse;
    private static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        a = TestBackend.started("a");
        b = TestBackend.started("b");
        // loopback is the trusted load balancer in front; 198.51.100.0/24 is denied
        gatehouse = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    proxy_headers: {trusted_proxies: ["127.0.0.1"]}
                    routes:
                      - name: rewritten
                        match: {path_prefix: /rewritten}
                        cluster: pair
                        filters:
                          - headers: {request: {set: {x-forwarded-for: 198.51.100.9}}}
                          - deny: {cidrs: ["198.51.100.0/24"], shared: false}
                      - name: all
                        cluster: pair
                        filters:
                          - deny: {cidrs: ["198.51.100.0/24"], shared: false}
                clusters:
                  - name: pair
                    endpoints: ["%s", "%s"]
                    load_balancer: {policy: ring_hash}
                admin: {address: "off"}
                """.formatted(a.address(), b.address()), "test.yaml"), Ticker.systemTicker(),
                new Telemetry(new AccessLog(log, false, io.gatehouse.config.AccessLogFormat.JSON, 256), null));
    }

    @AfterAll
    static void stop() {
        gatehouse.shutdown(Duration.ofSeconds(1));
        a.close();
        b.close();
    }

    private static HttpResponse<String> get(String path, String forwardedFor) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gatehouse.listenerAddress("edge").getPort() + path))
                .timeout(Duration.ofSeconds(10)).header("X-Forwarded-For", forwardedFor).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> lines() {
        synchronized (log) {
            String s = log.toString();
            int end = s.lastIndexOf('\n');
            return end < 0 ? List.of() : List.of(s.substring(0, end).split("\n"));
        }
    }

    @Test
    void aFilterRewritingXForwardedForDoesNotChangeWhoTheClientIs() throws Exception {
        assertThat(get("/x", "198.51.100.9").statusCode()).as("the trusted proxy's client is denied").isEqualTo(403);
        HttpResponse<String> r = get("/rewritten", "203.0.113.7");
        assertThat(r.statusCode()).as("the rewrite after the start does not make the client a denied one").isEqualTo(200);
        // found by its path: the access log writes in batches, so lines of earlier requests may still be on their way
        await().atMost(Duration.ofSeconds(5)).until(() -> lines().stream().anyMatch(l -> l.contains("\"path\":\"/rewritten\"")));
        var line = JSON.readTree(lines().stream().filter(l -> l.contains("\"path\":\"/rewritten\"")).findFirst().orElseThrow());
        assertThat(line.get("path").asText()).isEqualTo("/rewritten");
        assertThat(line.get("client_ip").asText()).isEqualTo("203.0.113.7");
    }

    @Test
    void hashingOnTheClientFollowsTheAddressAfterTrustedProxies() throws Exception {
        // twenty clients behind the one trusted proxy: hashing on the peer would send them all to one endpoint
        int aBefore = a.requestCount(), bBefore = b.requestCount();
        for (int i = 1; i <= 20; i++) assertThat(get("/spread", "203.0.113." + i).statusCode()).isEqualTo(200);
        assertThat(a.requestCount() - aBefore).as("requests at a").isPositive();
        assertThat(b.requestCount() - bBefore).as("requests at b").isPositive();
        // and each client stays on its endpoint
        int aMid = a.requestCount(), bMid = b.requestCount();
        for (int i = 0; i < 5; i++) get("/same", "203.0.113.42");
        assertThat(Math.max(a.requestCount() - aMid, b.requestCount() - bMid)).isEqualTo(5);
    }
}
