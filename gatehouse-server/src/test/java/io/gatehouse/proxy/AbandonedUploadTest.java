package io.gatehouse.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.Gatehouse;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.telemetry.AccessLog;
import io.gatehouse.telemetry.Telemetry;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.TestBackend;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.StringWriter;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client that goes away in the middle of an upload being streamed to an endpoint: the access log names the
 * endpoint and says the client left (499 {@code client_aborted_body}), and the endpoint is not blamed.
 */
class AbandonedUploadTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final StringWriter log = new StringWriter();
    private static TestBackend backend;
    private static Gatehouse gatehouse;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.started("origin");
        gatehouse = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [{name: all, cluster: app}]
                clusters: [{name: app, endpoints: ["%s"]}]
                admin: {address: "off"}
                """.formatted(backend.address()), "test.yaml"), Ticker.systemTicker(),
                new Telemetry(new AccessLog(log, false, io.gatehouse.config.AccessLogFormat.JSON, 64), null));
    }

    @AfterAll
    static void stop() {
        gatehouse.shutdown(Duration.ofSeconds(1));
        backend.close();
    }

    private static List<String> lines() {
        synchronized (log) {
            String s = log.toString();
            int end = s.lastIndexOf('\n');
            return end < 0 ? List.of() : List.of(s.substring(0, end).split("\n"));
        }
    }

    /** The access log's field for the endpoint an exchange went to, under its current or its former name. */
    private static String endpointOf(JsonNode line) {
        JsonNode n = line.has("endpoint") ? line.get("endpoint") : line.get("upstream");
        return n == null || n.isNull() ? null : n.asText();
    }

    @Test
    void aClientLeavingMidUploadIsLoggedAsGoneWithTheEndpoint() throws Exception {
        Endpoint endpoint = gatehouse.cluster("app").endpoints().get(0);
        try (RawClient c = RawClient.connect(gatehouse.listenerAddress("edge"))) {
            c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(1000));
            // the body is on its way to the endpoint
            await().atMost(Duration.ofSeconds(5)).until(() -> backend.openConnections() == 1 && endpoint.inFlight() == 1);
            c.send("y".repeat(1000));
        } // the client goes away with 98 % of its body unsent
        await().atMost(Duration.ofSeconds(5)).until(() -> !lines().isEmpty());
        JsonNode line = JSON.readTree(lines().get(0));
        assertThat(line.get("method").asText()).isEqualTo("POST");
        assertThat(line.get("status").asInt()).isEqualTo(499);
        assertThat(line.get("reason").asText()).isEqualTo("client_aborted_body");
        assertThat(endpointOf(line)).isEqualTo(backend.address());
        assertThat(gatehouse.cluster("app").outlierDetector().status(endpoint).consecutiveGatewayFailures()).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> endpoint.inFlight() == 0);
    }
}
