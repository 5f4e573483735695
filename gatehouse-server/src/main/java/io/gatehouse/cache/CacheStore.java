package io.gatehouse.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;

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
 * <p>Thread-safe: every event loop of the route reads and writes it.
 */
public final class CacheStore {
    private final Cache<String, CachedResponse> entries;
    private final Cache<String, List<String>> varyByPrimary;
    private final Map<String, Set<String>> keysByUrl = new ConcurrentHashMap<>();
    private final LongAdder evictions = new LongAdder();
    private final long maxBytes;

    public CacheStore(long maxBytes) {
        this.maxBytes = maxBytes;
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
        return v == null ? List.of() : v;
    }

    public CachedResponse get(String primary, String variant) {
        return entries.getIfPresent(primary + '\0' + variant);
    }

    public void put(String primary, CachedResponse response) {
        varyByPrimary.put(primary, response.vary());
        String key = primary + '\0' + response.varyValues();
        keysByUrl.computeIfAbsent(response.url(), u -> ConcurrentHashMap.newKeySet()).add(key);
        entries.put(key, response);
    }

    private void unindex(String url, String key) {
        keysByUrl.computeIfPresent(url, (u, keys) -> {
            if (entries.getIfPresent(key) == null) keys.remove(key);
            return keys.isEmpty() ? null : keys;
        });
    }

    /** Removes (hard) or marks stale (soft) every variant stored for {@code url}; returns how many. */
    public int purgeUrl(String url, boolean soft) {
        Set<String> keys = keysByUrl.get(url);
        if (keys == null) return 0;
        int n = 0;
        for (String k : List.copyOf(keys)) n += purgeKey(k, soft);
        return n;
    }

    /** Every URL starting with {@code prefix}. */
    public int purgePrefix(String prefix, boolean soft) {
        int n = 0;
        for (String url : List.copyOf(keysByUrl.keySet())) if (url.startsWith(prefix)) n += purgeUrl(url, soft);
        return n;
    }

    /** Every entry tagged {@code tag} (Surrogate-Key / Cache-Tag); a scan, as purges are rare. */
    public int purgeTag(String tag, boolean soft) {
        int n = 0;
        for (var e : entries.asMap().entrySet()) if (e.getValue().tags().contains(tag)) n += purgeKey(e.getKey(), soft);
        return n;
    }

    private int purgeKey(String key, boolean soft) {
        if (soft) {
            CachedResponse r = entries.getIfPresent(key);
            if (r == null) return 0;
            r.invalidate();
            return 1;
        }
        return entries.asMap().remove(key) != null ? 1 : 0;
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
