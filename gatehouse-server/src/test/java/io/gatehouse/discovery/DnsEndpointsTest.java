package io.gatehouse.discovery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.gatehouse.Gatehouse;
import io.gatehouse.clock.ManualClock;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestDnsServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Endpoints given as host names, resolved through a real DNS server (UDP, started here) and re-resolved as the TTL
 * says, on the injectable clock: an A record that changes moves traffic without a reload and without cutting a
 * request in flight (nginx#1656), every address of a name is an endpoint, a failing DNS keeps the last good set.
 * The backends listen on 127.0.0.1, 127.0.0.2 and 127.0.0.3 at one port, as the hosts behind a name would.
 */
class DnsEndpointsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestDnsServer dns;
    private static final List<HttpServer> backends = new ArrayList<>();
    private static int port;
    /** Host header each backend saw last, by backend name. */
    private static final Map<String, String> hosts = new ConcurrentHashMap<>();
    private static volatile CountDownLatch slowGate = new CountDownLatch(0);
    private static volatile CountDownLatch slowArrived = new CountDownLatch(1);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void startEngines() throws IOException {
        dns = TestDnsServer.start();
        HttpServer first = backend("one", new InetSocketAddress("127.0.0.1", 0));
        port = first.getAddress().getPort();
        backend("two", new InetSocketAddress("127.0.0.2", port));
        backend("three", new InetSocketAddress("127.0.0.3", port));
    }

    private static HttpServer backend(String name, InetSocketAddress at) throws IOException {
        HttpServer s = HttpServer.create(at, 50);
        s.createContext("/", exchange -> {
            hosts.put(name, exchange.getRequestHeaders().getFirst("Host"));
            if (exchange.getRequestURI().getPath().equals("/slow")) {
                slowArrived.countDown();
                try {
                    slowGate.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] body = name.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        s.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        s.start();
        backends.add(s);
        return s;
    }

    @AfterAll
    static void stopEngines() {
        backends.forEach(s -> s.stop(0));
        dns.close();
    }

    private Gatehouse start(ManualClock clock, String endpoints, String extra) throws Exception {
        String yaml = """
                listeners:
                  - name: web
                    address: 127.0.0.1:0
                    routes:
                      - name: all
                        match: { path_prefix: / }
                        cluster: api
                        preserve_host: false
                clusters:
                  - name: api
                    endpoints: %s
                    dns: { servers: ["%s"], min_refresh: 1s, max_refresh: 5m, timeout: 300ms }
                    outlier_detection: { consecutive_gateway_failures: 0, consecutive_5xx: 0 }
                %s
                admin: { address: "127.0.0.1:0" }
                """.formatted(endpoints, dns.hostPort(), extra);
        return Gatehouse.start(ConfigLoader.parse(yaml, "dns-test.yaml"), clock);
    }

    private String get(Gatehouse g, String path) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + g.listenerAddress("web").getPort() + path)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("status of %s: %s", path, r.body()).isEqualTo(200);
        return r.body();
    }

    private static List<String> addresses(Cluster c) {
        return c.endpoints().stream().map(Endpoint::address).sorted().toList();
    }

    @Test
    void aChangedARecordMovesTrafficOnceItsTtlRunsOutWithoutReloadOrCuttingARequestInFlight() throws Exception {
        dns.set("move.test", 30, "127.0.0.1");
        dns.set("tick.test", 1, "127.0.0.3");   // asked every second: shows the source looked while move.test waited
        ManualClock clock = new ManualClock();
        Gatehouse g = start(clock, "[\"move.test:" + port + "\", {address: \"tick.test:" + port + "\", backup: true}]", "");
        try {
            Cluster api = g.cluster("api");
            assertThat(addresses(api)).containsExactly("127.0.0.1:" + port, "127.0.0.3:" + port);
            assertThat(get(g, "/")).isEqualTo("one");
            assertThat(hosts.get("one")).as("the Host header (preserve_host: false) is the name, as configured").isEqualTo("move.test:" + port);
            Endpoint before = api.endpoint("127.0.0.1:" + port);
            assertThat(before.source()).isEqualTo("dns");
            assertThat(before.authority()).isEqualTo("move.test:" + port);

            // a request in flight to the old address when the record changes
            slowGate = new CountDownLatch(1);
            slowArrived = new CountDownLatch(1);
            CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + g.listenerAddress("web").getPort() + "/slow")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(slowArrived.await(10, TimeUnit.SECONDS)).isTrue();

            dns.set("move.test", 30, "127.0.0.2");
            int asked = dns.queries("move.test");
            int ticks = dns.queries("tick.test");
            clock.advance(Duration.ofSeconds(29));
            await().atMost(Duration.ofSeconds(10)).until(() -> dns.queries("tick.test") > ticks);
            assertThat(dns.queries("move.test")).as("not asked again before its TTL of 30 s").isEqualTo(asked);
            assertThat(addresses(api)).contains("127.0.0.1:" + port);

            clock.advance(Duration.ofSeconds(2));
            await().atMost(Duration.ofSeconds(10)).until(() -> addresses(api).contains("127.0.0.2:" + port));
            assertThat(g.cluster("api")).as("the same cluster: no reload").isSameAs(api);
            assertThat(addresses(api)).containsExactly("127.0.0.2:" + port, "127.0.0.3:" + port);
            assertThat(get(g, "/")).isEqualTo("two");
            assertThat(before.retired()).isTrue();

            slowGate.countDown();
            HttpResponse<String> finished = inFlight.get(10, TimeUnit.SECONDS);
            assertThat(finished.statusCode()).isEqualTo(200);
            assertThat(finished.body()).as("the request in flight finished on the old address").isEqualTo("one");
            // its connection is not pooled for an address that left: it closes
            await().atMost(Duration.ofSeconds(10)).until(() -> before.connections() == 0);

            // metrics follow the endpoints of the same cluster object
            String metrics = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + g.adminAddress().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("endpoint=\"127.0.0.2:" + port + "\"").doesNotContain("endpoint=\"127.0.0.1:" + port + "\"");

            // the admin API lists the dynamic endpoints with their source and name
            HttpResponse<String> clusters = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + g.adminAddress().getPort() + "/clusters")).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode cluster = JSON.readTree(clusters.body()).get("clusters").get(0);
            JsonNode endpoint = cluster.get("endpoints").get(0);
            assertThat(endpoint.get("address").asText()).isEqualTo("127.0.0.2:" + port);
            assertThat(endpoint.get("source").asText()).isEqualTo("dns");
            assertThat(endpoint.get("name").asText()).isEqualTo("move.test:" + port);
            assertThat(cluster.get("endpoint_source").get("kind").asText()).isEqualTo("dns");
            assertThat(cluster.get("endpoint_source").get("names").get("move.test:" + port).get("ttl_seconds").asLong()).isEqualTo(30);
        } finally {
            slowGate.countDown();
            g.shutdown(Duration.ofSeconds(1));
        }
    }

    @Test
    void everyAddressOfANameIsAnEndpointWithTheNamesWeight() throws Exception {
        dns.set("many.test", 60, "127.0.0.1", "127.0.0.2");
        ManualClock clock = new ManualClock();
        Gatehouse g = start(clock, "[{address: \"many.test:" + port + "\", weight: 3}]", "");
        try {
            Cluster api = g.cluster("api");
            assertThat(addresses(api)).containsExactly("127.0.0.1:" + port, "127.0.0.2:" + port);
            assertThat(api.endpoints()).allSatisfy(e -> assertThat(e.weight()).isEqualTo(3));
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 6; i++) seen.add(get(g, "/"));
            assertThat(seen).containsExactlyInAnyOrder("one", "two");
        } finally {
            g.shutdown(Duration.ofSeconds(1));
        }
    }

    @Test
    void aFailingOrSilentDnsKeepsTheLastGoodEndpointsAndCountsTheFailures() throws Exception {
        dns.set("flaky.test", 5, "127.0.0.1");
        ManualClock clock = new ManualClock();
        Gatehouse g = start(clock, "[\"flaky.test:" + port + "\"]", "");
        try {
            Cluster api = g.cluster("api");
            EndpointSource source = (EndpointSource) api.source();
            assertThat(addresses(api)).containsExactly("127.0.0.1:" + port);

            dns.failing(true);
            int asked = dns.queries("flaky.test");
            clock.advance(Duration.ofSeconds(6));
            await().atMost(Duration.ofSeconds(10)).until(() -> (long) source.status().get("failures") >= 1);
            assertThat(dns.queries("flaky.test")).isGreaterThan(asked);
            assertThat(addresses(api)).containsExactly("127.0.0.1:" + port);
            assertThat(get(g, "/")).isEqualTo("one");

            dns.failing(false).silent(true);   // now queries time out
            clock.advance(Duration.ofSeconds(2));
            await().atMost(Duration.ofSeconds(10)).until(() -> (long) source.status().get("failures") >= 2);
            assertThat(addresses(api)).containsExactly("127.0.0.1:" + port);
            assertThat(get(g, "/")).isEqualTo("one");

            dns.silent(false).remove("flaky.test");   // NXDOMAIN: still the last good set
            clock.advance(Duration.ofSeconds(2));
            await().atMost(Duration.ofSeconds(10)).until(() -> (long) source.status().get("failures") >= 3);
            assertThat(addresses(api)).containsExactly("127.0.0.1:" + port);

            dns.set("flaky.test", 5, "127.0.0.2");   // back, changed: retried after min_refresh
            clock.advance(Duration.ofSeconds(2));
            await().atMost(Duration.ofSeconds(10)).until(() -> addresses(api).equals(List.of("127.0.0.2:" + port)));
            assertThat(get(g, "/")).isEqualTo("two");
        } finally {
            dns.failing(false).silent(false);
            g.shutdown(Duration.ofSeconds(1));
        }
    }

    @Test
    void newAddressesAreHealthCheckedLikeStaticOnesAndAddressesThatStayKeepTheirState() throws Exception {
        dns.set("grow.test", 10, "127.0.0.1");
        ManualClock clock = new ManualClock();
        // 127.0.0.4 has no backend: once DNS names it, the health check must keep it out of rotation
        Gatehouse g = start(clock, "[\"grow.test:" + port + "\"]", """
                    health_check: { type: http, path: /health, interval: 200ms, timeout: 5s, healthy_threshold: 1, unhealthy_threshold: 2 }
                """);
        try {
            Cluster api = g.cluster("api");
            Endpoint kept = api.endpoint("127.0.0.1:" + port);
            assertThat(get(g, "/")).isEqualTo("one");
            long requestsBefore = kept.traffic().requests();
            assertThat(requestsBefore).isEqualTo(1);
            kept.weight(7);   // as the admin API would set it

            dns.set("grow.test", 10, "127.0.0.1", "127.0.0.2", "127.0.0.4");
            clock.advance(Duration.ofSeconds(11));
            await().atMost(Duration.ofSeconds(10)).until(() -> api.endpoints().size() == 3);
            assertThat(api.endpoint("127.0.0.1:" + port)).as("the same endpoint, state and all").isSameAs(kept);
            assertThat(kept.weight()).isEqualTo(7);
            assertThat(kept.traffic().requests()).isEqualTo(requestsBefore);

            Endpoint dead = api.endpoint("127.0.0.4:" + port);
            await().atMost(Duration.ofSeconds(10)).until(() -> !dead.activeHealthy());
            assertThat(api.healthChecker().status(dead)).isNotNull();
            await().atMost(Duration.ofSeconds(10)).until(() -> api.availableCount() == 2);
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 12; i++) seen.add(get(g, "/"));
            assertThat(seen).containsExactlyInAnyOrder("one", "two");
        } finally {
            g.shutdown(Duration.ofSeconds(1));
        }
    }

    @Test
    void aReloadThatChangesTheClusterAdoptsItsResolvedEndpointsAndStopsTheOldSource() throws Exception {
        dns.set("reload.test", 60, "127.0.0.1", "127.0.0.2");
        ManualClock clock = new ManualClock();
        Gatehouse g = start(clock, "[\"reload.test:" + port + "\"]", "");
        try {
            Cluster before = g.cluster("api");
            Endpoint drained = before.endpoint("127.0.0.2:" + port);
            drained.draining(true);   // as POST /clusters/api/endpoints/127.0.0.2:PORT/drain would
            io.gatehouse.config.GatehouseConfig next = ConfigLoader.parse("""
                    listeners:
                      - name: web
                        address: 127.0.0.1:%d
                        routes:
                          - name: all
                            match: { path_prefix: / }
                            cluster: api
                    clusters:
                      - name: api
                        endpoints: ["reload.test:%d"]
                        load_balancer: { policy: random }
                        dns: { servers: ["%s"], min_refresh: 1s, max_refresh: 5m, timeout: 300ms }
                    admin: { address: "off" }
                    """.formatted(g.listenerAddress("web").getPort(), port, dns.hostPort()), "dns-test.yaml");
            g.reload(next);
            Cluster after = g.cluster("api");
            assertThat(after).isNotSameAs(before);
            assertThat(after.endpoint("127.0.0.2:" + port)).as("adopted, drain and all").isSameAs(drained);
            assertThat(drained.draining()).isTrue();
            assertThat(before.source()).as("the replaced cluster's source is closed with it").isNull();
            assertThat(after.source()).isInstanceOf(DnsSource.class);
            for (int i = 0; i < 4; i++) assertThat(get(g, "/")).isEqualTo("one");

            dns.set("reload.test", 60, "127.0.0.1");   // the new source, not the old, follows the name
            clock.advance(Duration.ofSeconds(61));
            await().atMost(Duration.ofSeconds(10)).until(() -> after.endpoints().size() == 1);
            assertThat(before.endpoints()).hasSize(2);
        } finally {
            g.shutdown(Duration.ofSeconds(1));
        }
    }
}
