package io.gatehouse.cli.system;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The whole system as {@code gatehouse up} starts it, on free ports: edge → app → Redis → PostgreSQL. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SystemStackTest {
    static Path home;
    static SystemStack stack;
    static final HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @BeforeAll
    static void start() throws Exception {
        home = Files.createTempDirectory("gatehouse-up");
        stack = SystemStack.start(new SystemStack.Options(Block.ALL, "127.0.0.1:0", "off", null, "off", home, List.of(0, 0, 0),
                "32mb", "allkeys-lru"));
    }

    @AfterAll
    static void stop() throws IOException {
        if (stack != null) stack.close();
        try (var paths = Files.walk(home)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Through the edge, as an API client: with the demo consumer's key. */
    private static HttpResponse<String> send(String method, String path, String json) throws Exception {
        return send(method, path, json, "x-api-key", stack.apiKey());
    }

    private static HttpResponse<String> send(String method, String path, String json, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.edgeAddress().getPort() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (headers.length > 0) b.headers(headers);
        if (json != null) b.header("Content-Type", "application/json");
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void loadCreatesLinksThroughTheEdgeWithTheKeyAndReportsLatencyAndTheCacheHitRatio() {
        java.util.List<String> metricsUrls = stack.instances().stream().map(i -> "http://127.0.0.1:" + i.port() + "/metrics").toList();
        String metrics = String.join(",", metricsUrls);
        java.io.StringWriter out = new java.io.StringWriter();
        int code = io.gatehouse.cli.GatehouseCommand.commandLine().setOut(new java.io.PrintWriter(out, true))
                .execute("load", "--target", "http://127.0.0.1:" + stack.edgeAddress().getPort(), "--api-key", stack.apiKey(),
                        "--links", "20", "--rate", "20", "--duration", "2", "--warmup", "1", "--warmup-max", "2", "--metrics", metrics);
        // Its exit status says whether every request succeeded; on a loaded machine a health check may flap, so the
        // test checks the run and its report, not the machine.
        assertThat(code).as(out.toString()).isIn(0, 1);
        assertThat(out.toString()).contains("creating 20 links", "sent 40, ok ", "p99", "p99.9", "cache hit ratio", "warm-up (not in the figures");
        // the counters the report's hit ratio and database queries come from, read from the instances as load reads
        // them: the app's metric names and load's parser agree (each new link's first redirect was a database lookup)
        LoadCommand.Counters counters = LoadCommand.Counters.scrape(metricsUrls);
        assertThat(counters.requests()).isGreaterThanOrEqualTo(40);
        assertThat(counters.hits()).isPositive();
        assertThat(counters.lookups()).isPositive();
        // Without the key, through the edge, the links cannot be made: it says how to get one.
        java.io.StringWriter err = new java.io.StringWriter();
        int refused = io.gatehouse.cli.GatehouseCommand.commandLine().setErr(new java.io.PrintWriter(err, true))
                .execute("load", "--target", "http://127.0.0.1:" + stack.edgeAddress().getPort(), "--api-key", ApiKeyFile.newKey(),
                        "--links", "1", "--rate", "1", "--duration", "1", "--warmup", "0");
        assertThat(refused).isNotZero();
        assertThat(err.toString()).contains("--api-key");
    }

    @Test
    void apiClientsAuthenticateAtTheEdgeAndNoClientNamesItsOwnUser() throws Exception {
        String link = "{\"target\":\"https://example.com/owned\"}";
        // The app trusts the user header because only the edge sets it: one a client sends is removed on the way.
        HttpResponse<String> forged = send("POST", "/api/links", link, "X-Gatehouse-User", "mallory");
        assertThat(forged.statusCode()).as(forged.body()).isEqualTo(401);
        assertThat(forged.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        // A wrong key is refused by the edge itself, before the app.
        HttpResponse<String> wrongKey = send("POST", "/api/links", link, "x-api-key", ApiKeyFile.newKey());
        assertThat(wrongKey.statusCode()).isEqualTo(401);
        assertThat(wrongKey.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("ApiKey"));
        // With the key, the link belongs to the key's consumer, whatever user header came along with it.
        HttpResponse<String> created = send("POST", "/api/links", link, "x-api-key", stack.apiKey(), "X-Gatehouse-User", "mallory");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(created.body()).contains("\"owner\":\"" + SystemStack.CONSUMER + "\"").doesNotContain("mallory");
        // The edge's rate limit shows on every API answer; the key is kept for the next start, readable by its owner only.
        assertThat(created.headers().firstValue("RateLimit-Policy")).isPresent();
        assertThat(ApiKeyFile.read(home.resolve(ApiKeyFile.NAME))).isEqualTo(stack.apiKey());
        assertThat(java.nio.file.Files.getPosixFilePermissions(home.resolve(ApiKeyFile.NAME)))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        assertThat(stack.edgeYaml()).contains("redis: { address:", "mode: global").doesNotContain(stack.apiKey());
    }

    @Test
    void everyBlockIsInTheTableAndUp() {
        assertThat(stack.rows()).extracting(SystemStack.Row::block)
                .containsExactly("edge", "app-1", "app-2", "app-3", "db primary", "db replica", "registry", "cache");
        // The states are live checks with production's real-time bounds (a 1 s Redis command timeout and its 1 s
        // switch, a 1 s JDBC validation): a stall of a busy machine shows as a moment of "degraded". Every block
        // must be up, but it may take that moment to say so.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<SystemStack.Row> rows = stack.rows();
            assertThat(rows).filteredOn(r -> r.block().equals("registry")).extracting(SystemStack.Row::state)
                    .singleElement().asString().contains("3 instances registered", "leader app-");
            assertThat(rows).filteredOn(r -> r.block().startsWith("app-")).extracting(SystemStack.Row::state).containsOnly("ready");
        });
        String banner = SystemBanner.render(stack, home, "test");
        assertThat(banner).contains("BLOCK", "ENGINE", "ADDRESS", "STATE", "PostgreSQL 17", "Redis", "ZooKeeper", "Try it:", "MiB of memory (PSS", "MiB RSS summed");
        // What the dashboard's System card shows (GET /blocks): every block, each healthy.
        assertThat(stack.blocks()).extracting(io.gatehouse.admin.SystemBlocks.Block::name)
                .containsExactly("edge", "app-1", "app-2", "app-3", "db primary", "db replica", "registry", "cache");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(stack.blocks()).extracting(io.gatehouse.admin.SystemBlocks.Block::health).containsOnly("up"));
    }

    @Test
    void aLinkCreatedThroughTheEdgeRedirectsThroughTheEdgeFromEveryInstance() throws Exception {
        HttpResponse<String> created = send("POST", "/api/links", "{\"target\":\"https://example.com/up\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        Matcher m = Pattern.compile("\"code\":\"([^\"]+)\"").matcher(created.body());
        assertThat(m.find()).isTrue();
        String code = m.group(1);
        // Round robin spreads these over the three instances; each must find the link (shared DB and cache).
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = send("GET", "/" + code, null);
            assertThat(r.statusCode()).isEqualTo(302);
            assertThat(r.headers().firstValue("Location")).hasValue("https://example.com/up");
        }
        assertThat(stack.edgeYaml()).contains("name: app", "path: /health", "zookeeper: { connect:", "service: gatehouse-app");
        assertThat(stack.edge().cluster("app").endpoints()).hasSize(3).allSatisfy(e -> assertThat(e.source()).isEqualTo("zookeeper"));
    }

    @Test
    @Order(Integer.MAX_VALUE - 1) // near the end: the shared stack has no replica afterwards
    void promoteThroughTheControlChannelRepointsWritesAndKeepsReplicatedLinks() throws Exception {
        HttpResponse<String> created = send("POST", "/api/links", "{\"target\":\"https://example.com/before-failover\"}");
        assertThat(created.statusCode()).isEqualTo(201);
        io.gatehouse.app.db.Lsn lsn = io.gatehouse.app.db.Lsn.parse(created.headers().firstValue("Gatehouse-Lsn").orElseThrow());
        Matcher m = Pattern.compile("\"code\":\"([^\"]+)\"").matcher(created.body());
        assertThat(m.find()).isTrue();
        // Asynchronous replication: promote once the replica has the write, as an operator would check.
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            io.gatehouse.app.db.Lsn replayed = stack.apps().get(0).database().replicas().get(0).replayed();
            return replayed != null && replayed.atLeast(lsn);
        });
        int port = Integer.parseInt(Files.readString(home.resolve(ControlChannel.PORT_FILE)).trim());
        HttpResponse<String> promoted = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/db/promote"))
                .timeout(Duration.ofSeconds(90)).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(promoted.statusCode()).as(promoted.body()).isEqualTo(200);
        assertThat(stack.rows()).extracting(SystemStack.Row::block).doesNotContain("db replica");
        // "promoted" comes once the edge counts every instance in again (their health checks failed while the
        // primary was down): a script acting on it meets no 503.
        assertThat(promoted.body()).contains("; the edge serves through all 3 instances");
        assertThat(stack.edge().cluster("app").availableCount()).isEqualTo(3);
        for (int i = 0; i < 3; i++) {
            assertThat(send("GET", "/" + m.group(1), null).statusCode()).as("redirect %d after the promote", i).isEqualTo(302);
        }

        HttpResponse<String> after = send("POST", "/api/links", "{\"target\":\"https://example.com/after-failover\"}");
        assertThat(after.statusCode()).as(after.body()).isEqualTo(201);
        HttpResponse<String> old = send("GET", "/api/links/" + m.group(1), null);
        assertThat(old.statusCode()).isEqualTo(200); // read from the new primary: the link survived the failover
    }

    @Test
    @Order(Integer.MAX_VALUE) // last (unordered tests default to MAX_VALUE / 2): it kills an instance of the shared stack
    void killingAnAppInstanceCostsNoFailedRequestThroughTheEdge() throws Exception {
        HttpResponse<String> created = send("POST", "/api/links", "{\"target\":\"https://example.com/kill\"}");
        Matcher m = Pattern.compile("\"code\":\"([^\"]+)\"").matcher(created.body());
        assertThat(m.find()).isTrue();
        int port = Integer.parseInt(Files.readString(home.resolve(ControlChannel.PORT_FILE)).trim());
        HttpResponse<String> stopped = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/apps/app-2/stop"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(stopped.statusCode()).as(stopped.body()).isEqualTo(200); // app-2 stops listening, as if it had crashed
        for (int i = 0; i < 12; i++) {
            HttpResponse<String> r = send("GET", "/" + m.group(1), null);
            assertThat(r.statusCode()).as("request %d after the kill", i).isEqualTo(302);
        }
        // it left ZooKeeper, and the edge's cluster follows the registry without a reload
        await().atMost(Duration.ofSeconds(30)).until(() -> stack.edge().cluster("app").endpoints().size() == 2);
        assertThat(stack.blocks()).filteredOn(b -> b.name().equals("app-2")).extracting(io.gatehouse.admin.SystemBlocks.Block::health)
                .containsExactly("down"); // the dashboard shows the killed instance as down
    }

    @Test
    void stoppingLeavesNothingListening() throws Exception {
        Path otherHome = Files.createTempDirectory("gatehouse-up-subset");
        SystemStack subset = SystemStack.start(new SystemStack.Options(Block.parse("app,db"), "127.0.0.1:0", "off", null, "off",
                otherHome, List.of(0)));
        List<Integer> ports = new ArrayList<>();
        ports.add(subset.apps().get(0).port());
        ports.add(subset.postgres().primaryPort());
        assertThat(subset.rows()).extracting(SystemStack.Row::block).containsExactly("app-1", "db primary");
        for (int p : ports) assertThat(listening(p)).as("port %d before stop", p).isTrue();
        subset.close();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (int p : ports) assertThat(listening(p)).as("port %d after stop", p).isFalse();
        });
        assertThat(ProcessHandle.current().descendants().filter(h -> h.info().command().orElse("").contains(otherHome.toString())).count()).isZero();
    }

    @Test
    void dbPromoteWithoutARunningUpSaysSo() {
        java.io.StringWriter err = new java.io.StringWriter();
        int code = io.gatehouse.cli.GatehouseCommand.commandLine().setErr(new java.io.PrintWriter(err, true))
                .execute("db", "promote");
        assertThat(code).isEqualTo(1);
        assertThat(err.toString()).contains("no running `gatehouse up` found");
    }

    @Test
    void cacheLimitsAreApplied() {
        assertThat(stack.rows()).filteredOn(r -> r.block().equals("cache")).extracting(SystemStack.Row::engine)
                .containsExactly("Redis 6.2 (embedded), 32mb allkeys-lru");
        // Asked with a client of its own: the instances' 1 s command timeout is production's, and not what this checks.
        try (io.gatehouse.app.cache.Redis redis = new io.gatehouse.app.cache.Redis(stack.redis().uri(), Duration.ofSeconds(10),
                Duration.ofMillis(50))) {
            assertThat(redis.call(c -> c.configGet("maxmemory-policy")).get("maxmemory-policy")).isEqualTo("allkeys-lru");
        }
    }

    @Test
    void upRejectsAnUnknownEvictionPolicy() {
        java.io.StringWriter err = new java.io.StringWriter();
        int code = io.gatehouse.cli.GatehouseCommand.commandLine().setErr(new java.io.PrintWriter(err, true))
                .execute("up", "--cache-policy", "random-ish");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--cache-policy: unknown policy 'random-ish'");
    }

    @Test
    void blocksAreValidated() {
        assertThatThrownBy(() -> Block.parse("edge,app")).hasMessageContaining("app needs db");
        assertThatThrownBy(() -> Block.parse("edge,kafka")).hasMessageContaining("unknown block 'kafka'");
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (ConnectException e) {
            return false;
        } catch (IOException e) {
            return false;
        }
    }
}
