package io.gatehouse.cache;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A route's cache as it outlives reloads: its store, its in-flight fetches (for coalescing) and its meters. A reload
 * makes new filters; they find the route's cache here by (listener, route) within one Gatehouse (its meter registry),
 * so a reload keeps what is stored. Counted references: the last filter of a route to close removes it (a route that
 * a reload retired frees its memory).
 */
public final class RouteCache {
    private static final Map<MeterRegistry, Map<String, RouteCache>> BY_SERVER = new WeakHashMap<>();

    final String listener;
    final String route;
    final CacheStore store;
    final Map<String, Flight> flights = new ConcurrentHashMap<>();
    private int references;
    private final java.util.List<io.micrometer.core.instrument.Meter> storeMeters = new java.util.ArrayList<>();
    volatile io.gatehouse.config.CacheConfig.KeyConfig key = new io.gatehouse.config.CacheConfig.KeyConfig(null, null, null, null, null, null);

    // meters: results as X-Cache names them, bytes by where they came from
    final Counter hits, misses, stale, bypass, revalidated, expired, uncacheable;
    final Counter hitBytes, missBytes, originSaved, coalesced, staleServed;
    private final LongAdder hitCount = new LongAdder(), lookups = new LongAdder();

    final io.gatehouse.config.CacheConfig.DiskConfig diskConfig;

    private RouteCache(String listener, String route, long maxBytes, io.gatehouse.config.CacheConfig.DiskConfig disk,
                       MeterRegistry meters) {
        this.listener = listener;
        this.route = route;
        this.diskConfig = disk;
        this.store = new CacheStore(maxBytes, disk == null ? null : openDisk(disk, listener, route));
        hits = result(meters, "hit");
        misses = result(meters, "miss");
        stale = result(meters, "stale");
        bypass = result(meters, "bypass");
        revalidated = result(meters, "revalidated");
        expired = result(meters, "expired");
        uncacheable = result(meters, "uncacheable");
        hitBytes = Counter.builder("gatehouse.cache.bytes").description("Response body bytes, served from the cache (hit) or from the origin (miss)")
                .baseUnit("bytes").tag("listener", listener).tag("route", route).tag("source", "cache").register(meters);
        missBytes = Counter.builder("gatehouse.cache.bytes").description("Response body bytes, served from the cache (hit) or from the origin (miss)")
                .baseUnit("bytes").tag("listener", listener).tag("route", route).tag("source", "origin").register(meters);
        originSaved = Counter.builder("gatehouse.cache.origin.saved").description("Requests answered without an origin request of their own")
                .tag("listener", listener).tag("route", route).register(meters);
        coalesced = Counter.builder("gatehouse.cache.coalesced").description("Requests that waited for another's origin request for the same key")
                .tag("listener", listener).tag("route", route).register(meters);
        staleServed = Counter.builder("gatehouse.cache.stale.served").description("Stale responses served (stale-while-revalidate, stale-if-error, the operator's stale_on_error)")
                .tag("listener", listener).tag("route", route).register(meters);
        storeMeters.add(FunctionCounter.builder("gatehouse.cache.evictions", store, CacheStore::evictions).description("Entries the memory tier evicted for room")
                .tag("listener", listener).tag("route", route).register(meters));
        storeMeters.add(Gauge.builder("gatehouse.cache.entries", store, CacheStore::count).description("Entries in the memory tier")
                .tag("listener", listener).tag("route", route).register(meters));
        storeMeters.add(Gauge.builder("gatehouse.cache.size", store, CacheStore::bytes).baseUnit("bytes").description("Bytes held by the memory tier")
                .tag("listener", listener).tag("route", route).register(meters));
        DiskStore d = store.disk();
        if (d != null) {
            storeMeters.add(Gauge.builder("gatehouse.cache.disk.entries", d, DiskStore::count).description("Objects in the disk tier")
                    .tag("listener", listener).tag("route", route).register(meters));
            storeMeters.add(Gauge.builder("gatehouse.cache.disk.size", d, DiskStore::bytes).baseUnit("bytes").description("Bytes of files in the disk tier")
                    .tag("listener", listener).tag("route", route).register(meters));
            storeMeters.add(FunctionCounter.builder("gatehouse.cache.disk.hits", d, DiskStore::hits).description("Memory misses served from the disk tier (then promoted)")
                    .tag("listener", listener).tag("route", route).register(meters));
            storeMeters.add(FunctionCounter.builder("gatehouse.cache.disk.corrupt", d, DiskStore::corrupt).description("Disk files that failed their checksum, length or key: deleted, never served")
                    .tag("listener", listener).tag("route", route).register(meters));
            storeMeters.add(FunctionCounter.builder("gatehouse.cache.disk.evictions", d, DiskStore::evictions).description("Disk files removed for room")
                    .tag("listener", listener).tag("route", route).register(meters));
        }
    }

    /** The route's directory under the disk tier's path: one per listener and route, so routes never share files. */
    private static DiskStore openDisk(io.gatehouse.config.CacheConfig.DiskConfig disk, String listener, String route) {
        String dir = (listener + "." + route).replaceAll("[^A-Za-z0-9._-]", "_");
        try {
            return new DiskStore(java.nio.file.Path.of(disk.path()).resolve(dir), disk.maxSize());
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalArgumentException("cache disk path " + disk.path() + ": " + e.getMessage(), e);
        }
    }

    /** The meters that read this store: removed with it, so a new store of the route gets its own. */
    private void removeStoreMeters(MeterRegistry meters) {
        for (var m : storeMeters) meters.remove(m);
        if (store.disk() != null) store.disk().close();
    }

    private Counter result(MeterRegistry meters, String result) {
        return Counter.builder("gatehouse.cache.requests").description("Cacheable requests by what the cache did (X-Cache's words)")
                .tag("listener", listener).tag("route", route).tag("result", result).register(meters);
    }

    /** The route's cache in the server of {@code meters}, made on first use; {@link #release} when done. */
    static synchronized RouteCache acquire(MeterRegistry meters, String listener, String route, long maxBytes,
                                           io.gatehouse.config.CacheConfig.DiskConfig disk) {
        Map<String, RouteCache> server = BY_SERVER.computeIfAbsent(meters, m -> new ConcurrentHashMap<>());
        String id = listener + "/" + route;
        RouteCache c = server.get(id);
        if (c == null || c.store.maxBytes() != maxBytes || !java.util.Objects.equals(c.diskConfig, disk)) {
            if (c != null) c.removeStoreMeters(meters);
            // a new size or disk starts a new store (a disk directory kept is indexed again: its objects stay)
            c = new RouteCache(listener, route, maxBytes, disk, meters);
            server.put(id, c);
        }
        c.references++;
        return c;
    }

    synchronized void release(MeterRegistry meters) {
        if (--references > 0) return;
        synchronized (RouteCache.class) {
            Map<String, RouteCache> server = BY_SERVER.get(meters);
            if (server != null && server.remove(listener + "/" + route, this)) removeStoreMeters(meters);
        }
    }

    /** The route caches of the server of {@code meters} (the admin API's purge and stats). */
    public static synchronized java.util.List<RouteCache> of(MeterRegistry meters) {
        Map<String, RouteCache> server = BY_SERVER.get(meters);
        return server == null ? java.util.List.of() : java.util.List.copyOf(server.values());
    }

    /**
     * Claims the background refresh of {@code stale}, stored for {@code primary}: the flight that keeps other requests
     * from refreshing it too, or null when there is nothing to do. Nothing to do when another fetch of the key is in
     * flight, or when the store no longer holds {@code stale}: a request that read the stale entry just before another
     * refresh stored its answer and ended its flight would otherwise ask the origin again for a staleness already
     * refreshed (seen as a third origin request where two were due). Every fetch stores before it ends its flight, so
     * the store read after the claim sees that answer. The entry is compared by identity: a soft purge marks the same
     * object, a disk load promotes the object it returns, and a hard purge or an eviction leaves nothing to refresh.
     */
    Flight claimRefresh(String primary, CachedResponse stale) {
        Flight mine = new Flight();
        if (flights.putIfAbsent(primary, mine) != null) return null;
        CachedResponse now = store.get(primary, stale.varyValues());
        if (now == stale) return mine;
        flights.remove(primary, mine);
        mine.end(now); // nobody should have joined in between; if one did, it gets what is stored
        return null;
    }

    public String listener() { return listener; }
    public String route() { return route; }
    public CacheStore store() { return store; }

    /** Hit ratio figures for the admin API: requests looked up and answered from the cache. */
    public Map<String, Object> stats() {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("listener", listener);
        m.put("route", route);
        m.put("entries", store.count());
        m.put("bytes", store.bytes());
        m.put("max_bytes", store.maxBytes());
        m.put("hits", (long) hits.count());
        m.put("misses", (long) misses.count());
        m.put("stale", (long) stale.count());
        m.put("revalidated", (long) revalidated.count());
        m.put("expired", (long) expired.count());
        m.put("bypass", (long) bypass.count());
        m.put("uncacheable", (long) uncacheable.count());
        m.put("hit_bytes", (long) hitBytes.count());
        m.put("origin_bytes", (long) missBytes.count());
        m.put("origin_saved", (long) originSaved.count());
        m.put("coalesced", (long) coalesced.count());
        m.put("stale_served", (long) staleServed.count());
        m.put("evictions", store.evictions());
        DiskStore d = store.disk();
        if (d != null) {
            m.put("disk_entries", d.count());
            m.put("disk_bytes", d.bytes());
            m.put("disk_max_bytes", d.maxBytes());
            m.put("disk_hits", d.hits());
            m.put("disk_corrupt", d.corrupt());
            m.put("disk_evictions", d.evictions());
        }
        return m;
    }
}
