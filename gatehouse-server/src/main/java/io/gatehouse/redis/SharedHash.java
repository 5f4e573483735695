package io.gatehouse.redis;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A Redis hash that every edge keeps a copy of (the deny list, the consumers managed through the admin API). A write
 * changes the hash and bumps its version in one script; each edge reads the version every {@link #POLL} and reads the
 * hash again when it moved. So a change made through any edge is seen by every edge within {@link #POLL} plus two
 * round trips (each bounded by the Redis timeout), and an edge that was cut off from Redis catches up on its first
 * poll after. Polling rather than pub/sub: a message published while an edge was disconnected is lost, a version is
 * not.
 *
 * <p>Readers on the event loops only read {@link #snapshot()} (a volatile field): never a Redis call per request.
 */
public final class SharedHash implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SharedHash.class);
    /** How often each edge looks at the version. */
    public static final Duration POLL = Duration.ofMillis(200);

    /**
     * KEYS: the hash, its version. ARGV: op (put, add, replace, del), field, value, expected old value (replace).
     * Returns {1, version} when applied, {0} when the condition failed (add: exists; replace, del: not as expected).
     */
    static final Redis.Script WRITE = Redis.Script.of("""
            local op = ARGV[1]
            if op == 'add' then
              if redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3]) == 0 then return {0} end
            elseif op == 'replace' then
              if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[4] then return {0} end
              redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
            elseif op == 'del' then
              if redis.call('HDEL', KEYS[1], ARGV[2]) == 0 then return {0} end
            else
              redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
            end
            return {1, redis.call('INCR', KEYS[2])}
            """);

    /** One copy of the hash: the version it was read at, and its fields. */
    public record Snapshot(long version, Map<String, String> entries) {}

    private final Redis redis;
    private final String key;
    private final String versionKey;
    private volatile Snapshot snapshot = new Snapshot(-1, Map.of());
    private final List<Consumer<Snapshot>> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService poller;
    private volatile boolean warned;

    public SharedHash(Redis redis, String key) {
        this.redis = redis;
        this.key = key;
        // the hash tag puts the version in the hash's slot (a key without braces hashes whole): one script writes both,
        // and on Redis Cluster a script's keys must share a slot
        this.versionKey = "{" + key + "}:version";
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "gatehouse-shared-" + key.substring(key.lastIndexOf(':') + 1));
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(this::poll, 0, POLL.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The latest copy (version -1 until Redis first answered). */
    public Snapshot snapshot() {
        return snapshot;
    }

    /** Called on the poll thread with each new copy. */
    public void onChange(Consumer<Snapshot> listener) {
        listeners.add(listener);
    }

    /** Reads the hash now when its version moved; on the poll thread (it waits, bounded by the Redis timeout). */
    private void poll() {
        try {
            String v = redis.call(c -> c.get(versionKey)).get(2, TimeUnit.SECONDS);
            long version = v == null ? 0 : Long.parseLong(v);
            if (version == snapshot.version()) return;
            Map<String, String> entries = redis.call(c -> c.hgetall(key)).get(2, TimeUnit.SECONDS);
            Snapshot next = new Snapshot(version, Map.copyOf(entries));
            snapshot = next;
            if (warned) log.info("redis {}: {} is read again", redis.config().describe(), key);
            warned = false;
            for (Consumer<Snapshot> l : listeners) l.accept(next);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // keep serving the last copy: a deny list or a consumer does not vanish because Redis is away
            if (!warned) log.warn("redis {}: cannot read {} ({}); keeping the copy of version {}", redis.config().describe(), key,
                    e.getCause() != null ? e.getCause().toString() : e.toString(), snapshot.version());
            warned = true;
        }
    }

    /** Polls at once (after a write through this edge, so it sees its own change without waiting). */
    public CompletableFuture<Snapshot> refresh() {
        return CompletableFuture.supplyAsync(() -> {
            poll();
            return snapshot;
        }, poller);
    }

    /** Sets {@code field}. Completes with true once applied (the version moved). */
    public CompletableFuture<Boolean> put(String field, String value) {
        return write("put", field, value, "");
    }

    /** Sets {@code field} only when it is absent: false when it exists. */
    public CompletableFuture<Boolean> add(String field, String value) {
        return write("add", field, value, "");
    }

    /** Sets {@code field} only when its value is still {@code expected}: false when someone changed it meanwhile. */
    public CompletableFuture<Boolean> replace(String field, String expected, String value) {
        return write("replace", field, value, expected);
    }

    /** Removes {@code field}: false when there was none. */
    public CompletableFuture<Boolean> remove(String field) {
        return write("del", field, "", "");
    }

    /** The current value of {@code field} in Redis itself (not the copy): for read-modify-write through {@link #replace}. */
    public CompletableFuture<String> read(String field) {
        return redis.call(c -> c.hget(key, field));
    }

    private CompletableFuture<Boolean> write(String op, String field, String value, String expected) {
        return redis.eval(WRITE, new String[] {key, versionKey}, op, field, value, expected)
                .thenCompose(r -> {
                    boolean applied = ((Long) r.get(0)) == 1L;
                    return applied ? refresh().thenApply(s -> true) : CompletableFuture.completedFuture(false);
                });
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }
}
