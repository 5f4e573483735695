package io.gatehouse.cors;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.Protocol;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code cors} over real sockets: preflights answered at the edge, allowed origins stamped, credentials rules. On
 * HTTP/1.1 and on HTTP/2 (TLS, ALPN h2; preflights included): one engine per protocol.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Protocol.class)
class CorsTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    static GatehouseFixture g;
    static HttpClient client;
    static Protocol protocol;
    @Parameter
    Protocol parameter;

    /** One engine per protocol: started by the first test of each run of the class. */
    @BeforeEach
    void startFor() {
        if (protocol == parameter) return;
        stop();
        start(parameter);
    }

    static void start(Protocol p) {
        protocol = p;
        client = p.client();
        g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: api
                        cluster: api
                        filters:
                          - cors:
                              allow_origins: [https://app.example, "https://*.partner.example"]
                              allow_methods: [GET, PUT, DELETE]
                              allow_headers: [content-type, authorization]
                              expose_headers: [x-request-id]
                              allow_credentials: true
                              max_age: 1h
                clusters:
                  - name: api
                    endpoints: ["%s"]
                """.formatted(p.listenerTls(), backend.address()));
    }

    @AfterAll
    static void stop() {
        if (g != null) g.close();
        g = null;
        protocol = null;
    }

    static HttpResponse<String> send(String method, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(protocol.uri(g.address().getPort(), "/items")).timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.noBody());
        headers.forEach(b::header);
        try {
            HttpResponse<String> response = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.version()).isEqualTo(protocol.version());
            return response;
        } catch (Exception e) {
            throw new AssertionError("request failed: " + e, e);
        }
    }

    @Test
    void anAllowedPreflightIsAnsweredAtTheEdge() {
        int before = backend.requestCount();
        HttpResponse<String> r = send("OPTIONS", Map.of("origin", "https://shop.partner.example",
                "access-control-request-method", "PUT", "access-control-request-headers", "Content-Type, Authorization"));
        assertThat(r.statusCode()).isEqualTo(204);
        assertThat(r.headers().firstValue("access-control-allow-origin")).hasValue("https://shop.partner.example");
        assertThat(r.headers().firstValue("access-control-allow-credentials")).hasValue("true");
        assertThat(r.headers().firstValue("access-control-allow-methods")).hasValue("GET, PUT, DELETE");
        assertThat(r.headers().firstValue("access-control-allow-headers")).hasValue("content-type, authorization");
        assertThat(r.headers().firstValue("access-control-max-age")).hasValue("3600");
        assertThat(backend.requestCount()).isEqualTo(before);
    }

    @Test
    void preflightsForOtherOriginsMethodsOrHeadersAreRefused() {
        assertThat(send("OPTIONS", Map.of("origin", "https://evil.example", "access-control-request-method", "GET"))
                .headers().firstValue("gatehouse-reason")).hasValue("cors_origin_not_allowed");
        assertThat(send("OPTIONS", Map.of("origin", "https://a.b.partner.example", "access-control-request-method", "GET"))
                .statusCode()).as("one level of subdomain only").isEqualTo(403);
        assertThat(send("OPTIONS", Map.of("origin", "https://app.example", "access-control-request-method", "PATCH"))
                .headers().firstValue("gatehouse-reason")).hasValue("cors_method_not_allowed");
        assertThat(send("OPTIONS", Map.of("origin", "https://app.example", "access-control-request-method", "GET",
                "access-control-request-headers", "x-secret")).headers().firstValue("gatehouse-reason")).hasValue("cors_header_not_allowed");
    }

    @Test
    void actualRequestsOfAllowedOriginsAreStampedAndOthersAreNot() {
        HttpResponse<String> ok = send("GET", Map.of("origin", "https://app.example"));
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.headers().firstValue("access-control-allow-origin")).hasValue("https://app.example");
        assertThat(ok.headers().firstValue("access-control-expose-headers")).hasValue("x-request-id");
        assertThat(ok.headers().allValues("vary")).contains("origin");

        HttpResponse<String> other = send("GET", Map.of("origin", "https://evil.example"));
        assertThat(other.statusCode()).as("the browser, not the edge, withholds it").isEqualTo(200);
        assertThat(other.headers().firstValue("access-control-allow-origin")).isEmpty();
        assertThat(other.headers().allValues("vary")).contains("origin");
    }

    @Test
    void anyOriginWithCredentialsIsAConfigurationError() {
        assertThatThrownBy(() -> ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [{name: r, direct_response: {status: 200}, filters: [{cors: {allow_origins: ["*"], allow_credentials: true}}]}]
                """, "cors.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("cors.yaml:4:").hasMessageContaining("would let any site act as the signed-in user");
    }
}
