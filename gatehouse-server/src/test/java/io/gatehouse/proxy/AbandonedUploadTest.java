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
 * endpoint and says the client left (499 {@code client_aborted_body}), and the endpoint is not blamed. On HTTP/1.1
 * (the connection is closed) and on HTTP/2 over TLS (the stream is reset, the connection stays).
 */
@org.junit.jupiter.params.ParameterizedClass(name = "{0}")
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class AbandonedUploadTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final StringWriter log = new StringWriter();
    private static TestBackend backend;
    private static Gatehouse gatehouse;
    private static io.gatehouse.Protocol started;
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol protocol;

    /** One engine per protocol: started by the first test of each run of the class. */
    @org.junit.jupiter.api.BeforeEach
    void startFor() throws Exception {
        if (started == protocol) return;
        stop();
        start(protocol);
    }

    static void start(io.gatehouse.Protocol p) throws Exception {
        started = p;
        synchronized (log) {
            log.getBuffer().setLength(0);
        }
        backend = TestBackend.started("origin");
        gatehouse = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes: [{name: all, cluster: app}]
                clusters: [{name: app, endpoints: ["%s"]}]
                admin: {address: "off"}
                """.formatted(p.listenerTls(), backend.address()), "test.yaml"), Ticker.systemTicker(),
                new Telemetry(new AccessLog(log, false, io.gatehouse.config.AccessLogFormat.JSON, 64), null));
    }

    @AfterAll
    static void stop() {
        if (gatehouse != null) gatehouse.shutdown(Duration.ofSeconds(1));
        if (backend != null) backend.close();
        gatehouse = null;
        backend = null;
        started = null;
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
        if (protocol == io.gatehouse.Protocol.HTTP_1_1) {
            try (RawClient c = RawClient.connect(gatehouse.listenerAddress("edge"))) {
                c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(1000));
                // the body is on its way to the endpoint
                await().atMost(Duration.ofSeconds(5)).until(() -> backend.openConnections() == 1 && endpoint.inFlight() == 1);
                c.send("y".repeat(1000));
            } // the client goes away with 98 % of its body unsent
        } else {
            try (io.gatehouse.listener.RawH2 c = io.gatehouse.listener.RawH2.connectTls(gatehouse.listenerAddress("edge"))) {
                c.headers(1, false, io.gatehouse.listener.RawH2.post("/upload").setLong("content-length", 100_000));
                c.data(1, false, "x".repeat(1000).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                await().atMost(Duration.ofSeconds(5)).until(() -> backend.openConnections() == 1 && endpoint.inFlight() == 1);
                c.data(1, false, "y".repeat(1000).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                c.rst(1, 0x8); // CANCEL: the client gives up on this upload, not on the connection
                await().atMost(Duration.ofSeconds(5)).until(() -> !lines().isEmpty());
            }
        }
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
