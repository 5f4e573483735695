package io.gatehouse.app;

import io.gatehouse.app.cache.EmbeddedRedis;
import io.gatehouse.app.db.EmbeddedPostgresCluster;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * One app instance as a process. Blocks come from the environment; any that is not given is started embedded:
 * {@code GATEHOUSE_DB_URL} (+ {@code GATEHOUSE_DB_REPLICA_URLS}, comma-separated), {@code GATEHOUSE_REDIS_URL},
 * {@code GATEHOUSE_ZOOKEEPER}, {@code GATEHOUSE_NEAR_CACHE_MS} (0: off), {@code GATEHOUSE_HIT_FLUSH_MS} (default 1000), {@code GATEHOUSE_APP_PORT} (default 8081), {@code GATEHOUSE_HOME} (embedded data),
 * {@code GATEHOUSE_OTLP_ENDPOINT} (an OTLP/HTTP collector for traces, e.g. {@code http://localhost:4318}; none: no spans),
 * {@code GATEHOUSE_PUBLIC_BASE} (how short links are shown, e.g. the edge's {@code http://localhost:8080}).
 * {@code GATEHOUSE_REDIS_URL=off} runs without the cache block.
 *
 * <p>{@code GATEHOUSE_CONTROL=stdin} is for a parent that started this instance ({@code gatehouse up
 * --app-processes}): standard input is its private control channel. A line {@code repoint <jdbc-url>} moves writes
 * to a promoted primary; end of input means the parent is gone (even killed with SIGKILL, its end of the pipe
 * closes), and the instance stops cleanly instead of living on as an orphan.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        List<AutoCloseable> engines = new ArrayList<>();
        String db = System.getenv("GATEHOUSE_DB_URL");
        List<String> replicas = env("GATEHOUSE_DB_REPLICA_URLS").map(v -> Arrays.asList(v.split(","))).orElse(List.of());
        if (db == null) {
            Path home = Path.of(env("GATEHOUSE_HOME").orElse(".gatehouse")).resolve("postgres");
            EmbeddedPostgresCluster pg = EmbeddedPostgresCluster.start(home, false, true, 0, 0);
            engines.add(pg);
            db = pg.primaryJdbcUrl();
            replicas = List.of(pg.replicaJdbcUrl());
        }
        String redis = System.getenv("GATEHOUSE_REDIS_URL");
        if ("off".equals(redis)) {
            redis = null;
        } else if (redis == null) {
            EmbeddedRedis r = EmbeddedRedis.start(0, "128mb", "allkeys-lfu");
            engines.add(r);
            redis = r.uri();
        }
        AppConfig config = AppConfig.defaults(env("GATEHOUSE_INSTANCE").orElse("app-1"), db, replicas, redis)
                .withPort(Integer.parseInt(env("GATEHOUSE_APP_PORT").orElse("8081")))
                .withZookeeper(System.getenv("GATEHOUSE_ZOOKEEPER"))
                .withNearCacheTtl(java.time.Duration.ofMillis(Long.parseLong(env("GATEHOUSE_NEAR_CACHE_MS").orElse("2000"))))
                .withHitFlushInterval(java.time.Duration.ofMillis(Long.parseLong(env("GATEHOUSE_HIT_FLUSH_MS").orElse("1000"))));
        String publicBase = System.getenv("GATEHOUSE_PUBLIC_BASE");
        if (publicBase != null) config = config.withPublicBase(publicBase, java.util.Set.of("localhost", "127.0.0.1", "::1"));
        AppConfig chosen = config;
        // W3C trace context from the edge is always continued; spans are exported only when a collector is named.
        App app = App.start(chosen, env("GATEHOUSE_OTLP_ENDPOINT")
                .map(e -> io.gatehouse.app.telemetry.Traces.otlp(e, chosen.instanceId(), 1.0))
                .orElse(io.gatehouse.app.telemetry.Traces.OFF));
        System.out.println("app listening on http://127.0.0.1:" + app.port());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.close();
            for (int i = engines.size() - 1; i >= 0; i--) {
                try {
                    engines.get(i).close();
                } catch (Exception e) {
                    System.err.println("stopping an engine failed: " + e);
                }
            }
            stopped.countDown();
        }));
        if ("stdin".equals(System.getenv("GATEHOUSE_CONTROL"))) {
            Thread.ofPlatform().daemon().name("control").start(() -> control(app));
        }
        stopped.await();
    }

    /** Commands from the parent on standard input, until it closes (then this instance stops: the hook runs). */
    private static void control(App app) {
        try (java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                java.nio.charset.StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("repoint ")) {
                    app.database().repoint(line.substring("repoint ".length()).trim());
                    System.out.println("repointed writes to " + line.substring("repoint ".length()).trim());
                } else if (!line.isBlank()) {
                    System.err.println("unknown control command: " + line);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            System.err.println("control channel failed: " + e);
        }
        System.exit(0);
    }

    private static java.util.Optional<String> env(String name) {
        return java.util.Optional.ofNullable(System.getenv(name)).filter(v -> !v.isBlank());
    }
}
