package io.gatehouse.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;


import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The memory tier of a route's cache: Caffeine bounded in bytes ({@link CachedResponse#weight()}), whose W-TinyLFU
 * admission keeps one-hit wonders from pushing out what is used. Keys are {@code primary + '\0' + variant}: the
 * primary key is the route's cache key of the request, the variant the request's values of the fields the response
 * {@code Vary}s on (the latest Vary seen for a primary key is remembered, bounded). An index from URL to keys serves
 * invalidation by unsafe methods and purges without scanning the cache.
 *
 * <p>With a {@link DiskStore} behind it (optional), every stored response is also written to disk (on the disk
 * store's executor), {@link #onDisk} says (from the disk index, without I/O) whether a memory miss may be a disk hit,
 * {@link #load} reads it off the event loop and promotes it to memory, and purges apply to both tiers.
 *
 * <p>Thread-safe: every event loop of the route reads and writes it.
 */
public final class CacheStore {
    private final Cache<String, CachedResponse> entries;
    private final Cache<String, List<String>> varyByPrimary;
    private final Map<String, Set<String>> keysByUrl = new ConcurrentHashMap<>();
    private final LongAdder evictions = new LongAdder();
    private final long maxBytes;
    private final DiskStore disk;   // null: memory only

    public CacheStore(long maxBytes) {
        this(maxBytes, null);
    }

    public CacheStore(long maxBytes, DiskStore disk) {
        this.maxBytes = maxBytes;
        this.disk = disk;
        this.entries = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((String k, CachedResponse v) -> v.weight() + 2 * k.length())
                .executor(Runnable::run)   // removal bookkeeping inline: the index stays exact, no pool thread needed
                .removalListener((String k, CachedResponse v, RemovalCause cause) -> {
                    if (cause.wasEvicted()) evictions.increment();
                    if (k != null && v != null && cause != RemovalCause.REPLACED) unindex(v.url(), k);
                })
                .build();
        this.varyByPrimary = Caffeine.newBuilder().maximumSize(100_000).build();
    }

    public long maxBytes() { return maxBytes; }

    /** The Vary field names last stored for {@code primary} (empty when none, or nothing stored). */
    public List<String> varyOf(String primary) {
        List<String> v = varyByPrimary.getIfPresent(primary);
        if (v == null && disk != null) v = disk.varyOf(primary);
        return v == null ? List.of() : v;
    }

    /** The disk tier, or null. */
    public DiskStore disk() { return disk; }

    /** Whether a memory miss for this key may be served from disk (the disk index says so; no I/O). */
    public boolean onDisk(String primary, String variant) {
        return disk != null && disk.contains(primary + '\0' + variant);
    }

    /**
     * Reads the key from disk off the calling thread and promotes it to memory; completes (on the disk executor) with
     * it, or null (absent, corrupt, or the disk queue full).
     */
    public java.util.concurrent.CompletableFuture<CachedResponse> load(String primary, String variant, CachePolicy policy) {
        if (disk == null) return java.util.concurrent.CompletableFuture.completedFuture(null);
        return disk.read(primary + '\0' + variant, policy).thenApply(r -> {
            if (r != null) remember(primary, r);
            return r;
        });
    }

    public CachedResponse get(String primary, String variant) {
        return entries.getIfPresent(primary + '\0' + variant);
    }

    public void put(String primary, CachedResponse response) {
        String key = remember(primary, response);
        if (disk != null) disk.write(key, response);
    }

    /**
     * Starts writing the response for {@code primary} and {@code variant} to the disk tier as its body arrives; null
     * without a disk tier. Ends with {@link #put(String, CachedResponse, DiskStore.Writer)} or {@code abandon()}.
     */
    public DiskStore.Writer beginDisk(String primary, String variant) {
        return disk == null ? null : disk.begin(primary + '\0' + variant);
    }

    /** {@link #put(String, CachedResponse)}, with the disk copy already written by {@code writer} as it arrived. */
    public void put(String primary, CachedResponse response, DiskStore.Writer writer) {
        String key = remember(primary, response);
        if (writer != null && writer.key().equals(key)) {
            writer.finish(response);
            return;
        }
        if (writer != null) writer.abandon();
        if (disk != null) disk.write(key, response);
    }

    /** Into the memory tier only. */
    private String remember(String primary, CachedResponse response) {
        varyByPrimary.put(primary, response.vary());
        String key = primary + '\0' + response.varyValues();
        keysByUrl.computeIfAbsent(response.url(), u -> ConcurrentHashMap.newKeySet()).add(key);
        entries.put(key, response);
        return key;
    }

    private void unindex(String url, String key) {
        keysByUrl.computeIfPresent(url, (u, keys) -> {
            if (entries.getIfPresent(key) == null) keys.remove(key);
            return keys.isEmpty() ? null : keys;
        });
    }

    /** Removes (hard) or marks stale (soft) every variant stored for {@code url}, in both tiers; returns how many. */
    public int purgeUrl(String url, boolean soft) {
        Set<String> done = new HashSet<>();
        Set<String> keys = keysByUrl.get(url);
        if (keys != null) for (String k : List.copyOf(keys)) purgeKey(k, soft, done);
        if (disk != null) done.addAll(disk.purgeUrl(url, soft));
        return done.size();
    }

    /** Every URL starting with {@code prefix}. */
    public int purgePrefix(String prefix, boolean soft) {
        Set<String> done = new HashSet<>();
        for (String url : List.copyOf(keysByUrl.keySet())) {
            if (!url.startsWith(prefix)) continue;
            Set<String> keys = keysByUrl.get(url);
            if (keys != null) for (String k : List.copyOf(keys)) purgeKey(k, soft, done);
        }
        if (disk != null) done.addAll(disk.purgePrefix(prefix, soft));
        return done.size();
    }

    /** Every entry tagged {@code tag} (Surrogate-Key / Cache-Tag); a scan, as purges are rare. */
    public int purgeTag(String tag, boolean soft) {
        Set<String> done = new HashSet<>();
        for (var e : entries.asMap().entrySet()) if (e.getValue().tags().contains(tag)) purgeKey(e.getKey(), soft, done);
        if (disk != null) done.addAll(disk.purgeTag(tag, soft));
        return done.size();
    }

    private void purgeKey(String key, boolean soft, Set<String> done) {
        if (soft) {
            CachedResponse r = entries.getIfPresent(key);
            if (r == null) return;
            r.invalidate();
            done.add(key);
            return;
        }
        if (entries.asMap().remove(key) != null) done.add(key);
    }

    public long evictions() { return evictions.sum(); }
    public long count() { return entries.estimatedSize(); }

    /** Bytes held (the sum of weights). */
    public long bytes() {
        return entries.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    /** Runs Caffeine's pending maintenance (tests; eviction is otherwise amortised over writes). */
    public void cleanUp() {
        entries.cleanUp();
    }
}
