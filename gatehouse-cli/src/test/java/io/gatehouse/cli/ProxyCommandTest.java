package io.gatehouse.cli;

import io.gatehouse.Gatehouse;
import io.gatehouse.cli.demo.DemoEndpoint;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.ClusterConfig.EndpointConfig;
import io.gatehouse.config.GatehouseConfig;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProxyCommandTest {
    private static final List<String> TWO = List.of("127.0.0.1:9001", "127.0.0.1:9002");

    @Test
    void buildsOneListenerOneRouteAndOneClusterOverTheGivenEndpoints() {
        GatehouseConfig config = ProxyCommand.config("127.0.0.1:8080", TWO, "least_request", "/health",
                Duration.ofSeconds(2), "off");

        assertThat(config.listeners()).singleElement().satisfies(listener -> {
            assertThat(listener.address()).isEqualTo("127.0.0.1:8080");
            assertThat(listener.routes()).singleElement().satisfies(route -> {
                assertThat(route.cluster()).isEqualTo(ProxyCommand.CLUSTER);
                assertThat(route.match().pathPrefix()).isNull();
                assertThat(route.match().path()).isNull();
            });
        });
        ClusterConfig cluster = config.cluster(ProxyCommand.CLUSTER);
        assertThat(cluster.endpoints()).extracting(EndpointConfig::address).containsExactlyElementsOf(TWO);
        assertThat(cluster.loadBalancer().policy()).isEqualTo(io.gatehouse.config.LoadBalancerPolicy.LEAST_REQUEST);
        assertThat(cluster.healthCheck().type()).hasToString("http");
        assertThat(cluster.healthCheck().path()).isEqualTo("/health");
        assertThat(cluster.healthCheck().interval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.admin().enabled()).isFalse();
    }

    @Test
    void leavesActiveHealthChecksOffWithoutAHealthPath() {
        GatehouseConfig config = ProxyCommand.config("0.0.0.0:8080", TWO, "round_robin", null, Duration.ofSeconds(2), "off");

        assertThat(config.cluster(ProxyCommand.CLUSTER).healthCheck()).isNull();
        assertThat(config.cluster(ProxyCommand.CLUSTER).loadBalancer().policy()).isEqualTo(io.gatehouse.config.LoadBalancerPolicy.ROUND_ROBIN);
    }

    @Test
    void keepsTheAdminListenerWhenGivenAnAddress() {
        GatehouseConfig config = ProxyCommand.config("0.0.0.0:8080", TWO, "random", null, Duration.ofSeconds(2), "127.0.0.1:9091");

        assertThat(config.admin().enabled()).isTrue();
        assertThat(config.admin().address()).isEqualTo("127.0.0.1:9091");
    }

    @Test
    void rejectsAnEndpointWithoutAPort() {
        assertThatThrownBy(() -> ProxyCommand.config("0.0.0.0:8080", List.of("127.0.0.1"), "round_robin", null,
                Duration.ofSeconds(2), "off"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--to").hasMessageContaining("127.0.0.1");
    }

    @Test
    void rejectsAnUnknownPolicyThroughTheCommandLineWithUsageExitCode() {
        CommandRun run = CommandRun.of("proxy", "--to", "127.0.0.1:9001", "--policy", "fastest");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("unknown policy 'fastest'");
    }

    @Test
    void readsTheHealthIntervalLikeTheConfigFileDoes() {
        assertThat(new DurationConverter().convert("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(new DurationConverter().convert("2s")).isEqualTo(Duration.ofSeconds(2));
        assertThat(new DurationConverter().convert("1m")).isEqualTo(Duration.ofMinutes(1));
        assertThat(new DurationConverter().convert("PT3S")).isEqualTo(Duration.ofSeconds(3));
        assertThatThrownBy(() -> new DurationConverter().convert("soon")).hasMessageContaining("soon");
    }

    // End to end through the real edge: needs the data plane (Gatehouse.start).
    @Test
    void servesTheBuiltConfigurationInFrontOfTwoEndpoints() throws Exception {
        try (DemoEndpoint a = DemoEndpoint.start("a", "127.0.0.1", 0);
             DemoEndpoint b = DemoEndpoint.start("b", "127.0.0.1", 0);
             HttpClient client = HttpClient.newHttpClient()) {
            GatehouseConfig config = ProxyCommand.config("127.0.0.1:0",
                    List.of(HostPort.format(a.address()), HostPort.format(b.address())),
                    "round_robin", "/health", Duration.ofSeconds(1), "off");
            try (Gatehouse gatehouse = Gatehouse.start(config)) {
                URI edge = URI.create("http://" + HostPort.format(gatehouse.listenerAddress(ProxyCommand.LISTENER)) + "/x");
                Set<String> seen = new HashSet<>();
                for (int i = 0; i < 4; i++) {
                    HttpResponse<String> response = client.send(HttpRequest.newBuilder(edge).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(response.statusCode()).isEqualTo(200);
                    response.headers().firstValue("x-endpoint").ifPresent(seen::add);
                }
                assertThat(seen).containsExactlyInAnyOrder("a", "b");
            }
        }
    }

    @Test
    void describesWhatItDoesInOneLine() {
        GatehouseConfig config = ProxyCommand.config("127.0.0.1:8080", TWO, "least_request", "/health",
                Duration.ofMillis(1500), "off");

        String line = ProxyCommand.describe(config, "127.0.0.1:8080");

        assertThat(line).doesNotContain("\n")
                .isEqualTo("gatehouse: proxying http://127.0.0.1:8080 -> 127.0.0.1:9001, 127.0.0.1:9002 "
                        + "(least_request, health: GET /health every 1500ms)");
    }

    @Test
    void cachePutsTheCacheFilterOnTheCatchAllRouteWithQuickModeDefaults() {
        GatehouseConfig config = ProxyCommand.config("127.0.0.1:8080", TWO, "round_robin", null, Duration.ofSeconds(2), "off",
                ProxyCommand.cacheSize("64m"));
        var route = config.listeners().get(0).routes().get(0);
        assertThat(route.filters()).singleElement().satisfies(f -> {
            assertThat(f.type()).isEqualTo("cache");
            io.gatehouse.config.CacheConfig c = (io.gatehouse.config.CacheConfig) f.settings();
            assertThat(c.maxSize()).isEqualTo(64L << 20);
            assertThat(c.staleOnError()).isEqualTo(Duration.ofDays(1));
            assertThat(c.useStale()).containsExactlyInAnyOrder("error", "timeout", "http_5xx");
            assertThat(c.purgeFrom()).containsExactly("127.0.0.1/32", "::1/128");
        });
        assertThat(ProxyCommand.describe(config, "127.0.0.1:8080")).endsWith("no active health checks, cache: 64MiB in memory)");
        assertThat(ProxyCommand.config("127.0.0.1:8080", TWO, "round_robin", null, Duration.ofSeconds(2), "off")
                .listeners().get(0).routes().get(0).filters()).isEmpty();
        assertThat(ProxyCommand.cacheSize(ProxyCommand.DEFAULT_CACHE_SIZE)).isEqualTo(256L << 20);
    }

    @Test
    void cacheWithABadSizeIsAUsageError() {
        CommandRun run = CommandRun.of("proxy", "--to", "127.0.0.1:9001", "--cache", "lots");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--cache: 'lots' is not a size");
        CommandRun tiny = CommandRun.of("proxy", "--to", "127.0.0.1:9001", "--cache", "10");
        assertThat(tiny.exitCode()).isEqualTo(2);
        assertThat(tiny.err()).contains("--cache: at least 1KiB");
    }

    @Test
    void cacheServesTheSecondRequestWithoutTheOrigin() throws Exception {
        try (io.gatehouse.testing.TestBackend origin = io.gatehouse.testing.TestBackend.started();
             HttpClient client = HttpClient.newHttpClient()) {
            origin.respond(r -> io.gatehouse.testing.TestResponse.ok("page " + r.path()).header("cache-control", "max-age=60"));
            GatehouseConfig config = ProxyCommand.config("127.0.0.1:0", List.of(origin.address()), "round_robin", null,
                    Duration.ofSeconds(1), "off", ProxyCommand.cacheSize(ProxyCommand.DEFAULT_CACHE_SIZE));
            try (Gatehouse gatehouse = Gatehouse.start(config)) {
                URI edge = URI.create("http://" + HostPort.format(gatehouse.listenerAddress(ProxyCommand.LISTENER)) + "/page");
                HttpResponse<String> first = client.send(HttpRequest.newBuilder(edge).build(), HttpResponse.BodyHandlers.ofString());
                HttpResponse<String> second = client.send(HttpRequest.newBuilder(edge).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(first.body()).isEqualTo("page /page");
                assertThat(second.body()).isEqualTo("page /page");
                assertThat(first.headers().firstValue("cache-status").orElse("")).contains("fwd=uri-miss");
                assertThat(second.headers().firstValue("cache-status").orElse("")).startsWith("gatehouse; hit");
                assertThat(origin.requests()).as("the hit did not reach the origin").hasSize(1);

                HttpResponse<String> purge = client.send(HttpRequest.newBuilder(edge).method("PURGE", HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(purge.statusCode()).as("PURGE from loopback").isEqualTo(200);
                client.send(HttpRequest.newBuilder(edge).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(origin.requests()).as("purged: fetched again").hasSize(2);
            }
        }
    }
}
