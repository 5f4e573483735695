package io.gatehouse;

import io.gatehouse.config.HeadersConfig;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The embedding API: a Java program builds the same records a file would and serves them, filter objects included. */
class GatehouseBuilderTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> get(Gatehouse g, String path) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + g.listenerAddress("edge").getPort() + path);
        return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aBuiltEdgeServesRoutesWithJavaAndBuiltInFilters() throws Exception {
        backend.enqueue(TestResponse.ok("from the api"));
        Gatehouse g = Gatehouse.builder()
                .cluster("api", c -> c.endpoint(backend.address()).policy("least_request"))
                .listener("edge", "127.0.0.1:0", l -> l
                        .filter("headers", new HeadersConfig(null, new HeadersConfig.HeaderRulesConfig(Map.of("x-edge", "embedded"), null, null)))
                        .route("api", r -> r.pathPrefix("/api").stripPrefix("/api")
                                .filter((exchange, chain) -> {
                                    exchange.request().headers().set("x-audited", "yes");
                                    chain.proceed(exchange);
                                })
                                .cluster("api"))
                        .route("home", r -> r.path("/").directResponse(200, "hello")))
                .start();
        try {
            HttpResponse<String> api = get(g, "/api/items");
            assertThat(api.statusCode()).isEqualTo(200);
            assertThat(api.body()).isEqualTo("from the api");
            assertThat(api.headers().firstValue("x-edge")).hasValue("embedded");
            var seen = backend.takeRequest(Duration.ofSeconds(5));
            assertThat(seen.path()).isEqualTo("/items");
            assertThat(seen.header("x-audited")).isEqualTo("yes");

            HttpResponse<String> home = get(g, "/");
            assertThat(home.body()).isEqualTo("hello");
            assertThat(home.headers().firstValue("x-edge")).hasValue("embedded");
            assertThat(g.listeners().get(0).routes().routes().get(0).chain()).containsExactly("headers", "java", "proxy");
        } finally {
            g.shutdown(Duration.ofSeconds(2));
        }
    }

    @Test
    void aRouteToAnUnknownClusterIsRefusedBeforeAnythingStarts() {
        assertThatThrownBy(() -> Gatehouse.builder()
                .listener("edge", "127.0.0.1:0", l -> l.route("r", r -> r.cluster("nowhere")))
                .build())
                .hasMessageContaining("unknown cluster nowhere");
    }
}
