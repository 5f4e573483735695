package io.gatehouse.cli.demo;

import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.ClusterConfig.EndpointConfig;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.RouteConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class DemoStackTest {
    private static final Pattern ENDPOINT = Pattern.compile("\"endpoint\":\"([^\"]+)\"");

    private final HttpClient client = HttpClient.newHttpClient();

    @AfterEach
    void closeClient() {
        client.close();
    }

    // Needs the validating ConfigLoader (durations such as 1s) to read the bundled file.
    @Test
    void bundledConfigPutsTheEdgeInFrontOfAHealthCheckedRoundRobinCluster() throws Exception {
        GatehouseConfig config = DemoStack.bundledConfig();

        ListenerConfig edge = config.listeners().getFirst();
        assertThat(edge.name()).isEqualTo(DemoStack.LISTENER);
        assertThat(edge.address()).isEqualTo("0.0.0.0:8080");
        RouteConfig route = edge.routes().getFirst();
        assertThat(route.cluster()).isEqualTo(DemoStack.CLUSTER);
        assertThat(route.retries().on()).containsExactlyInAnyOrder(
                io.gatehouse.config.RetryCondition.STATUS_502, io.gatehouse.config.RetryCondition.STATUS_503);
        ClusterConfig demo = config.cluster(DemoStack.CLUSTER);
        assertThat(demo.endpoints()).extracting(EndpointConfig::address)
                .containsExactly("127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003");
        assertThat(demo.loadBalancer().policy()).isEqualTo(io.gatehouse.config.LoadBalancerPolicy.ROUND_ROBIN);
        assertThat(demo.healthCheck().path()).isEqualTo("/health");
        assertThat(demo.healthCheck().interval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.admin().address()).isEqualTo("127.0.0.1:9090");
    }

    @Test
    void replacesListenerAdminAndEndpointAddresses() {
        GatehouseConfig base = new GatehouseConfig(
                List.of(new ListenerConfig("edge", "0.0.0.0:8080",
                        List.of(new RouteConfig("demo", null, "demo", null, null, null, null, null, null, null, null)),
                        null, null, null)),
                List.of(new ClusterConfig("demo", List.of(EndpointConfig.of("127.0.0.1:9001")),
                        null, null, null, null, null, null, null, null)),
                null, null);

        GatehouseConfig config = DemoStack.withAddresses(base, "127.0.0.1:0", "off",
                List.of(new InetSocketAddress("127.0.0.1", 40001), new InetSocketAddress("127.0.0.1", 40002)));

        assertThat(config.listeners().getFirst().address()).isEqualTo("127.0.0.1:0");
        assertThat(config.listeners().getFirst().routes()).isEqualTo(base.listeners().getFirst().routes());
        assertThat(config.cluster("demo").endpoints()).extracting(EndpointConfig::address)
                .containsExactly("127.0.0.1:40001", "127.0.0.1:40002");
        assertThat(config.admin().enabled()).isFalse();
    }

    // End to end through the real edge: needs the data plane (Gatehouse.start) and the validating ConfigLoader.
    @Test
    void edgeSpreadsRequestsOverAllThreeDemoEndpointsAndFailsOverWithoutErrors() throws Exception {
        try (DemoStack stack = DemoStack.start("127.0.0.1:0", "off", List.of(0, 0, 0))) {
            URI edge = URI.create("http://127.0.0.1:" + stack.edgeAddress().getPort() + "/");

            // round robin shows all three within 3 requests; the margin absorbs a health check that timed out on a
            // loaded machine and briefly took an endpoint out
            Set<String> seen = new HashSet<>();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() -> {
                seen.add(endpointBehind(edge));
                assertThat(seen).containsExactlyInAnyOrder("demo-1", "demo-2", "demo-3");
            });

            DemoEndpoint second = stack.endpoints().get(1);
            second.setUp(false);
            for (int i = 0; i < 6; i++) assertThat(endpointBehind(edge)).isNotEqualTo("demo-2");

            second.setUp(true);
            await().atMost(Duration.ofSeconds(20)).until(() -> endpointBehind(edge).equals("demo-2"));
        }
    }

    /** GETs {@code edge}, requires a 200, and returns which demo endpoint answered. */
    private String endpointBehind(URI edge) throws Exception {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(edge).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Matcher m = ENDPOINT.matcher(response.body());
        assertThat(m.find()).as(response.body()).isTrue();
        return m.group(1);
    }
}
