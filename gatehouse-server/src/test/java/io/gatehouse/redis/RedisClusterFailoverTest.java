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
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A Redis Cluster failover under Gatehouse: three masters (embedded redis-server 6.2 processes) and a replica of the
 * master that holds the deny list's slot. That master is killed (SIGKILL): while its slots have no master, each
 * global limit on them follows its policy (open lets requests through, closed answers 503); the replica then takes
 * over ({@code CLUSTER FAILOVER TAKEOVER}; automatic failover is off on it so the outage lasts as long as the test
 * needs to see it), and through Gatehouse the limits decide again, with the buckets' state the replica had copied,
 * and the deny list keeps working: old entries honoured, new ones added and removed.
 */
class RedisClusterFailoverTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    @TempDir
    static Path dir;
    static final List<RedisServer> nodes = new ArrayList<>();
    static final List<Integer> ports = new ArrayList<>();
    static final List<RedisClient> direct = new ArrayList<>();
    static final List<StatefulRedisConnection<String, String>> connections = new ArrayList<>();
    static final ManualClock clock = new ManualClock();   // no refill while the test runs
    static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static Gatehouse edge;
    static int victim;            // the master that is killed: the one holding the deny list
    static final int REPLICA = 3;

    @BeforeAll
    static void start() throws Exception {
        for (int i = 0; i < 4; i++) {
            boolean replica = i == REPLICA;
            RedisServer node = RedisClusterNodes.start(dir, b -> b
                    .setting("cluster-node-timeout 1000")
                    // the replica is promoted by the test, when it has seen the outage, not by the cluster on its own
                    .settingIf(replica, "cluster-replica-no-failover yes"));
            int port = node.ports().get(0);
            nodes.add(node);
            ports.add(port);
            RedisClient c = RedisClient.create("redis://127.0.0.1:" + port);
            direct.add(c);
            connections.add(c.connect());
        }
        for (int i = 0; i < 3; i++) {
            int from = i * 16384 / 3, to = (i + 1) * 16384 / 3;
            connections.get(i).sync().clusterAddSlots(IntStream.range(from, to).toArray());
        }
        RedisClusterNodes.form(connections, ports);   // the replica's own epoch: its takeover must outrank the dead master
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() ->
                connections.stream().allMatch(c -> c.sync().clusterInfo().contains("cluster_known_nodes:4")));
        victim = nodeOf(io.gatehouse.deny.DenyList.KEY);
        connections.get(REPLICA).sync().clusterReplicate(connections.get(victim).sync().clusterMyId());
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() ->
                connections.get(REPLICA).sync().info("replication").contains("master_link_status:up")
                        && connections.stream().allMatch(c -> c.sync().clusterInfo().contains("cluster_state:ok")));

        edge = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    filters:
                      - deny: {user_agents: ["NoSuchBot/*"]}   # and the shared list in Redis
                    routes:
                      - name: open
                        match: {path_prefix: /open}
                        cluster: api
                        filters:
                          - rate_limit: {key: "header:x-tenant", mode: global, on_redis_failure: open, limits: [{rate: 3/h}]}
                      - name: closed
                        match: {path_prefix: /closed}
                        cluster: api
                        filters:
                          - rate_limit: {key: "header:x-tenant", mode: global, on_redis_failure: closed, limits: [{rate: 3/h}]}
                      - name: plain
                        cluster: api
                redis: {cluster: ["127.0.0.1:%d", "127.0.0.1:%d"], timeout: 500ms}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "127.0.0.1:0"}
                """.formatted(ports.get(0), ports.get(1), backend.address()), "failover.yaml"), clock);
    }

    @AfterAll
    static void stop() {
        if (edge != null) edge.shutdown(Duration.ofSeconds(1));
        for (var c : connections) {
            try {
                c.close();
            } catch (RuntimeException e) {
                // the killed node's connection may already be gone
            }
        }
        direct.forEach(RedisClient::shutdown);
        for (RedisServer n : nodes) {
            try {
                n.stop();
            } catch (Exception e) {
                // the others still stop
            }
        }
    }

    static int get(String path, Map<String, String> headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.listenerAddress("edge").getPort() + path))
                .timeout(Duration.ofSeconds(10));
        headers.forEach(r::header);
        return client.send(r.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** Which of the three masters held {@code key}'s slot before the failover. */
    static int nodeOf(String key) {
        int slot = SlotHash.getSlot(key);
        for (int i = 2; i > 0; i--) if (slot >= i * 16384 / 3) return i;
        return 0;
    }

    /** A tenant other than {@code other} whose buckets on both routes live on the killed master's slots. */
    static String tenantOnVictim(String other) {
        for (int i = 0; ; i++) {
            String t = "tenant-" + i;
            if (!t.equals(other) && nodeOf("gatehouse:rl:edge:open:h:" + t) == victim && nodeOf("gatehouse:rl:edge:closed:h:" + t) == victim) {
                return t;
            }
        }
    }

    static long offset(String info, String field) {
        Matcher m = Pattern.compile(field + ":(\\d+)").matcher(info);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    @Test
    void limitsFollowTheirPolicyWhileTheMasterIsGoneAndEverythingResumesAfterTheReplicaTakesOver() throws Exception {
        String tenant = tenantOnVictim(null);
        Map<String, String> t = Map.of("x-tenant", tenant);
        for (String route : List.of("/open", "/closed")) {
            for (int i = 0; i < 3; i++) assertThat(get(route, t)).as(route).isEqualTo(200);
            assertThat(get(route, t)).as(route + ": over the limit while Redis decides").isEqualTo(429);
        }
        assertThat(connections.get(victim).sync().keys("gatehouse:rl:edge:*")).as("the buckets are on the master to be killed").hasSize(2);
        Answer evil = SharedRedis.admin(edge, "POST", "/deny", "{\"type\": \"header\", \"header\": \"x-client\", \"value\": \"evil*\"}");
        assertThat(evil.status()).isEqualTo(201);
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).pollInterval(Duration.ofMillis(20)).until(() -> get("/x", Map.of("x-client", "evil-1")) == 403);
        // the replica has every write before the master dies (replication is asynchronous)
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() ->
                offset(connections.get(REPLICA).sync().info("replication"), "slave_repl_offset")
                        == offset(connections.get(victim).sync().info("replication"), "master_repl_offset"));

        long pid = offset(connections.get(victim).sync().info("server"), "process_id");
        ProcessHandle master = ProcessHandle.of(pid).orElseThrow();
        assertThat(master.destroyForcibly()).as("SIGKILL to redis-server %d", pid).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> !master.isAlive());

        // no master for these slots: each limit applies its policy
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> get("/open", t) == 200);
        assertThat(get("/closed", t)).as("fail closed").isEqualTo(503);
        assertThat(get("/x", Map.of())).as("a route without a limit is not affected").isEqualTo(200);

        long promoted = System.nanoTime();
        assertThat(connections.get(REPLICA).sync().clusterFailover(false, true)).isEqualTo("OK");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() ->
                connections.get(REPLICA).sync().info("replication").contains("role:master")
                        && IntStream.range(0, 4).filter(i -> i != victim)
                        .allMatch(i -> connections.get(i).sync().clusterInfo().contains("cluster_state:ok")));

        // decisions are Redis's again: the bucket the replica copied is still spent, on both policies
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> get("/closed", t) == 429);
        Duration resumed = Duration.ofNanos(System.nanoTime() - promoted);
        System.out.printf("redis cluster failover: global-limit decisions resumed %d ms after the replica took over%n", resumed.toMillis());
        assertThat(get("/open", t)).isEqualTo(429);
        String fresh = tenantOnVictim(tenant);
        Map<String, String> f = Map.of("x-tenant", fresh);
        for (int i = 0; i < 3; i++) assertThat(get("/closed", f)).isEqualTo(200);
        assertThat(get("/closed", f)).as("a new bucket on the promoted master holds its limit").isEqualTo(429);

        // the deny list: the entry from before the failover still refuses; a new one is added and removed through the new master
        assertThat(get("/x", Map.of("x-client", "evil-2"))).isEqualTo(403);
        Answer bad = SharedRedis.admin(edge, "POST", "/deny", "{\"type\": \"header\", \"header\": \"x-client\", \"value\": \"bad*\"}");
        assertThat(bad.status()).isEqualTo(201);
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).pollInterval(Duration.ofMillis(20)).until(() -> get("/x", Map.of("x-client", "bad-1")) == 403);
        assertThat(connections.get(REPLICA).sync().hkeys(io.gatehouse.deny.DenyList.KEY)).as("stored on the promoted master").hasSize(2);
        assertThat(SharedRedis.admin(edge, "DELETE", "/deny/" + evil.json().get("id").asText(), null).status()).isEqualTo(200);
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).pollInterval(Duration.ofMillis(20)).until(() -> get("/x", Map.of("x-client", "evil-1")) == 200);
    }
}
