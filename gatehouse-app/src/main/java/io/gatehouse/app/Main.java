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
 * {@code GATEHOUSE_OTLP_ENDPOINT} (an OTLP/HTTP collector for traces, e.g. {@code http://localhost:4318}; none: no spans).
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
        if (redis == null) {
            EmbeddedRedis r = EmbeddedRedis.start(0, "128mb", "allkeys-lfu");
            engines.add(r);
            redis = r.uri();
        }
        AppConfig config = AppConfig.defaults(env("GATEHOUSE_INSTANCE").orElse("app-1"), db, replicas, redis)
                .withPort(Integer.parseInt(env("GATEHOUSE_APP_PORT").orElse("8081")))
                .withZookeeper(System.getenv("GATEHOUSE_ZOOKEEPER"))
                .withNearCacheTtl(java.time.Duration.ofMillis(Long.parseLong(env("GATEHOUSE_NEAR_CACHE_MS").orElse("2000"))))
                .withHitFlushInterval(java.time.Duration.ofMillis(Long.parseLong(env("GATEHOUSE_HIT_FLUSH_MS").orElse("1000"))));
        // W3C trace context from the edge is always continued; spans are exported only when a collector is named.
        App app = App.start(config, env("GATEHOUSE_OTLP_ENDPOINT")
                .map(e -> io.gatehouse.app.telemetry.Traces.otlp(e, config.instanceId(), 1.0))
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
        stopped.await();
    }

    private static java.util.Optional<String> env(String name) {
        return java.util.Optional.ofNullable(System.getenv(name)).filter(v -> !v.isBlank());
    }
}
