package io.gatehouse.app;

import io.gatehouse.app.db.Database;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Everything an app instance needs to know. Every block is a connection string, so the same app runs against the
 * embedded engines of {@code gatehouse up} or against real clusters.
 *
 * @param redisUri    null: run without the cache block
 * @param redisTimeout bound on one Redis command; past it Redis counts as down for a second
 * @param zookeeper   null: run without discovery and leadership (every instance runs the periodic jobs)
 * @param publicBase  how short links are shown, e.g. {@code http://localhost:8080} (the edge)
 * @param ownHosts    host names of the system itself: links to them are refused
 * @param nearCacheTtl zero: no near cache
 * @param writeThrough links: after a write, store the new version in the cache instead of a tombstone
 * @param hitFlushInterval how often an instance sends its redirect counts (one batch); a crash loses at most
 *                    this much counting. Zero: only at stop and when asked ({@code HitCounter.flush}, tests)
 */
public record AppConfig(String instanceId, String host, int port, Database.Settings database, String redisUri,
                        Duration redisTimeout, Duration cacheTtl, Duration negativeTtl, Duration nearCacheTtl, String zookeeper,
                        String publicBase, Set<String> ownHosts, Duration jobInterval, boolean writeThrough,
                        Duration hitFlushInterval) {

    public static AppConfig defaults(String instanceId, String primaryUrl, List<String> replicaUrls, String redisUri) {
        return new AppConfig(instanceId, "127.0.0.1", 0,
                new Database.Settings(primaryUrl, replicaUrls, "postgres", "", 8, Duration.ofSeconds(5), Duration.ofMillis(200)),
                redisUri, Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofSeconds(2), null,
                "http://localhost:8080", Set.of("localhost", "127.0.0.1"), Duration.ofSeconds(10), false, Duration.ofSeconds(1));
    }

    public AppConfig withRedisTimeout(Duration timeout) {
        return new AppConfig(instanceId, host, port, database, redisUri, timeout, cacheTtl, negativeTtl, nearCacheTtl, zookeeper,
                publicBase, ownHosts, jobInterval, writeThrough, hitFlushInterval);
    }

    public AppConfig withPort(int port) {
        return new AppConfig(instanceId, host, port, database, redisUri, redisTimeout, cacheTtl, negativeTtl, nearCacheTtl, zookeeper,
                publicBase, ownHosts, jobInterval, writeThrough, hitFlushInterval);
    }

    public AppConfig withZookeeper(String connect) {
        return new AppConfig(instanceId, host, port, database, redisUri, redisTimeout, cacheTtl, negativeTtl, nearCacheTtl, connect,
                publicBase, ownHosts, jobInterval, writeThrough, hitFlushInterval);
    }

    public AppConfig withNearCacheTtl(Duration ttl) {
        return new AppConfig(instanceId, host, port, database, redisUri, redisTimeout, cacheTtl, negativeTtl, ttl, zookeeper,
                publicBase, ownHosts, jobInterval, writeThrough, hitFlushInterval);
    }

    public AppConfig withJobInterval(Duration every) {
        return new AppConfig(instanceId, host, port, database, redisUri, redisTimeout, cacheTtl, negativeTtl, nearCacheTtl, zookeeper,
                publicBase, ownHosts, every, writeThrough, hitFlushInterval);
    }

    public AppConfig withWriteThrough(boolean on) {
        return new AppConfig(instanceId, host, port, database, redisUri, redisTimeout, cacheTtl, negativeTtl, nearCacheTtl, zookeeper,
                publicBase, ownHosts, jobInterval, on, hitFlushInterval);
    }

    public AppConfig withPublicBase(String base, Set<String> hosts) {
        return new AppConfig(instanceId, host, port, database, redisUri, redisTimeout, cacheTtl, negativeTtl, nearCacheTtl, zookeeper,
                base, hosts, jobInterval, writeThrough, hitFlushInterval);
    }

    public AppConfig withHitFlushInterval(Duration every) {
        return new AppConfig(instanceId, host, port, database, redisUri, redisTimeout, cacheTtl, negativeTtl, nearCacheTtl, zookeeper,
                publicBase, ownHosts, jobInterval, writeThrough, every);
    }
}
