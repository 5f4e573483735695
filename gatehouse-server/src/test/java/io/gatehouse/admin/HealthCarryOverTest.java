package io.gatehouse.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.gatehouse.Gatehouse;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.testing.TestBackend;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A reload that changes a cluster (here: adds an endpoint) keeps what the other endpoints went through: active
 * health verdict, ejection, drain and admin weight, and their traffic stats. The ticker is a mock, so the ejection
 * cannot run out during the test.
 */
class HealthCarryOverTest {
    @RegisterExtension
    final TestBackend one = new TestBackend().name("one");
    @RegisterExtension
    final TestBackend two = new TestBackend().name("two");
    @RegisterExtension
    final TestBackend three = new TestBackend().name("three");
    @RegisterExtension
    final TestBackend four = new TestBackend().name("four");
    @RegisterExtension
    final TestBackend five = new TestBackend().name("five");

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private GatehouseConfig config(int port, TestBackend... endpoints) throws Exception {
        String list = String.join(", ", Stream.of(endpoints).map(b -> "\"" + b.address() + "\"").toList());
        return ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:%d
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ %s ]
                    health_check: { path: /health, interval: 100ms, healthy_threshold: 2 }
                    outlier_detection: { consecutive_gateway_failures: 3, max_ejection_percent: 50 }
                admin: { address: "127.0.0.1:0" }
                """.formatted(port, list), "carry.yaml");
    }

    private Set<String> answerers(Gatehouse g, int requests) throws Exception {
        Set<String> seen = new HashSet<>();
        URI uri = URI.create("http://127.0.0.1:" + g.listenerAddress("edge").getPort() + "/");
        for (int i = 0; i < requests; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            seen.add(r.body());
        }
        return seen;
    }

    @Test
    void endpointsKeepHealthEjectionDrainAndWeightWhenTheirClusterChanges() throws Exception {
        one.healthy(false);
        try (Gatehouse g = Gatehouse.start(config(0, one, two, three, four), Ticker.newMockTicker())) {
            int port = g.listenerAddress("edge").getPort();
            AdminClient admin = new AdminClient(g.adminAddress(), null);
            Cluster before = g.cluster("app");
            await().until(() -> admin.endpoint("app", one.address()).get("state").asText().equals("unhealthy"));
            Endpoint ejected = before.endpoint(two.address());
            for (int i = 0; i < 3; i++) before.reportGatewayFailure(ejected);
            before.refresh();
            admin.post("/clusters/app/endpoints/" + three.address() + "/drain");
            admin.post("/clusters/app/endpoints/" + four.address() + "/weight", "{\"weight\": 7}");
            assertThat(answerers(g, 4)).containsExactly("four");
            long fourRequests = admin.endpoint("app", four.address()).get("requests_total").asLong();
            assertThat(fourRequests).isEqualTo(4);

            g.reload(config(port, one, two, three, four, five));

            Cluster after = g.cluster("app");
            assertThat(after).isNotSameAs(before);
            for (TestBackend b : new TestBackend[] {one, two, three, four}) {
                assertThat(after.endpoint(b.address())).as(b.name()).isSameAs(before.endpoint(b.address()));
            }
            assertThat(admin.endpoint("app", one.address()).get("state").asText()).isEqualTo("unhealthy");
            assertThat(admin.endpoint("app", two.address()).get("state").asText()).isEqualTo("ejected");
            assertThat(admin.endpoint("app", three.address()).get("state").asText()).isEqualTo("draining");
            JsonNode fourAfter = admin.endpoint("app", four.address());
            assertThat(fourAfter.get("weight").asInt()).isEqualTo(7);
            assertThat(fourAfter.get("requests_total").asLong()).isEqualTo(fourRequests);
            assertThat(admin.endpoint("app", five.address()).get("state").asText()).isEqualTo("healthy");
            assertThat(answerers(g, 16)).containsExactlyInAnyOrder("four", "five");

            // the new health checker continues from the carried verdict: recovery still needs healthy_threshold passes
            one.healthy(true);
            await().until(() -> admin.endpoint("app", one.address()).get("state").asText().equals("healthy"));
            assertThat(admin.endpoint("app", one.address()).get("health_transitions").asLong()).isEqualTo(2);
            assertThat(after.healthChecker().status(after.endpoint(one.address())).consecutiveSuccesses()).isGreaterThanOrEqualTo(2);
            JsonNode events = admin.get("/events").json().get("events");
            assertThat(events.findValuesAsText("kind")).contains("health", "ejection", "admin", "start");
        }
    }
}
