package io.gatehouse.proxy;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestCertificates;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code protocol: h2}: HTTP/2 over TLS to the endpoints, negotiated with ALPN, and health checks over it. */
class Http2TlsUpstreamTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    @TempDir
    Path dir;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final TestCertificates.Authority ca = TestCertificates.authority("Upstream CA");

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
    }

    private GatehouseFixture gatehouse(String endpoint, String extra) {
        Path caFile = ca.writeCertificate(dir.resolve("ca.crt"));
        GatehouseFixture g = GatehouseFixture.start("""
                server:
                  event_loops: 1
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [{name: all, cluster: secure}]
                clusters:
                  - name: secure
                    protocol: h2
                    endpoints: ["%s"]
                    tls: { ca: "%s", server_name: backend.internal }
                %s
                """.formatted(endpoint, caFile, extra.indent(4).stripTrailing()));
        closeables.add(g);
        return g;
    }

    private Http2Backend h2Backend() throws Exception {
        TestCertificates.Issued cert = ca.issue("backend", "backend.internal");
        SslContext context = SslContextBuilder.forServer(cert.key(), cert.certificate())
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2))
                .build();
        Http2Backend b = Http2Backend.tls(100, context);
        closeables.add(b);
        return b;
    }

    @Test
    void bodiesAndTrailersCrossToAnH2EndpointOverTls() throws Exception {
        Http2Backend b = h2Backend();
        GatehouseFixture g = gatehouse(b.address(), "");
        String body = "y".repeat(100_000);
        HttpResponse<String> post = g.send(HttpRequest.newBuilder(g.uri("/echo"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(post.body()).isEqualTo(body);
        assertThat(post.headers().firstValue("x-scheme")).hasValue("https");
        try (RawClient c = g.raw()) {
            c.send("GET /trailers HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n");
            RawResponse r = c.readResponse(WAIT);
            assertThat(r.bodyAsString()).isEqualTo("hello world");
            assertThat(r.trailers()).containsExactly(new RawResponse.Header("x-checksum", "abc123"));
        }
        for (int i = 0; i < 5; i++) assertThat(g.get("/echo").statusCode()).isEqualTo(200);
        assertThat(b.acceptedConnections()).isEqualTo(1);
    }

    @Test
    void healthChecksSpeakH2OverTls() throws Exception {
        Http2Backend b = h2Backend();
        GatehouseFixture g = gatehouse(b.address(),
                "health_check: {type: http, path: /echo, interval: 100ms, timeout: 2s, healthy_threshold: 1, unhealthy_threshold: 1}");
        var cluster = g.gatehouse().cluster("secure");
        org.awaitility.Awaitility.await().atMost(WAIT).untilAsserted(() -> {
            var status = cluster.healthChecker().status(cluster.endpoints().get(0));
            assertThat(status.lastResult()).isEqualTo(io.gatehouse.cluster.health.HealthStatus.Result.SUCCESS);
            assertThat(status.consecutiveSuccesses()).isGreaterThanOrEqualTo(2);
        });
        assertThat(b.paths).contains("/echo");
    }

    @Test
    void anEndpointWithoutH2InAlpnIsABadGateway() {
        TestBackend http1Only = new TestBackend().name("old").tls(ca.issue("backend", "backend.internal").serverContext()).start();
        closeables.add(http1Only);
        GatehouseFixture g = gatehouse(http1Only.address(), "");
        HttpResponse<String> r = g.get("/");
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.headers().firstValue("gatehouse-reason").orElseThrow()).startsWith("tls_");
        assertThat(http1Only.requestCount()).isZero();
    }
}
