package io.gatehouse.app;

import io.gatehouse.app.cache.EmbeddedRedis;
import io.gatehouse.app.db.EmbeddedPostgresCluster;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Files;
import java.util.List;

/**
 * The real engines (PostgreSQL primary + streaming replica, Redis), started once for the whole test run and
 * stopped when JUnit closes its root store. Tests that stop an engine start their own instead.
 */
public final class Engines implements BeforeAllCallback {
    private static final class Running implements AutoCloseable {
        final EmbeddedPostgresCluster postgres;
        final EmbeddedRedis redis;

        Running() throws Exception {
            postgres = EmbeddedPostgresCluster.start(Files.createTempDirectory("gatehouse-pg"), true, true, 0, 0);
            redis = EmbeddedRedis.start(0, "64mb", "allkeys-lfu");
        }

        @Override
        public void close() throws java.io.IOException {
            redis.close();
            postgres.close();
        }
    }

    private static Running running;

    @Override
    public void beforeAll(ExtensionContext context) {
        running = context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(Running.class, k -> {
                    try {
                        return new Running();
                    } catch (Exception e) {
                        throw new IllegalStateException("cannot start the engines", e);
                    }
                }, Running.class);
    }

    public static EmbeddedPostgresCluster postgres() { return running.postgres; }
    public static EmbeddedRedis redis() { return running.redis; }

    /**
     * An app config on these engines: primary + replica, Redis, no near cache unless asked. The Redis command timeout
     * is {@link #REDIS_TIMEOUT}, not the 1 s default: a command slower than it trips the switch and the app takes the
     * degraded path (database, no fill, a pending tombstone) by design, which a stall of a busy machine must not bring
     * about in tests whose claims are about a working Redis. Tests of the timeout itself set their own.
     */
    public static AppConfig config(String instance) {
        return AppConfig.defaults(instance, postgres().primaryJdbcUrl(), List.of(postgres().replicaJdbcUrl()), redis().uri())
                .withNearCacheTtl(java.time.Duration.ZERO).withRedisTimeout(REDIS_TIMEOUT);
    }

    /** A Redis command timeout a stall of a loaded machine does not reach (see {@link #config}). */
    public static final java.time.Duration REDIS_TIMEOUT = java.time.Duration.ofSeconds(5);
}
