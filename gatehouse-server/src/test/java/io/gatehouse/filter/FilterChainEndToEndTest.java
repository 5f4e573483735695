package io.gatehouse.filter;

import io.gatehouse.FilterTypes;
import io.gatehouse.GatehouseFixture;
import io.gatehouse.http.ForwardingResponseSink;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestCertificates;
import io.gatehouse.testing.TestCertificates.Authority;
import io.gatehouse.testing.TestCertificates.PemFiles;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three filters in one chain, over HTTP/1.1 and HTTP/2, with and without response compression: one rewrites request
 * and response headers ({@code headers}), one buffers the request body and lets it go on whole
 * ({@code buffer_request}), one tees the response body into a store as it streams (a test type registered the way an
 * embedding program would). The bytes are checked at the endpoint, in the tee and at the client.
 */
public class FilterChainEndToEndTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("echo");

    /** The response bodies the tee saw, by request id. */
    static final Map<String, byte[]> teed = new ConcurrentHashMap<>();

    /** Settings of the test's tee filter: nothing to set, but every type has a config record. */
    public record TeeConfig(String label) {}

    @BeforeAll
    static void registerTee() {
        FilterTypes.register("test_tee", TeeConfig.class, (config, context) -> (exchange, chain) -> {
            ByteArrayOutputStream copy = new ByteArrayOutputStream();
            exchange.wrapResponse(next -> new ForwardingResponseSink(next) {
                @Override
                protected void body(HttpContent piece) {
                    keep(piece);
                    next.write(piece);
                }

                @Override
                protected void end(LastHttpContent last) {
                    keep(last);
                    next.write(last);
                }

                @Override
                protected void whole(FullHttpResponse response) {
                    keep(response);
                    next.write(response);
                }

                private void keep(HttpContent c) {
                    byte[] bytes = new byte[c.content().readableBytes()];
                    c.content().getBytes(c.content().readerIndex(), bytes);
                    copy.writeBytes(bytes);
                }
            });
            exchange.onComplete(e -> teed.put(e.requestId(), copy.toByteArray()));
            chain.proceed(exchange);
        });
    }

    @TempDir
    Path dir;

    private final Authority ca = TestCertificates.authority("Test CA");

    @ParameterizedTest(name = "{0}, compression {1}")
    @CsvSource({"HTTP_1_1, false", "HTTP_1_1, true", "HTTP_2, false", "HTTP_2, true"})
    void threeFiltersRewriteBufferAndTeeTheBytesEndToEnd(HttpClient.Version version, boolean compression) throws Exception {
        backend.echo();
        PemFiles edge = ca.issue("edge", "localhost", "127.0.0.1").writeTo(dir, "edge");
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    tls:
                      certificates: [{cert: "%s", key: "%s"}]
                    filters:
                      - headers:
                          request: { set: { x-chain: "1" }, remove: [x-secret] }
                          response: { set: { x-served-by: gatehouse } }
                    routes:
                      - name: all
                        cluster: app
                        %s
                        filters:
                          - buffer_request: { max_size: 1MiB }
                          - test_tee: {}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                """.formatted(edge.cert(), edge.key(), compression ? "compression: {min_size: 1}" : "", backend.address()))) {
            HttpClient client = HttpClient.newBuilder().version(version).sslContext(ca.trustingContext())
                    .connectTimeout(Duration.ofSeconds(5)).build();
            StringBuilder text = new StringBuilder();
            for (int i = 0; text.length() < 300_000; i++) text.append("line ").append(i).append(" of a body that streams\n");
            byte[] body = text.toString().getBytes(StandardCharsets.UTF_8);
            HttpRequest request = HttpRequest.newBuilder(URI.create("https://localhost:" + g.address().getPort() + "/upload"))
                    .timeout(Duration.ofSeconds(20))
                    .header("content-type", "text/plain")
                    .header("x-secret", "must-not-pass")
                    .header("accept-encoding", compression ? "gzip" : "identity")
                    // a publisher of unknown length: the body arrives chunked (HTTP/1.1) or as DATA frames (HTTP/2)
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)))
                    .build();

            HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());

            assertThat(response.version()).isEqualTo(version);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("x-served-by")).hasValue("gatehouse");
            byte[] received = response.body();
            if (compression) {
                assertThat(response.headers().firstValue("content-encoding")).hasValue("gzip");
                received = new GZIPInputStream(new ByteArrayInputStream(received)).readAllBytes();
            } else {
                assertThat(response.headers().firstValue("content-encoding")).isEmpty();
            }
            assertThat(received).isEqualTo(body);

            RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
            assertThat(seen.header("x-chain")).isEqualTo("1");
            assertThat(seen.header("x-secret")).isNull();
            // buffered: the endpoint got the body whole, with its length, not chunked
            assertThat(seen.header("content-length")).isEqualTo(Integer.toString(body.length));
            assertThat(seen.header("transfer-encoding")).isNull();
            assertThat(seen.bodySize()).isEqualTo(body.length);

            String id = response.headers().firstValue("x-request-id").orElseThrow();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> teed.containsKey(id));
            assertThat(teed.get(id)).as("what the tee stored: the body before compression").isEqualTo(body);
        }
    }
}
