package io.gatehouse.redis;

import io.gatehouse.config.HostPort;
import io.gatehouse.config.RedisConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One Redis connection for the process (Lettuce: one multiplexed connection pipelines every edge decision). Connects
 * in the background and again after a loss (Lettuce reconnects once connected; a first connect that failed is retried
 * at most once a second, on demand). Every command is asynchronous and bounded by the configured timeout.
 *
 * <p>The Redis is one server, a master found through Sentinel, or a Redis Cluster ({@code cluster:}): then Lettuce's
 * cluster connection sends each command to the node that owns its key's slot and follows slots that move
 * (MOVED/ASK, and a topology refresh on them). A script may only touch keys of one slot there, so every script's
 * keys share a hash tag, and {@link #bySlot} splits a batch of keys by slot.
 */
public final class Redis implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Redis.class);

    private final RedisConfig config;
    private final ClientResources resources;
    private final RedisClient client;                 // one server or Sentinel; null for a cluster
    private final RedisClusterClient clusterClient;   // Redis Cluster; null otherwise
    private volatile CompletableFuture<StatefulConnection<String, String>> connecting;
    private volatile long lastAttemptNanos;
    private volatile boolean up;

    public Redis(RedisConfig config) {
        this.config = config;
        this.resources = DefaultClientResources.builder().ioThreadPoolSize(1).computationThreadPoolSize(1).build();
        SocketOptions socket = SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).build();
        if (config.cluster() == null) {
            this.client = RedisClient.create(resources);
            this.clusterClient = null;
            client.setOptions(ClientOptions.builder()
                    .socketOptions(socket)
                    // commands issued while disconnected fail at once instead of queueing: each limit applies its policy
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .autoReconnect(true)
                    .build());
        } else {
            this.client = null;
            this.clusterClient = RedisClusterClient.create(resources, config.cluster().stream().map(this::nodeUri).toList());
            clusterClient.setOptions(ClusterClientOptions.builder()
                    .socketOptions(socket)
                    // a cluster connection opens its node connections on demand: rejecting while one is still
                    // connecting would fail the first commands to every node. They queue instead, and Lettuce
                    // cancels what waits past the timeout, so each feature's policy still applies during an outage
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
                    .timeoutOptions(io.lettuce.core.TimeoutOptions.enabled(config.timeout()))
                    .autoReconnect(true)
                    // a failover or a resharding moves slots: learn the new map when a node says so, and now and then
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enableAllAdaptiveRefreshTriggers()
                            .enablePeriodicRefresh(Duration.ofSeconds(30))
                            .build())
                    .build());
        }
        connect();
    }

    public RedisConfig config() {
        return config;
    }

    private synchronized CompletableFuture<StatefulConnection<String, String>> connect() {
        lastAttemptNanos = System.nanoTime();
        CompletableFuture<StatefulConnection<String, String>> c = clusterClient != null
                // the slot map first: Lettuce's connectAsync does not load it itself ("Partitions not initialized")
                ? clusterClient.refreshPartitionsAsync().toCompletableFuture()
                        .thenCompose(v -> clusterClient.connectAsync(StringCodec.UTF8))
                        .<StatefulConnection<String, String>>thenApply(x -> x)
                : client.connectAsync(StringCodec.UTF8, clientUri()).<StatefulConnection<String, String>>thenApply(x -> x).toCompletableFuture();
        c.whenComplete((conn, e) -> {
            if (e != null) {
                if (up || connecting == null) log.warn("redis {}: cannot connect ({})", config.describe(), causes(e));
                up = false;
            } else {
                log.info("redis {}: connected", config.describe());
                up = true;
            }
        });
        connecting = c;
        return c;
    }

    /** An exception and its causes in one line: Lettuce wraps the reason a connect failed. */
    private static String causes(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null && b.length() < 600; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) continue;
            if (!b.isEmpty()) b.append("; caused by ");
            b.append(t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName());
        }
        return b.toString();
    }

    private RedisURI nodeUri(String address) {
        HostPort hp = HostPort.parse(address, false);
        RedisURI.Builder uri = RedisURI.builder().withHost(hp.host()).withPort(hp.port()).withTimeout(config.timeout());
        if (config.password() != null) uri.withPassword(config.password().toCharArray());
        return uri.build();
    }

    private RedisURI clientUri() {
        RedisURI.Builder uri;
        if (config.sentinel() != null) {
            // Lettuce asks the sentinels for the master, and asks again when the connection to it is lost (failover)
            RedisConfig.SentinelConfig s = config.sentinel();
            uri = RedisURI.builder();
            for (String a : s.addresses()) {
                HostPort hp = HostPort.parse(a, false);
                if (s.password() != null) uri.withSentinel(hp.host(), hp.port(), s.password());
                else uri.withSentinel(hp.host(), hp.port());
            }
            uri.withSentinelMasterId(s.master());
        } else {
            HostPort hp = HostPort.parse(config.address(), false);
            uri = RedisURI.builder().withHost(hp.host()).withPort(hp.port());
        }
        uri.withTimeout(config.timeout());
        if (config.password() != null) uri.withPassword(config.password().toCharArray());
        return uri.build();
    }

    /** The connection, or a failed future (then the caller applies its policy) while there is none. */
    private CompletableFuture<StatefulConnection<String, String>> connection() {
        CompletableFuture<StatefulConnection<String, String>> c = connecting;
        if (c.isCompletedExceptionally() && System.nanoTime() - lastAttemptNanos > TimeUnit.SECONDS.toNanos(1)) c = connect();
        return c;
    }

    /**
     * Runs a Lua script by its SHA (loading it when Redis does not know it yet): one round trip in the usual case.
     * Completes exceptionally on a timeout, a lost connection, or an error from Redis.
     */
    public CompletableFuture<List<Object>> eval(Script script, String[] keys, String... args) {
        CompletableFuture<StatefulConnection<String, String>> c = connection();
        if (!c.isDone() || c.isCompletedExceptionally()) {
            return c.isCompletedExceptionally() ? CompletableFuture.failedFuture(new IllegalStateException("redis unreachable"))
                    : c.thenCompose(conn -> run(conn, script, keys, args));
        }
        return run(c.join(), script, keys, args);
    }

    private static RedisClusterAsyncCommands<String, String> commands(StatefulConnection<String, String> conn) {
        return conn instanceof StatefulRedisClusterConnection<String, String> cluster ? cluster.async()
                : ((StatefulRedisConnection<String, String>) conn).async();
    }

    private CompletableFuture<List<Object>> run(StatefulConnection<String, String> conn, Script script, String[] keys, String[] args) {
        RedisClusterAsyncCommands<String, String> commands = commands(conn);
        CompletableFuture<List<Object>> f = commands.<List<Object>>evalsha(script.sha(), ScriptOutputType.MULTI, keys, args)
                .toCompletableFuture()
                .exceptionallyCompose(e -> {
                    Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (cause.getMessage() != null && cause.getMessage().startsWith("NOSCRIPT")) {
                        return commands.<List<Object>>eval(script.source(), ScriptOutputType.MULTI, keys, args).toCompletableFuture();
                    }
                    return CompletableFuture.failedFuture(cause);
                });
        return f.orTimeout(config.timeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Runs one command (GET, HSET, …) on the shared connection: asynchronous, bounded by the configured timeout, failed
     * at once while Redis is unreachable. For the shared state every edge polls (deny list, consumers).
     */
    public <T> CompletableFuture<T> call(java.util.function.Function<RedisClusterAsyncCommands<String, String>,
            io.lettuce.core.RedisFuture<T>> command) {
        CompletableFuture<StatefulConnection<String, String>> c = connection();
        if (c.isCompletedExceptionally()) return CompletableFuture.failedFuture(new IllegalStateException("redis unreachable"));
        return c.thenCompose(conn -> command.apply(commands(conn)).toCompletableFuture())
                .orTimeout(config.timeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * The one {@code type} of this connection, made on first use by {@code make} and closed with it: state that every
     * route of the process shares (the deny list, the consumers), kept in one place however many filters read it.
     */
    public <T extends AutoCloseable> T shared(Class<T> type, java.util.function.Supplier<T> make) {
        return type.cast(shared.computeIfAbsent(type, t -> make.get()));
    }

    private final java.util.concurrent.ConcurrentHashMap<Class<?>, AutoCloseable> shared = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * {@code items} in groups whose keys share a slot, in their order, for scripts over several keys: one group on a
     * single Redis or Sentinel (every key is on the one master), one per slot on a cluster.
     */
    public <T> java.util.Collection<List<T>> bySlot(List<T> items, java.util.function.Function<T, String> key) {
        if (clusterClient == null) return List.of(items);
        java.util.Map<Integer, List<T>> groups = new java.util.LinkedHashMap<>();
        for (T item : items) groups.computeIfAbsent(SlotHash.getSlot(key.apply(item)), s -> new java.util.ArrayList<>()).add(item);
        return groups.values();
    }

    /** Whether this is a Redis Cluster. */
    public boolean cluster() {
        return clusterClient != null;
    }

    /** Whether the last connection attempt succeeded (for logs and /ready). */
    public boolean up() {
        return up;
    }

    @Override
    public void close() {
        for (AutoCloseable s : shared.values()) {
            try {
                s.close();
            } catch (Exception e) {
                log.warn("redis {}: closing {} failed: {}", config.describe(), s.getClass().getSimpleName(), e.toString());
            }
        }
        shared.clear();
        CompletableFuture<StatefulConnection<String, String>> c = connecting;
        if (c != null && c.isDone() && !c.isCompletedExceptionally()) c.join().closeAsync();
        if (client != null) client.shutdownAsync(0, 1, TimeUnit.SECONDS);
        if (clusterClient != null) clusterClient.shutdownAsync(0, 1, TimeUnit.SECONDS);
        resources.shutdown(0, 1, TimeUnit.SECONDS);
    }

    /** A Lua script and its SHA-1, as EVALSHA names it. */
    public record Script(String source, String sha) {
        public static Script of(String source) {
            try {
                byte[] d = MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8));
                return new Script(source, java.util.HexFormat.of().formatHex(d));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
