package io.gatehouse.app.cache;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * At most one load per key in flight in this instance: concurrent callers for the same key wait for the first
 * caller's result instead of each going to the database (the stampede on a cold or just-expired key).
 */
public final class SingleFlight<K, V> {
    private final ConcurrentHashMap<K, CompletableFuture<V>> inFlight = new ConcurrentHashMap<>();

    /** Result of {@link #run}: the value, and whether this caller did the load or joined someone else's. */
    public record Outcome<V>(V value, boolean loaded) {}

    public Outcome<V> run(K key, Supplier<V> loader) {
        CompletableFuture<V> mine = new CompletableFuture<>();
        CompletableFuture<V> existing = inFlight.putIfAbsent(key, mine);
        if (existing != null) return new Outcome<>(join(existing), false);
        try {
            V value = loader.get();
            mine.complete(value);
            return new Outcome<>(value, true);
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(key, mine);
        }
    }

    /** Starts a load on a virtual thread unless one is already running for the key; does not wait. */
    public void refreshInBackground(K key, Supplier<V> loader) {
        if (inFlight.containsKey(key)) return;
        Thread.ofVirtual().name("refresh-", 0).start(() -> {
            try {
                run(key, loader);
            } catch (RuntimeException e) {
                // The entry in the cache is still valid; the next early-refresh roll or the expiry tries again.
            }
        });
    }

    private static <V> V join(CompletableFuture<V> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a load", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        }
    }
}
