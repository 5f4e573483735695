package io.gatehouse.discovery;

import com.sun.net.httpserver.HttpServer;
import io.gatehouse.Gatehouse;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ConfigLoader;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.test.TestingServer;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A cluster that follows a real ZooKeeper (in this JVM) through Curator's service-discovery recipe, with instances
 * registered the way gatehouse-app registers itself ({@code /gatehouse/services/gatehouse-app}, JSON, string
 * payload): instances come and go without a reload and without cutting a request in flight, new ones are health
 * checked, and a ZooKeeper outage keeps the instances known.
 */
class ZooKeeperEndpointsTest {
    private static TestingServer zookeeper;
    private static final List<HttpServer> backends = new ArrayList<>();
    private static volatile CountDownLatch slowGate = new CountDownLatch(0);
    private static volatile CountDownLatch slowArrived = new CountDownLatch(1);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** Every instance a test registered: gone after it, whatever happened, so the next test starts clean. */
    private static final List<Instance> registered = new ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void unregister() {
        registered.forEach(Instance::die);
        registered.clear();
    }

    @BeforeAll
    static void startEngines() throws Exception {
        zookeeper = new TestingServer(-1, true);
    }

    @AfterAll
    static void stopEngines() throws IOException {
        backends.forEach(s -> s.stop(0));
        zookeeper.close();
    }

    private static int backend(String name) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        s.createContext("/", exchange -> {
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
        return s.getAddress().getPort();
    }

    /** An app instance in the registry, on its own ZooKeeper session, as gatehouse-app's Registration does it. */
    private record Instance(CuratorFramework client, ServiceDiscovery<String> discovery) {
        static Instance register(String id, int port) throws Exception {
            CuratorFramework c = CuratorFrameworkFactory.builder().connectString(zookeeper.getConnectString())
                    .sessionTimeoutMs(5_000).connectionTimeoutMs(2_000).retryPolicy(new ExponentialBackoffRetry(100, 5)).build();
            c.start();
            assertThat(c.blockUntilConnected(5, TimeUnit.SECONDS)).isTrue();
            ServiceInstance<String> me = ServiceInstance.<String>builder().name("gatehouse-app").id(id)
                    .address("127.0.0.1").port(port).payload(id).build();
            ServiceDiscovery<String> d = ServiceDiscoveryBuilder.builder(String.class).client(c).basePath("/gatehouse/services")
                    .serializer(new JsonInstanceSerializer<>(String.class)).thisInstance(me).build();
            d.start();
            Instance i = new Instance(c, d);
            registered.add(i);
            return i;
        }

        /** The process dies: its session ends and ZooKeeper removes its ephemeral node; nothing unregisters. */
        void die() {
            client.close();   // a second close does nothing
        }
    }

    private Gatehouse start(String healthCheck) throws Exception {
        String yaml = """
                listeners:
                  - name: web
                    address: 127.0.0.1:0
                    routes:
                      - name: all
                        match: { path_prefix: / }
                        cluster: app
                clusters:
                  - name: app
                    discovery:
                      zookeeper: { connect: "%s", service: gatehouse-app, session_timeout: 5s, connection_timeout: 1s }
                %s
                admin: { address: "off" }
                """.formatted(zookeeper.getConnectString(), healthCheck);
        return Gatehouse.start(ConfigLoader.parse(yaml, "zk-test.yaml"));
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
    void instancesComeAndGoWithoutReloadAndARequestInFlightFinishes() throws Exception {
        int p1 = backend("one");
        int p2 = backend("two");
        Instance one = Instance.register("app-1", p1);
        Gatehouse g = start("");
        try {
            Cluster app = g.cluster("app");
            assertThat(addresses(app)).containsExactly("127.0.0.1:" + p1);
            assertThat(app.endpoints().get(0).source()).isEqualTo("zookeeper");
            assertThat(get(g, "/")).isEqualTo("one");

            Instance two = Instance.register("app-2", p2);
            await().atMost(Duration.ofSeconds(10)).until(() -> app.endpoints().size() == 2);
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 6; i++) seen.add(get(g, "/"));
            assertThat(seen).containsExactlyInAnyOrder("one", "two");

            // a request in flight to instance one when it dies
            slowGate = new CountDownLatch(1);
            slowArrived = new CountDownLatch(1);
            CompletableFuture<HttpResponse<String>> inFlight = null;
            for (int i = 0; i < 2 && slowArrived.getCount() > 0; i++) {   // round robin: one of two lands on one
                inFlight = client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + g.listenerAddress("web").getPort() + "/slow")).build(), HttpResponse.BodyHandlers.ofString());
                if (!slowArrived.await(2, TimeUnit.SECONDS)) inFlight = null;
            }
            assertThat(inFlight).isNotNull();
            Endpoint leaving = app.endpoint("127.0.0.1:" + p1);
            one.die();
            await().atMost(Duration.ofSeconds(10)).until(() -> addresses(app).equals(List.of("127.0.0.1:" + p2)));
            assertThat(g.cluster("app")).as("no reload").isSameAs(app);
            assertThat(leaving.retired()).isTrue();
            for (int i = 0; i < 4; i++) assertThat(get(g, "/")).isEqualTo("two");
            slowGate.countDown();
            HttpResponse<String> finished = inFlight.get(10, TimeUnit.SECONDS);
            assertThat(finished.statusCode()).isEqualTo(200);
            two.die();
            await().atMost(Duration.ofSeconds(10)).until(() -> app.endpoints().isEmpty());
            assertThat(app.availableCount()).isZero();
        } finally {
            slowGate.countDown();
            g.shutdown(Duration.ofSeconds(1));
        }
    }

    @Test
    void newInstancesAreHealthCheckedAndAZooKeeperOutageKeepsTheKnownOnes() throws Exception {
        int p3 = backend("three");
        Instance three = Instance.register("app-3", p3);
        Gatehouse g = start("""
                    health_check: { type: http, path: /health, interval: 200ms, timeout: 5s, healthy_threshold: 1, unhealthy_threshold: 2 }
                """);
        try {
            Cluster app = g.cluster("app");
            assertThat(addresses(app)).containsExactly("127.0.0.1:" + p3);
            // registered, but nothing listens there: the health check takes it out of rotation
            Instance ghost = Instance.register("app-ghost", 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> app.endpoints().size() == 2);
            Endpoint dead = app.endpoint("127.0.0.1:1");
            await().atMost(Duration.ofSeconds(10)).until(() -> !dead.activeHealthy());
            await().atMost(Duration.ofSeconds(10)).until(() -> app.availableCount() == 1);
            for (int i = 0; i < 4; i++) assertThat(get(g, "/")).isEqualTo("three");

            zookeeper.stop();   // the registry is down; the instances are not
            EndpointSource source = (EndpointSource) app.source();
            await().atMost(Duration.ofSeconds(10)).until(() -> !"connected".equals(source.status().get("connection"))
                    && !"reconnected".equals(source.status().get("connection")));
            assertThat(addresses(app)).containsExactly("127.0.0.1:1", "127.0.0.1:" + p3);
            assertThat(get(g, "/")).isEqualTo("three");
            zookeeper.restart();
            ghost.die();
            await().atMost(Duration.ofSeconds(20)).until(() -> addresses(app).equals(List.of("127.0.0.1:" + p3)));
            three.die();
        } finally {
            g.shutdown(Duration.ofSeconds(1));
        }
    }
}
