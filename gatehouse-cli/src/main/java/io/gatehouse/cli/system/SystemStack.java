package io.gatehouse.cli.system;

import io.gatehouse.Gatehouse;
import io.gatehouse.app.App;
import io.gatehouse.app.AppConfig;
import io.gatehouse.app.cache.EmbeddedRedis;
import io.gatehouse.app.db.EmbeddedPostgresCluster;
import io.gatehouse.app.discovery.EmbeddedZooKeeper;
import io.gatehouse.app.discovery.Registration;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.app.telemetry.Traces;
import io.gatehouse.admin.SystemBlocks;
import io.gatehouse.telemetry.AccessLog;
import io.gatehouse.telemetry.Telemetry;
import io.gatehouse.telemetry.Tracing;
import io.netty.util.concurrent.Ticker;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.gatehouse.tls.LocalAuthority;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The whole picture behind {@code gatehouse up}: PostgreSQL primary and replica, Redis, ZooKeeper, three app
 * instances (registered in ZooKeeper) and the edge in front of them, all embedded in this process (the databases as
 * child processes of it), or, with {@code appProcesses}, the app instances as child JVMs ({@link AppProcess}) that
 * can be killed for real. The edge's configuration is generated; its {@code app} cluster finds the instances in
 * ZooKeeper.
 */
public final class SystemStack implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SystemStack.class);
    public static final String LISTENER = "edge";
    public static final String TLS_LISTENER = "edge-tls";
    public static final String CLUSTER = "app";
    /** The consumer that up's API key belongs to; the edge sends its name to the app as the user. */
    public static final String CONSUMER = "demo";
    /** The header the app takes its user from: only the edge may set it (see the routes in {@link #edgeYaml}). */
    static final String USER_HEADER = "x-gatehouse-user";

    /** One line of the banner's table. */
    public record Row(String block, String engine, String address, String state) {}

    /**
     * What to start and where. Ports of 0 pick free ones. {@code spans}: where the edge's and the app instances'
     * spans go (null: no tracing), with {@code sampleRatio} of the requests traced. {@code nearCacheTtl}: the app
     * instances' in-process cache in front of Redis (zero: off, every hit goes to Redis). {@code appProcesses}: each
     * app instance in a child JVM instead of this one (spans then cannot reach {@code spans}: not both).
     */
    public record Options(Set<Block> blocks, String listen, String tlsListen, LocalAuthority.Files local, String admin,
                          Path home, List<Integer> appPorts, String cacheMaxMemory, String cachePolicy,
                          SpanExporter spans, double sampleRatio, Duration nearCacheTtl, boolean appProcesses) {
        public Options {
            if (appProcesses && spans != null) throw new IllegalArgumentException("tracing needs the app instances in this process");
        }

        public Options(Set<Block> blocks, String listen, String tlsListen, LocalAuthority.Files local, String admin,
                       Path home, List<Integer> appPorts, String cacheMaxMemory, String cachePolicy,
                       SpanExporter spans, double sampleRatio, Duration nearCacheTtl) {
            this(blocks, listen, tlsListen, local, admin, home, appPorts, cacheMaxMemory, cachePolicy, spans, sampleRatio,
                    nearCacheTtl, false);
        }

        public Options(Set<Block> blocks, String listen, String tlsListen, LocalAuthority.Files local, String admin,
                       Path home, List<Integer> appPorts) {
            this(blocks, listen, tlsListen, local, admin, home, appPorts, "128mb", "allkeys-lfu");
        }

        public Options(Set<Block> blocks, String listen, String tlsListen, LocalAuthority.Files local, String admin,
                       Path home, List<Integer> appPorts, String cacheMaxMemory, String cachePolicy) {
            this(blocks, listen, tlsListen, local, admin, home, appPorts, cacheMaxMemory, cachePolicy, null, 1.0, Duration.ofSeconds(2));
        }
    }

    private final Options options;
    private EmbeddedPostgresCluster postgres;
    private EmbeddedRedis redis;
    private EmbeddedZooKeeper zookeeper;
    private final List<App> apps = new java.util.concurrent.CopyOnWriteArrayList<>(); // read by the blocks refresher
    private final List<AppProcess> processes = new java.util.concurrent.CopyOnWriteArrayList<>(); // with appProcesses
    private final List<String> stoppedApps = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile List<SystemBlocks.Block> blocks = List.of();
    private java.util.concurrent.ScheduledExecutorService blocksRefresher;
    private Gatehouse edge;
    private ControlChannel control;
    private GatehouseConfig edgeConfig;
    private Duration startup;
    private String apiKey;

    /** Where {@code up} keeps its data unless told otherwise: {@code $GATEHOUSE_HOME}, else {@code .gatehouse}. */
    public static Path defaultHome() {
        String home = System.getenv("GATEHOUSE_HOME");
        return Path.of(home == null || home.isBlank() ? ".gatehouse" : home);
    }

    private SystemStack(Options options) {
        this.options = options;
    }

    public static SystemStack start(Options options) throws IOException, ConfigException {
        quietEngines();
        SystemStack s = new SystemStack(options);
        long t0 = System.nanoTime();
        try {
            s.startAll();
        } catch (IOException | ConfigException | RuntimeException e) {
            s.close();
            throw e;
        } catch (Exception e) {
            s.close();
            throw new IOException(e.getMessage(), e);
        }
        s.startup = Duration.ofNanos(System.nanoTime() - t0);
        return s;
    }

    private void startAll() throws Exception {
        Set<Block> b = options.blocks();
        // Redis starts in the background while PostgreSQL (the slow one) starts here.
        Thread redisStarter = null;
        EmbeddedRedis[] redisBox = new EmbeddedRedis[1];
        IOException[] redisError = new IOException[1];
        if (b.contains(Block.CACHE)) {
            redisStarter = Thread.ofVirtual().start(() -> {
                try {
                    redisBox[0] = EmbeddedRedis.start(0, options.cacheMaxMemory(), options.cachePolicy());
                } catch (IOException e) {
                    redisError[0] = e;
                } catch (RuntimeException | LinkageError e) {
                    // e.g. the engine missing from the jar: fail the start, never run silently without the cache
                    redisError[0] = new IOException("cannot start Redis: " + e, e);
                }
            });
        }
        if (b.contains(Block.ZK)) zookeeper = EmbeddedZooKeeper.start(0, null);
        if (b.contains(Block.DB)) {
            postgres = EmbeddedPostgresCluster.start(options.home().resolve("postgres"), false, b.contains(Block.REPLICA), 0, 0);
        }
        if (redisStarter != null) {
            try {
                redisStarter.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting Redis", e);
            }
            redis = redisBox[0];
            if (redisError[0] != null) throw redisError[0];
        }
        if (b.contains(Block.APP)) {
            String publicBase = "http://localhost:" + port(options.listen());
            // The first instance migrates the schema; the others then start side by side.
            List<AppConfig> configs = new ArrayList<>();
            for (int i = 0; i < options.appPorts().size(); i++) {
                configs.add(AppConfig.defaults("app-" + (i + 1), postgres.primaryJdbcUrl(),
                                postgres.hasReplica() ? List.of(postgres.replicaJdbcUrl()) : List.of(),
                                redis == null ? null : redis.uri())
                        .withPublicBase(publicBase, Set.of("localhost", "127.0.0.1", "::1"))
                        .withZookeeper(zookeeper == null ? null : zookeeper.connectString())
                        .withNearCacheTtl(options.nearCacheTtl()));
            }
            if (options.appProcesses()) {
                startProcesses(configs);
            } else {
                startInProcess(configs);
            }
        }
        warmUp();
        if (postgres != null) control = ControlChannel.open(options.home(), this::promote, this::stopApp);
        if (b.contains(Block.EDGE)) {
            apiKey = ApiKeyFile.loadOrCreate(options.home().resolve(ApiKeyFile.NAME));
            edgeConfig = ConfigLoader.parse(edgeYaml(), "gatehouse up (generated)");
            edge = options.spans() == null ? Gatehouse.start(edgeConfig) : Gatehouse.start(edgeConfig, Ticker.systemTicker(),
                    new Telemetry(edgeConfig.accessLog() == null ? null : AccessLog.open(edgeConfig.accessLog()),
                            new Tracing(BatchSpanProcessor.builder(options.spans()).setScheduleDelay(Duration.ofMillis(200)).build(),
                                    "gatehouse-edge", options.sampleRatio())));
            awaitHealthyEndpoints();
            // The dashboard's "System" panel: every block and its health. Refreshed here in the background, because
            // checking a block (a JDBC ping, a Redis PING) must never run on the edge's admin event loop.
            blocks = blocks();
            SystemBlocks.register(edge, () -> blocks);
            blocksRefresher = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("up-blocks").factory());
            blocksRefresher.scheduleWithFixedDelay(() -> {
                try {
                    blocks = blocks();
                } catch (RuntimeException e) {
                    log.atDebug().setCause(e).log("refreshing the blocks failed; the last snapshot stays");
                }
            }, 2, 2, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** The first instance migrates the schema; the others then start side by side. */
    private void startInProcess(List<AppConfig> configs) throws InterruptedException {
        apps.add(startApp(configs.get(0), options.appPorts().get(0), traces(configs.get(0).instanceId())));
        List<java.util.concurrent.Future<App>> rest = new ArrayList<>();
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 1; i < configs.size(); i++) {
                int n = i;
                rest.add(pool.submit(() -> startApp(configs.get(n), options.appPorts().get(n), traces(configs.get(n).instanceId()))));
            }
        }
        RuntimeException failed = null;
        for (var f : rest) {
            try {
                apps.add(f.get()); // done: the executor's close waited for every start
            } catch (java.util.concurrent.ExecutionException e) {
                failed = e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
            }
        }
        if (failed != null) throw failed;
    }

    /** As {@link #startInProcess}, each instance a child JVM given the same configuration through its environment. */
    private void startProcesses(List<AppConfig> configs) throws IOException {
        processes.add(AppProcess.start(configs.get(0).instanceId(), options.appPorts().get(0), env(configs.get(0)), options.home()));
        List<java.util.concurrent.Future<AppProcess>> rest = new ArrayList<>();
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 1; i < configs.size(); i++) {
                AppConfig c = configs.get(i);
                int port = options.appPorts().get(i);
                rest.add(pool.submit(() -> AppProcess.start(c.instanceId(), port, env(c), options.home())));
            }
        }
        IOException failed = null;
        for (var f : rest) {
            try {
                processes.add(f.get());
            } catch (java.util.concurrent.ExecutionException e) {
                failed = e.getCause() instanceof IOException io ? io : new IOException(e.getCause().getMessage(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting the app instances", e);
            }
        }
        if (failed != null) throw failed;
    }

    /** An instance's configuration as {@code io.gatehouse.app.Main} reads it. */
    private static java.util.Map<String, String> env(AppConfig c) {
        java.util.Map<String, String> env = new java.util.HashMap<>();
        env.put("GATEHOUSE_DB_URL", c.database().primaryUrl());
        env.put("GATEHOUSE_DB_REPLICA_URLS", String.join(",", c.database().replicaUrls()));
        env.put("GATEHOUSE_REDIS_URL", c.redisUri() == null ? "off" : c.redisUri());
        if (c.zookeeper() != null) env.put("GATEHOUSE_ZOOKEEPER", c.zookeeper());
        env.put("GATEHOUSE_NEAR_CACHE_MS", Long.toString(c.nearCacheTtl().toMillis()));
        env.put("GATEHOUSE_HIT_FLUSH_MS", Long.toString(c.hitFlushInterval().toMillis()));
        env.put("GATEHOUSE_PUBLIC_BASE", c.publicBase());
        return env;
    }

    /** An app instance, in this JVM or a child one: its id, its port, and its pid when it has its own process (else -1). */
    public record Instance(String id, int port, long pid) {}

    /** Every running app instance, whichever way it runs. */
    public List<Instance> instances() {
        List<Instance> out = new ArrayList<>();
        for (App a : apps) out.add(new Instance(a.instanceId(), a.port(), -1));
        for (AppProcess p : processes) out.add(new Instance(p.id(), p.port(), p.pid()));
        return out;
    }

    /**
     * One request to each instance's /health before the edge starts: the first request of a fresh JVM is slow (class
     * loading, the first pooled connection) and would fail the edge's first 500 ms health check for no real reason.
     */
    private void warmUp() {
        try (java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            for (Instance a : instances()) {
                try {
                    client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + a.port() + "/health"))
                            .timeout(Duration.ofSeconds(5)).build(), java.net.http.HttpResponse.BodyHandlers.discarding());
                } catch (IOException e) {
                    log.atWarn().addKeyValue("instance", a.id()).log("warm-up request failed; the health check decides");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** The banner should not invite requests the edge would answer with 503: wait until it counts every instance in. */
    private void awaitHealthyEndpoints() throws InterruptedException {
        awaitHealthyEndpoints(instances().size());
    }

    /** Waits (10 s at most) until the edge's load balancer picks from {@code count} instances; returns how many it does. */
    private int awaitHealthyEndpoints(int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (edge.cluster(CLUSTER).availableCount() < count && System.nanoTime() < deadline) {
            Thread.sleep(50); // the next health check round is at most one interval away
        }
        return edge.cluster(CLUSTER).availableCount();
    }

    /** Quiet the engines' own INFO chatter on the console; their warnings still show. */
    static void quietEngines() {
        for (String name : List.of("org.apache.zookeeper", "org.apache.curator", "io.zonky", "org.flywaydb", "com.zaxxer",
                "io.helidon", "io.lettuce", "redis.embedded")) {
            if (LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger l) l.setLevel(ch.qos.logback.classic.Level.WARN);
        }
    }

    /**
     * An instance's tracing: spans of requests the edge traced (and {@code sampleRatio} of those sent to the instance
     * directly) go to the shared exporter; none when {@code up} was not asked to trace.
     */
    private Traces traces(String instance) {
        if (options.spans() == null) return Traces.OFF;
        return Traces.to(BatchSpanProcessor.builder(options.spans()).setScheduleDelay(Duration.ofMillis(200)).build(),
                instance, options.sampleRatio());
    }

    private static App startApp(AppConfig c, int port, Traces traces) {
        if (port > 0) {
            try {
                return App.start(c.withPort(port), traces);
            } catch (RuntimeException e) {
                log.atWarn().addKeyValue("port", port).log("app port taken; using a free one");
            }
        }
        return App.start(c.withPort(0), traces);
    }

    private static String port(String hostPort) {
        return hostPort.substring(hostPort.lastIndexOf(':') + 1);
    }

    /**
     * The edge configuration: the bundled demo's shape, its cluster following the app instances in ZooKeeper
     * ({@code discovery:}), or listing them when the registry is not started ({@code --blocks} without zk).
     */
    public String edgeYaml() {
        StringBuilder y = new StringBuilder();
        y.append("# Generated by `gatehouse up`: the edge in front of the app instances.\n");
        if (redis != null) {
            // The gateway's shared state (global rate limits, the deny list, runtime consumers) lives in up's Redis.
            y.append("redis: { address: \"127.0.0.1:").append(redis.port()).append("\" }\n");
        }
        if (apiKey != null) {
            // API clients authenticate here, not in the app: the key's hash only, its owner named to the app.
            y.append("consumers:\n  - name: ").append(CONSUMER).append("\n    api_keys:\n      - { sha256: ")
                    .append(ApiKeyFile.sha256(apiKey)).append(" }\n");
        }
        y.append("listeners:\n");
        listener(y, LISTENER, options.listen(), null);
        if (!"off".equals(options.tlsListen()) && options.local() != null) listener(y, TLS_LISTENER, options.tlsListen(), options.local());
        y.append("clusters:\n  - name: ").append(CLUSTER).append('\n');
        if (zookeeper != null) {
            // the edge follows the registry the instances register in: one stopped or dead leaves without a reload
            y.append("    discovery:\n      zookeeper: { connect: \"").append(zookeeper.connectString())
                    .append("\", base_path: ").append(Registration.BASE_PATH).append(", service: ").append(Registration.SERVICE)
                    .append(" }\n");
        } else {
            y.append("    endpoints:\n");
            for (Instance a : instances()) y.append("      - address: 127.0.0.1:").append(a.port()).append('\n');
        }
        y.append("""
                    load_balancer: { policy: round_robin }
                    health_check: { type: http, path: /health, interval: 1s, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 2 }
                    outlier_detection: { consecutive_gateway_failures: 3, base_ejection_time: 5s }
                """);
        y.append("admin:\n  address: ").append(options.admin()).append('\n');
        y.append("access_log: { path: stdout, format: json }\n");
        return y.toString();
    }

    /**
     * Two routes. API calls that carry a key go through {@code api_key} (the key's consumer becomes the app's user)
     * and a per-consumer rate limit, global across edges when Redis runs; everything else (redirects, browsers with
     * a session cookie) goes straight to the app, with any user header a client sent removed, so no one reaches the
     * app as someone else by sending it.
     */
    private void listener(StringBuilder y, String name, String address, LocalAuthority.Files tls) {
        y.append("  - name: ").append(name).append("\n    address: ").append(address).append('\n');
        if (tls != null) {
            y.append("    tls:\n      certificates:\n        - { cert: ").append(tls.edgeCert().toAbsolutePath())
                    .append(", key: ").append(tls.edgeKey().toAbsolutePath()).append(" }\n");
        }
        y.append("    routes:\n");
        if (apiKey != null) {
            y.append("      - name: api\n")
                    .append("        match: { path_prefix: /api/, headers: [{ name: x-api-key, present: true }] }\n")
                    .append("        filters:\n")
                    .append("          - api_key: { upstream_headers: { consumer: ").append(USER_HEADER).append(" } }\n")
                    .append("          - rate_limit: { key: consumer, mode: ").append(redis != null ? "global" : "local")
                    .append(", limits: [{ rate: 200/s, burst: 2000 }] }\n")
                    .append("        cluster: app\n")
                    .append("        retries: { attempts: 2, on: [502, 503] }\n");
        }
        y.append("      - name: app\n")
                .append("        match: { path_prefix: / }\n")
                .append("        filters:\n")
                .append("          - headers: { request: { remove: [").append(USER_HEADER).append("] } }\n")
                .append("        cluster: app\n")
                .append("        retries: { attempts: 2, on: [502, 503] }\n");
    }

    /** What runs where, for the banner. */
    public List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        if (edge != null) {
            rows.add(new Row("edge", "Gatehouse (Netty)", "http://" + hostPort(edge.listenerAddress(LISTENER)), "up"));
            if (edgeConfig.listeners().stream().anyMatch(l -> l.name().equals(TLS_LISTENER))) {
                rows.add(new Row("edge (TLS)", "Gatehouse (Netty)", "https://" + hostPort(edge.listenerAddress(TLS_LISTENER)), "up"));
            }
            if (edge.adminAddress() != null) rows.add(new Row("admin", "Gatehouse admin", "http://" + hostPort(edge.adminAddress()) + "/dashboard/", "up"));
        }
        for (App a : apps) {
            Object status = a.readiness().report().get("status");
            rows.add(new Row(a.instanceId(), "Helidon SE 4 (virtual threads)", "http://127.0.0.1:" + a.port(), String.valueOf(status)));
        }
        // Child instances answer for themselves over HTTP; one that does not answer is down.
        List<com.fasterxml.jackson.databind.JsonNode> reports = new ArrayList<>();
        for (AppProcess p : processes) {
            com.fasterxml.jackson.databind.JsonNode r = p.alive() ? p.ready() : null;
            reports.add(r);
            rows.add(new Row(p.id(), "Helidon SE 4 (virtual threads), pid " + p.pid(), "http://127.0.0.1:" + p.port(),
                    r == null ? "down" : r.path("status").asText("down")));
        }
        if (postgres != null) {
            rows.add(new Row("db primary", "PostgreSQL 17 (embedded)", "127.0.0.1:" + postgres.primaryPort(), "up"));
            if (postgres.hasReplica()) {
                String state = "streaming";
                if (!apps.isEmpty() && !apps.get(0).database().replicas().isEmpty()) {
                    io.gatehouse.app.db.Replica r = apps.get(0).database().replicas().get(0);
                    state = (r.inReadPool() ? "streaming, in read pool" : r.reachable() ? "lagging" : "unreachable")
                            + ", lag " + r.lag().toMillis() + " ms";
                } else {
                    com.fasterxml.jackson.databind.JsonNode replica = reports.stream().filter(java.util.Objects::nonNull)
                            .map(r -> r.path("checks").path("replicas").path(0)).filter(n -> !n.isMissingNode()).findFirst().orElse(null);
                    if (replica != null) {
                        String st = replica.path("status").asText();
                        state = (st.equals("up") ? "streaming, in read pool" : st.equals("lagging") ? "lagging" : "unreachable")
                                + ", lag " + replica.path("lagMs").asLong() + " ms";
                    }
                }
                rows.add(new Row("db replica", "PostgreSQL 17 hot standby", "127.0.0.1:" + postgres.replicaPort(), state));
            }
        }
        if (zookeeper != null) {
            String state = "up";
            if (!apps.isEmpty()) {
                try {
                    state = "up, " + apps.get(0).registration().instances().size() + " instances registered, leader "
                            + apps.stream().filter(a -> a.jobs().leader()).map(App::instanceId).findFirst().orElse("none");
                } catch (Exception e) {
                    state = "unreachable";
                }
            } else if (!processes.isEmpty()) {
                long connected = reports.stream().filter(r -> r != null && r.path("checks").path("zookeeper").path("status").asText().equals("up")).count();
                String leader = reports.stream().filter(r -> r != null && r.path("checks").path("zookeeper").path("leader").asBoolean())
                        .map(r -> r.path("instance").asText()).findFirst().orElse("none");
                state = "up, " + connected + " instances connected, leader " + leader;
            }
            rows.add(new Row("registry", "ZooKeeper 3.9 (embedded)", zookeeper.connectString(), state));
        }
        if (redis != null) {
            rows.add(new Row("cache", "Redis 6.2 (embedded), " + options.cacheMaxMemory() + " " + options.cachePolicy(),
                    "127.0.0.1:" + redis.port(), redis.running() ? "up" : "down"));
        }
        return rows;
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress().isAnyLocalAddress() ? "localhost" : a.getHostString();
        return host + ":" + a.getPort();
    }

    public Duration startup() { return startup; }
    public List<App> apps() { return List.copyOf(apps); }
    public InetSocketAddress edgeAddress() { return edge == null ? null : edge.listenerAddress(LISTENER); }
    public EmbeddedPostgresCluster postgres() { return postgres; }
    public EmbeddedRedis redis() { return redis; }

    /** The API key of the {@link #CONSUMER} consumer (kept in the home folder), or null without the edge. */
    public String apiKey() { return apiKey; }
    public GatehouseConfig edgeConfig() { return edgeConfig; }
    /** The running edge, or null without the edge block. */
    public Gatehouse edge() { return edge; }

    /**
     * Every block with its health, for the dashboard: the rows of the banner's table (asked afresh: readiness checks
     * ping the database and Redis), plus the app instances stopped through the control channel, shown as down.
     */
    public List<SystemBlocks.Block> blocks() {
        List<SystemBlocks.Block> out = new ArrayList<>();
        boolean primaryUp = !apps.isEmpty() ? apps.get(0).database().primaryReachable()
                : processes.isEmpty() || processes.stream().map(p -> p.alive() ? p.ready() : null).filter(java.util.Objects::nonNull)
                        .anyMatch(r -> r.path("checks").path("postgres").path("status").asText().equals("up"));
        for (Row r : rows()) {
            String health;
            if (r.block().startsWith("app-")) {
                health = switch (r.state()) {
                    case "ready" -> "up";
                    case "degraded" -> "degraded";
                    default -> "down";
                };
            } else if (r.block().equals("db primary")) {
                health = primaryUp ? "up" : "down";
            } else if (r.block().equals("db replica")) {
                health = r.state().contains("in read pool") ? "up" : r.state().startsWith("lagging") ? "degraded" : "down";
            } else {
                health = r.state().startsWith("up") ? "up" : "down";
            }
            out.add(new SystemBlocks.Block(r.block(), r.engine(), r.address(), health, r.state()));
        }
        for (String id : stoppedApps) {
            out.add(new SystemBlocks.Block(id, "Helidon SE 4 (virtual threads)", "-", "down", "stopped (killed through the control channel)"));
        }
        return out;
    }

    /**
     * Stops one app instance, as if it had crashed: in this JVM it stops listening and leaves the registry; a child
     * instance is killed with SIGKILL, a real crash.
     */
    public synchronized String stopApp(String id) {
        AppProcess child = processes.stream().filter(p -> p.id().equals(id)).findFirst().orElse(null);
        if (child != null) {
            try {
                child.kill();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            processes.remove(child);
            stoppedApps.add(id);
            return "killed " + id + " (SIGKILL, pid " + child.pid() + "): the edge's health check drops it within seconds and "
                    + "its ZooKeeper session expires within 5 s, taking it out of the registry";
        }
        App app = apps.stream().filter(a -> a.instanceId().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no running instance '" + id + "'"));
        app.close();
        apps.remove(app);
        stoppedApps.add(id);
        return "stopped " + id + "; it left the registry, so the edge drops it (its health check would too), requests go to the others";
    }

    public int controlPort() {
        return control == null ? -1 : control.port();
    }

    /**
     * Failover: fence the primary, promote the replica, repoint every instance's writes. Returns once the edge serves
     * through every live instance again: while the primary was down their health checks failed and the edge took
     * them out, and a caller who acts on "promoted" (a script, a test) must not meet the edge's 503 for the one
     * health check interval it takes to count them back in.
     */
    public synchronized String promote() {
        if (postgres == null || !postgres.hasReplica()) throw new IllegalStateException("there is no replica to promote");
        try {
            String url = postgres.failover();
            apps.forEach(a -> a.database().repoint(url));
            List<AppProcess> live = processes.stream().filter(AppProcess::alive).toList(); // one killed by hand has nothing to move
            live.forEach(p -> p.repoint(url));
            String promoted = "promoted: the primary is now 127.0.0.1:" + postgres.primaryPort() + "; there is no replica until the next start";
            if (edge == null) return promoted;
            int expected = apps.size() + live.size();
            int serving = awaitHealthyEndpoints(expected);
            return promoted + (serving >= expected ? "; the edge serves through all " + expected + " instances"
                    : "; the edge counts " + serving + " of " + expected + " instances in so far (see each one's /ready)");
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the edge", e);
        }
    }

    /** Stops the edge first (draining), then the app instances, then the engines. */
    public synchronized void shutdown(Duration drain) {
        if (blocksRefresher != null) {
            blocksRefresher.shutdownNow();
            blocksRefresher = null;
        }
        if (edge != null) SystemBlocks.unregister(edge);
        if (control != null) {
            control.close();
            control = null;
        }
        if (edge != null) {
            try {
                edge.shutdown(drain);
            } catch (RuntimeException e) {
                log.warn("stopping the edge failed", e);
            }
            edge = null;
        }
        for (App a : apps) {
            try {
                a.close();
            } catch (RuntimeException e) {
                log.warn("stopping an app instance failed", e);
            }
        }
        apps.clear();
        // Child instances stop side by side (SIGTERM: each leaves the registry and flushes its counts), before the
        // engines they use.
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (AppProcess p : processes) pool.submit(p::close);
        }
        processes.clear();
        if (redis != null) {
            try {
                redis.close();
            } catch (IOException e) {
                log.warn("stopping Redis failed", e);
            }
            redis = null;
        }
        if (postgres != null) {
            postgres.close();
            postgres = null;
        }
        if (zookeeper != null) {
            try {
                zookeeper.close();
            } catch (IOException e) {
                log.warn("stopping ZooKeeper failed", e);
            }
            zookeeper = null;
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(1));
    }
}
