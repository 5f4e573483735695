package io.gatehouse.tls;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestCertificates;
import io.gatehouse.testing.TestCertificates.Authority;
import io.gatehouse.testing.TestCertificates.PemFiles;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** HTTP/2 over TLS: ALPN picks h2 or http/1.1 on one listener; both reach the same routes. */
class AlpnHttp2Test {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("origin");

    @TempDir
    Path dir;

    private final Authority ca = TestCertificates.authority("Test CA");

    private GatehouseFixture start(String provider, String http2) {
        PemFiles edge = ca.issue("edge", "localhost", "127.0.0.1").writeTo(dir, "edge");
        return GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    tls:
                      provider: %s
                      certificates: [{cert: "%s", key: "%s"}]
                    routes:
                      - {name: all, match: {path_prefix: /}, cluster: app, hsts: {max_age: 1h}}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                """.formatted(http2, provider, edge.cert(), edge.key(), backend.address()));
    }

    private HttpClient client(HttpClient.Version version) {
        return HttpClient.newBuilder().version(version).sslContext(ca.trustingContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static HttpRequest get(int port, String path) {
        return HttpRequest.newBuilder(URI.create("https://localhost:" + port + path)).timeout(Duration.ofSeconds(10)).build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void h2AndHttp11ClientsShareOneTlsListenerAndItsRoutes(String provider) throws Exception {
        try (GatehouseFixture g = start(provider, "")) {
            int port = g.address().getPort();

            HttpResponse<String> h2 = client(HttpClient.Version.HTTP_2).send(get(port, "/over-h2"), HttpResponse.BodyHandlers.ofString());
            assertThat(h2.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(h2.statusCode()).isEqualTo(200);
            assertThat(h2.headers().firstValue("strict-transport-security")).hasValue("max-age=3600");
            RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
            assertThat(seen.path()).isEqualTo("/over-h2");
            assertThat(seen.header("x-forwarded-proto")).isEqualTo("https");

            HttpResponse<String> h1 = client(HttpClient.Version.HTTP_1_1).send(get(port, "/over-h1"), HttpResponse.BodyHandlers.ofString());
            assertThat(h1.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
            assertThat(h1.statusCode()).isEqualTo(200);
            assertThat(backend.takeRequest(Duration.ofSeconds(5)).path()).isEqualTo("/over-h1");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void manyConcurrentRequestsShareOneH2Connection(String provider) throws Exception {
        try (GatehouseFixture g = start(provider, "")) {
            int port = g.address().getPort();
            HttpClient client = client(HttpClient.Version.HTTP_2);
            // one request first: the JDK client opens a connection per request until it knows the server speaks h2
            assertThat(client.send(get(port, "/first"), HttpResponse.BodyHandlers.ofString()).version()).isEqualTo(HttpClient.Version.HTTP_2);
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 40; i++) all.add(client.sendAsync(get(port, "/n/" + i), HttpResponse.BodyHandlers.ofString()));
            for (CompletableFuture<HttpResponse<String>> f : all) {
                HttpResponse<String> r = f.get();
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            }
            assertThat(g.gatehouse().listeners().getFirst().connectionCount()).isLessThanOrEqualTo(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void aListenerWithHttp2OffOffersOnlyHttp11(String provider) throws Exception {
        try (GatehouseFixture g = start(provider, "http2: {enabled: false}")) {
            HttpResponse<String> r = client(HttpClient.Version.HTTP_2).send(get(g.address().getPort(), "/"), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        }
    }
}
