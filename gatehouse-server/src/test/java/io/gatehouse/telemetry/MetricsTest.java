package io.gatehouse.telemetry;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /metrics} on the admin listener after real traffic through the proxy, the traffic on HTTP/1.1 and on
 * HTTP/2 (TLS, ALPN h2); the scrape itself is the admin listener's plain HTTP/1.1.
 */
@org.junit.jupiter.params.ParameterizedClass(name = "{0}")
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class MetricsTest {
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol protocol;

    private final List<TestBackend> backends = new ArrayList<>();
    private final HttpClient client = HttpClient.newHttpClient();

    @AfterEach
    void stop() {
        backends.forEach(TestBackend::close);
    }

    private TestBackend backend() {
        TestBackend b = TestBackend.started();
        backends.add(b);
        return b;
    }

    private GatehouseFixture gatehouse(String clusters, String routes) {
        return GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes: %s
                clusters: %s
                admin: { address: 127.0.0.1:0 }
                """.formatted(protocol.listenerTls(), routes, clusters));
    }

    private HttpClient edge;

    /** A request through the edge in this run's protocol. */
    private HttpResponse<String> get(GatehouseFixture g, String path) throws Exception {
        // one client, so one connection: each event loop has its own endpoint pool
        if (edge == null) edge = protocol.client();
        HttpResponse<String> r = edge.send(HttpRequest.newBuilder(protocol.uri(g.address().getPort(), path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(protocol.version());
        return r;
    }

    private HttpResponse<String> scrape(GatehouseFixture g, String accept) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.gatehouse().adminAddress().getPort() + "/metrics"))
                .timeout(Duration.ofSeconds(10));
        if (accept != null) b.header("Accept", accept);
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String scrape(GatehouseFixture g) throws Exception {
        HttpResponse<String> r = scrape(g, null);
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** The value of the sample {@code name} whose labels include every one of {@code labels} ("key=\"value\""). */
    static OptionalDouble sample(String scrape, String name, String... labels) {
        for (String line : scrape.split("\n")) {
            if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
            boolean all = true;
            for (String l : labels) all &= line.contains(l);
            if (all) return OptionalDouble.of(Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
        }
        return OptionalDouble.empty();
    }

    @Test
    void countsRequestsPerRouteClusterAndStatusClassWithLatencyBuckets() throws Exception {
        TestBackend b = backend();
        try (GatehouseFixture g = gatehouse("[ { name: app, endpoints: [ \"%s\" ] } ]".formatted(b.address()),
                "[ { name: all, cluster: app } ]")) {
            for (int i = 0; i < 3; i++) assertThat(get(g, "/x?q=" + i).statusCode()).isEqualTo(200);

            HttpResponse<String> response = scrape(g, null);
            assertThat(response.headers().firstValue("content-type").orElseThrow()).startsWith("text/plain; version=0.0.4");
            String s = response.body();
            String[] route = {"listener=\"edge\"", "route=\"all\"", "cluster=\"app\"", "status_class=\"2xx\""};
            assertThat(sample(s, "gatehouse_request_duration_seconds_count", route)).hasValue(3.0);
            assertThat(sample(s, "gatehouse_request_duration_seconds_bucket", concat(route, "le=\"+Inf\""))).hasValue(3.0);
            assertThat(sample(s, "gatehouse_request_duration_seconds_bucket", concat(route, "le=\"10.0\""))).hasValue(3.0);
            assertThat(sample(s, "gatehouse_request_duration_seconds_count", "status_class=\"5xx\"")).isEmpty();
            String endpoint = "endpoint=\"" + b.address() + "\"";
            assertThat(sample(s, "gatehouse_endpoint_duration_seconds_count", "cluster=\"app\"", endpoint)).hasValue(3.0);
            assertThat(sample(s, "gatehouse_downstream_received_bytes_total", "listener=\"edge\"").orElseThrow()).isGreaterThan(0);
            assertThat(sample(s, "gatehouse_downstream_sent_bytes_total", "listener=\"edge\"").orElseThrow()).isGreaterThan(0);
            assertThat(sample(s, "gatehouse_cluster_connections", "cluster=\"app\"", "state=\"idle\"")).hasValue(1.0);
            assertThat(sample(s, "gatehouse_endpoint_health_transitions_total", "cluster=\"app\"", endpoint)).hasValue(0.0);
            assertThat(sample(s, "gatehouse_cluster_overflows_total", "cluster=\"app\"")).hasValue(0.0);
            assertThat(s).contains("jvm_memory_used_bytes").contains("process_uptime_seconds");
            // labels come from config names only: never the request path
            assertThat(s).doesNotContain("/x");
        }
    }

    @Test
    void garbageCollectionsAreReadFromTheJvmsCountersAtEachScrape() throws Exception {
        TestBackend b = backend();
        try (GatehouseFixture g = gatehouse("[ { name: app, endpoints: [ \"%s\" ] } ]".formatted(b.address()),
                "[ { name: all, cluster: app } ]")) {
            double before = gcCountSum(scrape(g));
            System.gc(); // counted by one collector or another, whichever this JVM runs
            long jvm = 0;
            for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) jvm += bean.getCollectionCount();
            double after = gcCountSum(scrape(g));
            // the meters read the JVM's own counters at the scrape (no listener, so nothing to wait for)
            assertThat(after).isGreaterThan(before).isGreaterThanOrEqualTo(jvm);
        }
    }

    /** jvm_gc_collection_seconds_count summed over the JVM's collectors, each of which must have its series. */
    private static double gcCountSum(String scrape) {
        double sum = 0;
        for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
            String tag = "gc=\"" + bean.getName() + "\"";
            sum += sample(scrape, "jvm_gc_collection_seconds_count", tag).orElseThrow();
            assertThat(sample(scrape, "jvm_gc_collection_seconds_sum", tag)).isPresent();
        }
        return sum;
    }

    @Test
    void aRequestNoEndpointCanServeCountsUnder5xx() throws Exception {
        TestBackend b = backend();
        String address = b.address();
        b.close(); // connection refused from now on
        try (GatehouseFixture g = gatehouse("[ { name: app, endpoints: [ \"%s\" ], outlier_detection: { consecutive_gateway_failures: 0 } } ]"
                .formatted(address), "[ { name: all, cluster: app } ]")) {
            assertThat(get(g, "/").statusCode()).isEqualTo(503);
            String s = scrape(g);
            assertThat(sample(s, "gatehouse_request_duration_seconds_count", "route=\"all\"", "status_class=\"5xx\"")).hasValue(1.0);
            assertThat(sample(s, "gatehouse_request_duration_seconds_count", "route=\"all\"", "status_class=\"2xx\"")).isEmpty();
        }
    }

    @Test
    void ejectionsAndRetriesAreCountedPerEndpointAndCluster() throws Exception {
        TestBackend failing = backend().respond(r -> TestResponse.status(503));
        TestBackend fine = backend();
        try (GatehouseFixture g = gatehouse("""
                [ { name: app, endpoints: [ "%s", "%s" ], load_balancer: { policy: round_robin },
                    outlier_detection: { consecutive_5xx: 1, base_ejection_time: 60s, max_ejection_percent: 50 } } ]"""
                .formatted(failing.address(), fine.address()),
                "[ { name: all, cluster: app, retries: { attempts: 1, on: [503] } } ]")) {
            for (int i = 0; i < 4; i++) assertThat(get(g, "/").statusCode()).isEqualTo(200);
            String s = scrape(g);
            assertThat(sample(s, "gatehouse_endpoint_ejections_total", "endpoint=\"" + failing.address() + "\"")).hasValue(1.0);
            assertThat(sample(s, "gatehouse_endpoint_ejections_total", "endpoint=\"" + fine.address() + "\"")).hasValue(0.0);
            assertThat(sample(s, "gatehouse_endpoint_available", "endpoint=\"" + failing.address() + "\"")).hasValue(0.0);
            assertThat(sample(s, "gatehouse_cluster_retries_total", "cluster=\"app\"")).hasValue(1.0);
            assertThat(sample(s, "gatehouse_cluster_retry_budget_exhausted_total", "cluster=\"app\"")).hasValue(0.0);
        }
    }

    @Test
    void metersOfAClusterAndRouteThatAReloadRemovedDisappear() throws Exception {
        TestBackend a = backend();
        TestBackend b = backend();
        String clusters = "[ { name: a, endpoints: [ \"%s\" ] }, { name: b, endpoints: [ \"%s\" ] } ]".formatted(a.address(), b.address());
        try (GatehouseFixture g = gatehouse(clusters,
                "[ { name: to-b, match: { path_prefix: /b }, cluster: b }, { name: to-a, cluster: a } ]")) {
            get(g, "/a");
            get(g, "/b");
            String before = scrape(g);
            assertThat(sample(before, "gatehouse_request_duration_seconds_count", "route=\"to-b\"", "cluster=\"b\"")).hasValue(1.0);
            assertThat(before).contains("cluster=\"b\"");

            int port = g.address().getPort();
            g.gatehouse().reload(ConfigLoader.parse("""
                    listeners:
                      - name: edge
                        address: 127.0.0.1:%d
                        %s
                        routes: [ { name: to-a, cluster: a } ]
                    clusters: [ { name: a, endpoints: [ "%s" ] } ]
                    admin: { address: 127.0.0.1:0 }
                    """.formatted(port, protocol.listenerTls(), a.address()), "reload.yaml"));
            String after = scrape(g);
            assertThat(after).doesNotContain("cluster=\"b\"").doesNotContain("route=\"to-b\"");
            // what stayed keeps counting from where it was
            assertThat(sample(after, "gatehouse_request_duration_seconds_count", "route=\"to-a\"", "cluster=\"a\"")).hasValue(1.0);
            assertThat(sample(after, "gatehouse_endpoint_duration_seconds_count", "endpoint=\"" + a.address() + "\"")).hasValue(1.0);
        }
    }

    @Test
    void answersOpenMetricsWhenTheScraperAsksForIt() throws Exception {
        TestBackend b = backend();
        try (GatehouseFixture g = gatehouse("[ { name: app, endpoints: [ \"%s\" ] } ]".formatted(b.address()),
                "[ { name: all, cluster: app } ]")) {
            get(g, "/");
            HttpResponse<String> r = scrape(g, "application/openmetrics-text; version=1.0.0,text/plain;q=0.5");
            assertThat(r.headers().firstValue("content-type").orElseThrow()).startsWith("application/openmetrics-text");
            assertThat(r.body()).contains("gatehouse_request_duration_seconds_count{").endsWith("# EOF\n");
        }
    }

    @Test
    void requestsNoRouteTookCountUnderTheListener() throws Exception {
        try (GatehouseFixture g = gatehouse("[]", "[ { name: only, match: { path_prefix: /only }, direct_response: { status: 204 } } ]")) {
            assertThat(get(g, "/elsewhere").statusCode()).isEqualTo(404);
            assertThat(get(g, "/only").statusCode()).isEqualTo(204);
            String s = scrape(g);
            assertThat(sample(s, "gatehouse_request_duration_seconds_count", "route=\"none\"", "status_class=\"4xx\"")).hasValue(1.0);
            assertThat(sample(s, "gatehouse_request_duration_seconds_count", "route=\"only\"", "cluster=\"none\"", "status_class=\"2xx\"")).hasValue(1.0);
        }
    }

    private static String[] concat(String[] a, String b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = b;
        return out;
    }
}
