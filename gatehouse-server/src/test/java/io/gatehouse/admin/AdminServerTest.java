package io.gatehouse.admin;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

class AdminServerTest {
    @RegisterExtension
    final TestBackend backend = new TestBackend().name("one");

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private String yaml(String admin) {
        return """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                admin: %s
                """.formatted(backend.address(), admin);
    }

    private static HttpResponse<String> get(URI uri, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri);
        if (token != null) b.header("Authorization", "Bearer " + token);
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void reportsReadinessAndClusterStateWithConfigNames() throws Exception {
        try (GatehouseFixture g = GatehouseFixture.start(yaml("{ address: \"127.0.0.1:0\" }"))) {
            assertThat(g.get("/").statusCode()).isEqualTo(200);
            String base = "http://127.0.0.1:" + g.gatehouse().adminAddress().getPort();
            assertThat(get(URI.create(base + "/ready"), null).statusCode()).isEqualTo(200);
            HttpResponse<String> clusters = get(URI.create(base + "/clusters/app"), null);
            assertThat(clusters.statusCode()).isEqualTo(200);
            assertThat(clusters.body()).contains("\"cluster\" : \"app\"", "\"address\" : \"" + backend.address() + "\"",
                    "\"available\" : true", "\"policy\" : \"round_robin\"");
            assertThat(get(URI.create(base + "/clusters/nope"), null).statusCode()).isEqualTo(404);
            assertThat(get(URI.create(base + "/routes"), null).body()).contains("\"route\" : \"all\"");
        }
    }

    @Test
    void requiresTheTokenWhenOneIsConfigured() throws Exception {
        try (GatehouseFixture g = GatehouseFixture.start(yaml("{ address: \"127.0.0.1:0\", token: s3cret }"))) {
            String base = "http://127.0.0.1:" + g.gatehouse().adminAddress().getPort();
            assertThat(get(URI.create(base + "/clusters"), null).statusCode()).isEqualTo(401);
            assertThat(get(URI.create(base + "/clusters"), "wrong").statusCode()).isEqualTo(401);
            assertThat(get(URI.create(base + "/clusters"), "s3cret").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void dashboardFilesAreRevalidatedWithTheirEtag() throws Exception {
        try (GatehouseFixture g = GatehouseFixture.start(yaml("{ address: \"127.0.0.1:0\" }"))) {
            URI page = URI.create("http://127.0.0.1:" + g.gatehouse().adminAddress().getPort() + "/dashboard/main.js");
            java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
            HttpResponse<String> first = client.send(java.net.http.HttpRequest.newBuilder(page).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(first.statusCode()).isEqualTo(200);
            String etag = first.headers().firstValue("etag").orElseThrow();
            HttpResponse<String> again = client.send(java.net.http.HttpRequest.newBuilder(page).header("If-None-Match", etag).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(again.statusCode()).isEqualTo(304);
            assertThat(again.body()).isEmpty();
        }
    }
}
