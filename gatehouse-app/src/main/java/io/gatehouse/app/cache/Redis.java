package io.gatehouse.app.cache;

import io.gatehouse.app.telemetry.Traces;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.opentelemetry.api.trace.Span;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * One shared Lettuce connection (thread-safe, pipelined) plus a fail-fast switch. Redis is an optimisation here,
 * never a dependency: when a command fails, the switch opens for {@code cooldown} and every caller skips Redis at
 * once (no timeout paid per request) and falls back to the database; after the cool-down one caller probes.
 */
public final class Redis implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Redis.class);

    /** Redis is down or the switch is open: the caller takes the degraded path. */
    public static final class Unavailable extends RuntimeException {
        Unavailable(String message, Throwable cause) {
            super(message, cause, false, false);
        }
    }

    private final RedisClient client;
    private final Duration cooldown;
    private final LongSupplier nanoClock;
    private final AtomicLong openUntil;
    private final List<Runnable> onRecovery = new ArrayList<>();
    private final Object recovery = new Object();
    private Thread recovering; // guarded by recovery
    private final List<BiConsumer<String, String>> subscribers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<String> channels = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile StatefulRedisConnection<String, String> connection;
    private volatile StatefulRedisPubSubConnection<String, String> pubSub;
    private volatile boolean up;
    private boolean closed; // guarded by this
    private final Traces traces;
    private final java.util.concurrent.atomic.LongAdder trips = new java.util.concurrent.atomic.LongAdder();
    private final String peer;

    public Redis(String uri, Duration commandTimeout, Duration cooldown) {
        this(uri, commandTimeout, cooldown, Traces.OFF);
    }

    public Redis(String uri, Duration commandTimeout, Duration cooldown, Traces traces) {
        this(uri, commandTimeout, cooldown, System::nanoTime, traces);
    }

    Redis(String uri, Duration commandTimeout, Duration cooldown, LongSupplier nanoClock, Traces traces) {
        this.cooldown = cooldown;
        this.traces = traces;
        this.nanoClock = nanoClock;
        this.openUntil = new AtomicLong(nanoClock.getAsLong()); // closed: "open until" a moment already past
        RedisURI target = RedisURI.create(uri);
        target.setTimeout(commandTimeout);
        this.peer = target.getHost() + ":" + target.getPort();
        try {
            this.client = RedisClient.create(LettuceThreads.acquire(), target);
            client.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    // While disconnected, fail commands at once instead of queueing them behind a reconnect.
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                    .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofMillis(500)).build())
                    .build());
        } catch (RuntimeException | Error e) {
            LettuceThreads.release(); // no close() will come for a client never made: give the threads back now
            throw e;
        }
        try {
            connect();
            up = true; // a later connect (Redis was away at start) counts as a recovery instead: see recovered()
        } catch (Unavailable e) {
            log.atWarn().addKeyValue("uri", uri).log("Redis is not reachable at start; serving from the database until it is");
        }
    }

    private synchronized void connect() {
        if (connection != null && connection.isOpen()) return;
        try {
            connection = client.connect();
            connection.sync().ping();
        } catch (RuntimeException e) {
            trip(e);
            throw new Unavailable("cannot connect to Redis", e);
        }
    }

    /** Runs a synchronous command, or throws {@link Unavailable} (immediately while the switch is open). */
    public <T> T call(Function<RedisCommands<String, String>, T> command) {
        return call("command", command);
    }

    /** As {@link #call(Function)}; {@code operation} names the command in the request's trace (e.g. {@code GET}). */
    public <T> T call(String operation, Function<RedisCommands<String, String>, T> command) {
        boolean wasDown = !up;
        StatefulRedisConnection<String, String> c = openConnection();
        Span span = traces.client("redis", operation, peer);
        try {
            T result = command.apply(c.sync());
            span.end();
            if (wasDown) recovered();
            return result;
        } catch (RuntimeException e) {
            Traces.end(span, e);
            trip(e);
            throw new Unavailable("Redis command failed", e);
        }
    }

    /**
     * As {@link #call(String, Function)}, through the asynchronous API, for the redirect's hot path. The caller waits
     * on the command's future without a timeout of its own: the bound is Lettuce's command timeout
     * ({@link TimeoutOptions}, one wheel-timer entry per command, no thread woken), which fails the command with a
     * {@code RedisCommandTimeoutException} after {@code commandTimeout}. The synchronous API waits with a timed
     * park instead, and on a virtual thread a timed park is a task on the scheduler's delay queue: a wake-up of its
     * thread per command (0.66 per redirect, bench/results/2026-12-07-app-redirect.md). It also skips the
     * synchronous API's reflective proxy.
     */
    public <T> T await(String operation, Function<RedisAsyncCommands<String, String>, RedisFuture<T>> command) {
        boolean wasDown = !up;
        StatefulRedisConnection<String, String> c = openConnection();
        Span span = traces.client("redis", operation, peer);
        try {
            T result = command.apply(c.async()).get();
            span.end();
            if (wasDown) recovered();
            return result;
        } catch (ExecutionException e) {
            RuntimeException cause = e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
            Traces.end(span, cause);
            trip(cause);
            throw new Unavailable("Redis command failed", cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Traces.end(span, e);
            throw new Unavailable("interrupted while waiting for Redis", e);
        } catch (RuntimeException e) {
            Traces.end(span, e);
            trip(e);
            throw new Unavailable("Redis command failed", e);
        }
    }

    /** The connection for a command: {@link Unavailable} at once while the switch is open, else (re)connected. */
    private StatefulRedisConnection<String, String> openConnection() {
        if (nanoClock.getAsLong() - openUntil.get() < 0) throw new Unavailable("Redis marked down", null);
        StatefulRedisConnection<String, String> c = connection;
        if (c == null || !c.isOpen()) {
            connect();
            c = connection;
        }
        return c;
    }

    private void trip(RuntimeException e) {
        trips.increment();
        openUntil.set(nanoClock.getAsLong() + cooldown.toNanos());
        if (up) log.atWarn().addKeyValue("error", String.valueOf(e.getMessage())).log("Redis unavailable; degraded to the database");
        up = false;
    }

    /**
     * The first command to succeed after a failure re-subscribes and runs the recovery hooks (replaying pending
     * tombstones) before Redis counts as up again; callers that also saw it down wait here meanwhile. So once
     * {@link #up()} or a ping says "up", the invalidations queued while Redis was away have been sent: setting
     * {@code up} first let /ready report "ready" while a tombstone was still pending. The hooks' own commands come
     * back here on the same thread and pass through.
     */
    private void recovered() {
        synchronized (recovery) {
            if (up || recovering == Thread.currentThread()) return;
            recovering = Thread.currentThread();
            long tripsBefore = trips.sum();
            try {
                log.info("Redis is back");
                resubscribe();
                List<Runnable> hooks;
                synchronized (onRecovery) {
                    hooks = List.copyOf(onRecovery);
                }
                hooks.forEach(Runnable::run);
            } finally {
                recovering = null;
                if (trips.sum() == tripsBefore) up = true; // else it failed again meanwhile: the next success retries
            }
        }
    }

    /** Called after Redis comes back (replays invalidations that could not be sent while it was down). */
    public void onRecovery(Runnable hook) {
        synchronized (onRecovery) {
            onRecovery.add(hook);
        }
    }

    /** Subscribes to a pub/sub channel; re-subscribes by itself after Redis comes back. */
    public void subscribe(String channel, BiConsumer<String, String> listener) {
        subscribers.add(listener);
        channels.add(channel);
        resubscribe();
    }

    private synchronized void resubscribe() {
        if (channels.isEmpty()) return;
        try {
            if (pubSub == null || !pubSub.isOpen()) {
                pubSub = client.connectPubSub();
                pubSub.addListener(new RedisPubSubAdapter<>() {
                    @Override
                    public void message(String channel, String message) {
                        subscribers.forEach(s -> s.accept(channel, message));
                    }
                });
            }
            pubSub.sync().subscribe(channels.toArray(String[]::new));
        } catch (RuntimeException e) {
            log.atWarn().addKeyValue("error", String.valueOf(e.getMessage())).log("cannot subscribe to Redis yet");
        }
    }

    /** Commands that failed (each opened the switch): a test tells "Redis was down" from "the cache misbehaved". */
    public long trips() { return trips.sum(); }

    /** Whether the last command worked; a PING is tried if the switch allows. */
    public boolean ping() {
        try {
            return "PONG".equals(call(RedisCommands::ping));
        } catch (Unavailable e) {
            return false;
        }
    }

    /** {@code evicted_keys} from INFO stats: how often maxmemory made Redis drop entries. */
    public double evictedKeys() {
        try {
            String info = call(c -> c.info("stats"));
            for (String line : info.split("\r?\n")) {
                if (line.startsWith("evicted_keys:")) return Double.parseDouble(line.substring("evicted_keys:".length()).trim());
            }
            return Double.NaN;
        } catch (Unavailable e) {
            return Double.NaN;
        }
    }

    public boolean up() {
        return up;
    }

    /** The Lettuce threads this client runs on ({@link LettuceThreads}; tests). */
    io.lettuce.core.resource.ClientResources resources() {
        return client.getResources();
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            if (pubSub != null) pubSub.close();
            if (connection != null) connection.close();
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1)); // leaves the shared threads alone
        } finally {
            LettuceThreads.release();
        }
    }
}
