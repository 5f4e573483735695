package io.gatehouse.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The admin API's calls and their JSON, as the issue-4 contract and docs/admin-api.md describe them. */
class AdminApiTest {
    @RegisterExtension
    final TestBackend one = new TestBackend().name("one");
    @RegisterExtension
    final TestBackend two = new TestBackend().name("two");

    private String yaml() {
        return """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - { name: hello, match: { path: /hello }, direct_response: { status: 200, body: hi } }
                      - { name: all, cluster: app }
                clusters:
                  - name: app
                    endpoints: [ "%s", "%s" ]
                admin: { address: "127.0.0.1:0", token: s3cret }
                """.formatted(one.address(), two.address());
    }

    private static AdminClient admin(GatehouseFixture g) {
        return new AdminClient(g.gatehouse().adminAddress(), "s3cret");
    }

    @Test
    void servesStatsListenersRoutesAndClustersInTheContractShape() {
        try (GatehouseFixture g = GatehouseFixture.start(yaml())) {
            for (int i = 0; i < 4; i++) assertThat(g.get("/").statusCode()).isEqualTo(200);
            AdminClient admin = admin(g);

            JsonNode stats = admin.get("/stats").json();
            assertThat(stats.fieldNames()).toIterable().containsExactly("version", "started_at", "uptime_seconds",
                    "requests_total", "errors_total", "requests_per_second", "requests_in_flight", "listeners", "routes",
                    "clusters", "endpoints", "endpoints_available", "config_file", "last_reload");
            assertThat(stats.get("requests_total").asLong()).isEqualTo(4);
            assertThat(stats.get("routes").asInt()).isEqualTo(2);
            assertThat(stats.get("endpoints_available").asInt()).isEqualTo(2);
            assertThat(stats.get("config_file").isNull()).isTrue();
            assertThat(stats.get("last_reload").isNull()).isTrue();

            JsonNode listener = admin.get("/listeners").json().get("listeners").get(0);
            assertThat(listener.get("listener").asText()).isEqualTo("edge");
            assertThat(listener.get("address").asText()).isEqualTo("127.0.0.1:" + g.address().getPort());
            assertThat(listener.get("routes")).extracting(JsonNode::asText).containsExactly("hello", "all");

            JsonNode routes = admin.get("/routes").json().get("routes");
            assertThat(routes.get(0).get("action").asText()).isEqualTo("direct_response");
            assertThat(routes.get(0).get("cluster").isNull()).isTrue();
            assertThat(routes.get(0).get("match").get("path").asText()).isEqualTo("/hello");
            assertThat(routes.get(1).get("action").asText()).isEqualTo("proxy");
            assertThat(routes.get(1).get("cluster").asText()).isEqualTo("app");

            JsonNode cluster = admin.get("/clusters").json().get("clusters").get(0);
            assertThat(cluster.fieldNames()).toIterable().containsExactly("cluster", "policy", "mode",
                    "endpoints_available", "requests_in_flight", "connections", "idle_connections", "pending_connections",
                    "overflows", "retry_budget_exhausted", "requests_total", "errors_total", "responses",
                    "requests_per_second", "error_rate", "latency_ms", "endpoints");
            assertThat(cluster.get("mode").asText()).isEqualTo("normal");
            assertThat(cluster.get("responses").get("2xx").asLong()).isEqualTo(4);
            assertThat(cluster.get("latency_ms").get("window_seconds").asInt()).isEqualTo(60);
            JsonNode endpoint = cluster.get("endpoints").get(0);
            assertThat(endpoint.fieldNames()).toIterable().containsExactly("address", "source", "weight", "backup", "state",
                    "healthy", "ejected", "ejections", "draining", "disabled", "available", "in_flight", "connections",
                    "requests_total", "errors_total", "requests_per_second", "latency_ms", "latency_ewma_ms",
                    "health_transitions");
            assertThat(endpoint.get("state").asText()).isEqualTo("healthy");
            assertThat(endpoint.get("requests_total").asLong()).isEqualTo(2);

            assertThat(admin.get("/clusters/app").json().get("cluster").asText()).isEqualTo("app");
            JsonNode history = admin.get("/stats/history").json();
            assertThat(history.get("interval_seconds").asInt()).isEqualTo(5);
            assertThat(history.get("clusters").get("app").get("endpoints").has(one.address())).isTrue();

            JsonNode events = admin.get("/events").json().get("events");
            assertThat(events.get(0).get("kind").asText()).isEqualTo("start");
        }
    }

    @Test
    void servesTheEffectiveConfigWithSecretsRedacted() {
        try (GatehouseFixture g = GatehouseFixture.start(yaml())) {
            JsonNode config = admin(g).get("/config").json();
            assertThat(config.get("admin").get("token").asText()).isEqualTo("<redacted>");
            assertThat(config.toString()).doesNotContain("s3cret");
            assertThat(config.get("clusters").get(0).get("endpoints").get(0).get("address").asText()).isEqualTo(one.address());
            assertThat(config.get("server").get("drain_timeout").asText()).isEqualTo("30s");
            assertThat(config.get("clusters").get(0).get("outlier_detection").get("consecutive_5xx").asInt()).isEqualTo(5);
        }
    }

    @Test
    void drainingAnEndpointSendsNewRequestsElsewhereAndLetsInFlightOnesFinish() throws Exception {
        one.respond(r -> r.path().equals("/slow") ? TestResponse.ok("slow one").delayHeaders(Duration.ofSeconds(3)) : null);
        try (GatehouseFixture g = GatehouseFixture.start(yaml())) {
            AdminClient admin = admin(g);
            // round robin: of two requests, one is held by the slow endpoint
            List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                slow.add(g.client().sendAsync(HttpRequest.newBuilder(g.uri("/slow")).timeout(Duration.ofSeconds(20)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            await().until(() -> admin.endpoint("app", one.address()).get("in_flight").asInt() == 1);

            AdminClient.Answer drained = admin.post("/clusters/app/endpoints/" + one.address() + "/drain");

            assertThat(drained.status()).isEqualTo(200);
            assertThat(drained.json().get("state").asText()).isEqualTo("draining");
            assertThat(drained.json().get("available").asBoolean()).isFalse();
            assertThat(drained.json().get("in_flight").asInt()).isEqualTo(1);
            for (int i = 0; i < 6; i++) assertThat(g.get("/").body()).isEqualTo("two");
            assertThat(slow.stream().map(f -> f.join().body())).containsExactlyInAnyOrder("slow one", "two");
            assertThat(slow.stream().map(f -> f.join().statusCode())).containsOnly(200);
            assertThat(admin.endpoint("app", one.address()).get("in_flight").asInt()).isZero();
            assertThat(admin.get("/events").json().get("events").get(0).get("message").asText()).startsWith("drained");
        }
    }

    @Test
    void disableEnableAndWeightTakeEffectAtOnceAndAreRecordedAsAdminEvents() {
        try (GatehouseFixture g = GatehouseFixture.start(yaml())) {
            AdminClient admin = admin(g);
            String base = "/clusters/app/endpoints/" + two.address();

            assertThat(admin.post(base + "/disable").json().get("state").asText()).isEqualTo("disabled");
            assertThat(admin.get("/clusters/app").json().get("endpoints_available").asInt()).isEqualTo(1);
            for (int i = 0; i < 4; i++) assertThat(g.get("/").body()).isEqualTo("one");

            admin.post(base + "/drain");
            AdminClient.Answer enabled = admin.post(base + "/enable");
            assertThat(enabled.json().get("state").asText()).isEqualTo("healthy");
            assertThat(enabled.json().get("draining").asBoolean()).isFalse();
            assertThat(enabled.json().get("disabled").asBoolean()).isFalse();

            AdminClient.Answer weighted = admin.post(base + "/weight", "{\"weight\": 3}");
            assertThat(weighted.status()).isEqualTo(200);
            assertThat(weighted.json().get("weight").asInt()).isEqualTo(3);
            long toTwo = java.util.stream.IntStream.range(0, 8).filter(i -> g.get("/").body().equals("two")).count();
            assertThat(toTwo).isEqualTo(6);   // weighted round robin: 3 of every 4

            JsonNode events = admin.get("/events?limit=4").json().get("events");
            assertThat(events).hasSize(4);
            assertThat(events).allSatisfy(e -> {
                assertThat(e.get("kind").asText()).isEqualTo("admin");
                assertThat(e.get("cluster").asText()).isEqualTo("app");
                assertThat(e.get("endpoint").asText()).isEqualTo(two.address());
            });
            assertThat(events.get(0).get("message").asText()).isEqualTo("weight 1 -> 3");
            assertThat(events.get(3).get("message").asText()).startsWith("disabled");
        }
    }

    @Test
    void badRequestsGetAJsonErrorSayingWhatWasWrong() {
        try (GatehouseFixture g = GatehouseFixture.start(yaml())) {
            AdminClient admin = admin(g);
            String endpoint = "/clusters/app/endpoints/" + one.address();

            AdminClient.Answer noCluster = admin.post("/clusters/nope/endpoints/" + one.address() + "/drain");
            assertThat(noCluster.status()).isEqualTo(404);
            assertThat(noCluster.json().get("error").asText()).contains("nope");
            AdminClient.Answer noEndpoint = admin.post("/clusters/app/endpoints/10.9.9.9:1/disable");
            assertThat(noEndpoint.status()).isEqualTo(404);
            assertThat(noEndpoint.json().get("error").asText()).contains("10.9.9.9:1");
            for (String body : List.of("{\"weight\": 0}", "{\"weight\": 1001}", "{\"weight\": \"x\"}", "")) {
                AdminClient.Answer badWeight = admin.post(endpoint + "/weight", body);
                assertThat(badWeight.status()).as(body).isEqualTo(400);
                assertThat(badWeight.json().get("error").asText()).contains("1..1000");
            }
            AdminClient.Answer getDrain = admin.get(endpoint + "/drain");
            assertThat(getDrain.status()).isEqualTo(405);
            assertThat(getDrain.raw().headers().firstValue("Allow")).hasValue("POST");
            assertThat(admin.post("/clusters").status()).isEqualTo(405);
            assertThat(admin.get("/reload").status()).isEqualTo(405);
            AdminClient.Answer nothing = admin.get("/nothing");
            assertThat(nothing.json().get("error").asText()).contains("/nothing");
            // RFC 9457, as every API error of Gatehouse
            assertThat(nothing.raw().headers().firstValue("content-type")).hasValue("application/problem+json");
            assertThat(nothing.json().get("status").asInt()).isEqualTo(404);
            assertThat(nothing.json().get("detail").asText()).contains("/nothing");
            assertThat(admin.get("/events?limit=zero").status()).isEqualTo(400);
            AdminClient.Answer reload = admin.post("/reload");
            assertThat(reload.status()).isEqualTo(409);
            assertThat(reload.json().get("error").asText()).contains("without a config file");
            assertThat(reload.raw().headers().firstValue("Content-Type")).hasValue("application/problem+json");

            AdminClient anonymous = new AdminClient(g.gatehouse().adminAddress(), null);
            assertThat(anonymous.post(endpoint + "/drain").status()).isEqualTo(401);
            assertThat(admin.endpoint("app", one.address()).get("draining").asBoolean()).isFalse();
        }
    }

    @Test
    void theRootRedirectsToTheDashboardWithoutAToken() {
        try (GatehouseFixture g = GatehouseFixture.start(yaml())) {
            AdminClient.Answer root = new AdminClient(g.gatehouse().adminAddress(), null).get("/");
            assertThat(root.status()).isEqualTo(302);
            assertThat(root.raw().headers().firstValue("Location")).hasValue("/dashboard/");
        }
    }
}
