package io.gatehouse.telemetry;

import com.sun.net.httpserver.HttpServer;
import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tracing as configured in YAML: spans leave through OTLP/HTTP (protobuf, the JDK HttpClient sender) to a collector,
 * here a plain HTTP server standing in for one.
 */
class OtlpExportTest {
    private record Post(String path, String contentType, byte[] body) {}

    private final TestBackend backend = TestBackend.started("b");
    private final List<Post> posts = new CopyOnWriteArrayList<>();
    private HttpServer collector;
    private Gatehouse gatehouse;

    @AfterEach
    void stop() {
        if (gatehouse != null) gatehouse.shutdown(Duration.ofSeconds(1));
        if (collector != null) collector.stop(0);
        backend.close();
    }

    @Test
    void spansOfProxiedRequestsReachAnOtlpHttpCollector() throws Exception {
        collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        collector.createContext("/", exchange -> {
            posts.add(new Post(exchange.getRequestURI().getPath(), exchange.getRequestHeaders().getFirst("Content-Type"),
                    exchange.getRequestBody().readAllBytes()));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        collector.start();
        gatehouse = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [ { name: orders-route, cluster: app } ]
                clusters: [ { name: app, endpoints: [ "%s" ] } ]
                admin: { address: "off" }
                tracing: { otlp_endpoint: "http://127.0.0.1:%d", service_name: edge-under-test }
                """.formatted(backend.address(), collector.getAddress().getPort()), "test.yaml"), Ticker.systemTicker());
        int port = gatehouse.listenerAddress("edge").getPort();
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders/7")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);

        gatehouse.shutdown(Duration.ofSeconds(1));   // closing tracing flushes the batch
        gatehouse = null;

        assertThat(posts).isNotEmpty();
        Post post = posts.getFirst();
        assertThat(post.path()).isEqualTo("/v1/traces");
        assertThat(post.contentType()).isEqualTo("application/x-protobuf");
        // protobuf keeps strings as UTF-8 bytes: the service, the route and the path are in the export
        String body = new String(post.body(), StandardCharsets.ISO_8859_1);
        assertThat(body).contains("edge-under-test").contains("orders-route").contains("/orders/7");
    }
}
