package io.gatehouse.redis;

import io.gatehouse.Gatehouse;
import io.gatehouse.clock.ManualClock;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.redis.SharedRedis.Answer;
import io.gatehouse.testing.TestBackend;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.SlotHash;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.embedded.RedisServer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code redis: {cluster: [...]}} against a real Redis Cluster of three masters (embedded redis-server 6.2 processes
 * with {@code cluster-enabled yes}, slots assigned and nodes met from the test): global limits whose buckets live on
 * different masters stay exact under concurrency (a batch is split by slot), a quota's day and month counters share a
 * slot (one script), hybrid leases work, and the shared state two edges keep through Redis (the deny list, runtime
 * consumers) reaches the other edge.
 */
class RedisClusterTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    @TempDir
    static Path dir;
    static final List<RedisServer> nodes = new ArrayList<>();
    static final List<Integer> ports = new ArrayList<>();
    static final List<RedisClient> direct = new ArrayList<>();
    static final List<StatefulRedisConnection<String, String>> connections = new ArrayList<>();
    static Gatehouse a;
    static Gatehouse b;
    static final ManualClock clock = new ManualClock();   // no refill while the test runs
    static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        for (int i = 0; i < 3; i++) {
            RedisServer node = RedisClusterNodes.start(dir, b -> b.setting("cluster-node-timeout 5000"));
            int port = node.ports().get(0);
            nodes.add(node);
            ports.add(port);
            RedisClient c = RedisClient.create("redis://127.0.0.1:" + port);
            direct.add(c);
            connections.add(c.connect());
        }
        // three masters, a third of the slots each, then one cluster
        for (int i = 0; i < 3; i++) {
            int from = i * 16384 / 3, to = (i + 1) * 16384 / 3;
            connections.get(i).sync().clusterAddSlots(IntStream.range(from, to).toArray());
        }
        RedisClusterNodes.form(connections, ports);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() ->
                connections.stream().allMatch(c -> c.sync().clusterInfo().contains("cluster_state:ok")
                        && c.sync().clusterInfo().contains("cluster_known_nodes:3")));

        String yaml = """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    filters:
                      - deny: {user_agents: ["NoSuchBot/*"]}
                    routes:
                      - name: limited
                        match: {path_prefix: /limited}
                        cluster: api
                        filters:
                          - rate_limit: {key: "header:x-tenant", mode: global, limits: [{rate: 5/h}]}
                      - name: quota
                        match: {path_prefix: /quota}
                        cluster: api
                        filters:
                          - quota: {key: client_ip, per_day: 3, per_month: 10}
                      - name: hybrid
                        match: {path_prefix: /hybrid}
                        cluster: api
                        filters:
                          - rate_limit: {key: route, mode: hybrid, sync_interval: 1s, limits: [{rate: 36000/h, burst: 40}]}
                      - name: open
                        match: {path_prefix: /open}
                        cluster: api
                      - name: keyed
                        match: {path_prefix: /keyed}
                        cluster: api
                        filters:
                          - api_key: {}
                redis: {cluster: ["127.0.0.1:%d", "127.0.0.1:%d"], timeout: 2s}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "127.0.0.1:0"}
                """.formatted(ports.get(0), ports.get(1), backend.address());   // two seeds: the client finds the third
        a = Gatehouse.start(ConfigLoader.parse(yaml, "a.yaml"), clock);
        b = Gatehouse.start(ConfigLoader.parse(yaml, "b.yaml"), clock);
    }

    @AfterAll
    static void stop() {
        if (a != null) a.shutdown(Duration.ofSeconds(1));
        if (b != null) b.shutdown(Duration.ofSeconds(1));
        connections.forEach(StatefulRedisConnection::close);
        direct.forEach(RedisClient::shutdown);
        for (RedisServer n : nodes) {
            try {
                n.stop();
            } catch (Exception e) {
                // the others still stop
            }
        }
    }

    static int get(Gatehouse g, String path, Map<String, String> headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.listenerAddress("edge").getPort() + path))
                .timeout(Duration.ofSeconds(10));
        headers.forEach(r::header);
        return client.send(r.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** Which master holds {@code key}'s slot. */
    static int nodeOf(String key) {
        int slot = SlotHash.getSlot(key);
        for (int i = 2; i > 0; i--) if (slot >= i * 16384 / 3) return i;
        return 0;
    }

    @Test
    void globalLimitsOnEveryMasterStayExactUnderConcurrency() throws Exception {
        List<String> tenants = List.of("t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8");
        Set<Integer> masters = new HashSet<>();
        for (String t : tenants) masters.add(nodeOf("gatehouse:rl:edge:limited:h:" + t));
        assertThat(masters).as("the tenants' buckets are spread over the masters").hasSize(3);

        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            List<String> asked = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                for (String t : tenants) {
                    Gatehouse edge = i % 2 == 0 ? a : b;
                    asked.add(t);
                    results.add(pool.submit(() -> get(edge, "/limited", Map.of("x-tenant", t))));
                }
            }
            Map<String, Integer> allowed = new java.util.TreeMap<>();
            for (int i = 0; i < results.size(); i++) {
                int status = results.get(i).get(30, TimeUnit.SECONDS);
                assertThat(status).isIn(200, 429);
                if (status == 200) allowed.merge(asked.get(i), 1, Integer::sum);
            }
            assertThat(allowed).as("each tenant: exactly its 5, across two edges").hasSize(tenants.size()).allSatisfy((t, n) -> assertThat(n).isEqualTo(5));
        } finally {
            pool.shutdownNow();
        }
        for (int i = 0; i < 3; i++) {
            int master = i;
            List<String> keys = connections.get(i).sync().keys("gatehouse:rl:edge:limited:*");
            assertThat(keys).as("master %d holds its own buckets", i).isNotEmpty()
                    .allSatisfy(k -> assertThat(nodeOf(k)).isEqualTo(master));
        }
    }

    @Test
    void aQuotasDayAndMonthCountersShareASlot() throws Exception {
        assertThat(List.of(get(a, "/quota", Map.of()), get(b, "/quota", Map.of()), get(a, "/quota", Map.of()))).containsOnly(200);
        assertThat(get(b, "/quota", Map.of())).isEqualTo(429);
        int holders = 0;
        for (var c : connections) if (!c.sync().keys("gatehouse:quota:*").isEmpty()) holders++;
        assertThat(holders).as("both counters on one master").isEqualTo(1);
    }

    @Test
    void hybridLeasesComeFromTheCluster() throws Exception {
        int allowed = 0;
        for (int i = 0; i < 40; i++) if (get(i % 2 == 0 ? a : b, "/hybrid", Map.of()) == 200) allowed++;
        assertThat(allowed).isEqualTo(40);
        assertThat(get(a, "/hybrid", Map.of())).as("the burst is spent across both edges").isEqualTo(429);
    }

    @Test
    void theSharedDenyListAndRuntimeConsumersReachTheOtherEdge() throws Exception {
        Answer denied = SharedRedis.admin(a, "POST", "/deny", "{\"type\": \"header\", \"header\": \"x-client\", \"value\": \"evil*\"}");
        assertThat(denied.status()).isEqualTo(201);
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).pollInterval(Duration.ofMillis(20))
                .until(() -> get(b, "/open", Map.of("x-client", "evil-1")) == 403);
        assertThat(SharedRedis.admin(b, "DELETE", "/deny/" + denied.json().get("id").asText(), null).status()).isEqualTo(200);
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).pollInterval(Duration.ofMillis(20))
                .until(() -> get(a, "/open", Map.of("x-client", "evil-1")) != 403);

        Answer made = SharedRedis.admin(a, "POST", "/consumers", "{\"name\": \"cluster-partner\"}");
        assertThat(made.status()).isEqualTo(201);
        String key = made.json().get("api_key").asText();
        assertThat(get(a, "/keyed", Map.of("x-api-key", key))).isEqualTo(200);
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).pollInterval(Duration.ofMillis(20))
                .until(() -> get(b, "/keyed", Map.of("x-api-key", key)) == 200);
        assertThat(SharedRedis.admin(b, "POST", "/consumers/cluster-partner/disable", null).status()).isEqualTo(200);
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).pollInterval(Duration.ofMillis(20))
                .until(() -> get(a, "/keyed", Map.of("x-api-key", key)) == 403);
    }
}
