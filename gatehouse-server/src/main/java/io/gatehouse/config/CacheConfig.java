package io.gatehouse.config;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The {@code cache} filter: a shared HTTP cache (RFC 9111) for a route, in memory, bounded in bytes.
 *
 * @param enabled             false turns it off for the route (default true)
 * @param maxSize             bytes the route's memory tier holds at most (default 64MiB)
 * @param maxObjectSize       larger responses stream through uncached (default 8MiB)
 * @param key                 what makes two requests the same object (default: scheme, host, path, sorted query)
 * @param ttl                 operator TTLs by status, e.g. {@code {"200": 10m, "404": 1m}}: used when the origin gives no
 *                            explicit freshness, or always with {@code origin_cache_control: ignore}
 * @param originCacheControl  {@code respect} (default) or {@code ignore} (only {@code ttl} decides)
 * @param bypass              conditions that skip the cache: {@code header:NAME} or {@code cookie:NAME} present
 * @param target              the targeted cache-control field for this cache (RFC 9213), default
 *                            {@code gatehouse-cache-control}; it wins over {@code CDN-Cache-Control}, which wins over
 *                            {@code Cache-Control}
 * @param statusName          this cache's name in {@code Cache-Status} (default {@code gatehouse})
 * @param xCache              also send {@code X-Cache: HIT|MISS|STALE|BYPASS|EXPIRED|REVALIDATED} (default false)
 * @param coalesce            concurrent misses of one key make one origin request (default true)
 * @param coalesceTimeout     how long a collapsed request waits for the first before it goes to the origin itself (default 5s)
 * @param staleOnError        how long past expiry a stored response may stand in for a failing origin (default 0: off)
 * @param useStale            which failures {@code stale_on_error} covers: {@code error}, {@code timeout}, {@code http_5xx}
 *                            (default all three)
 * @param heuristicMax        the most heuristic freshness (10% of the time since Last-Modified) given (default 1d)
 * @param storeSetCookie      store responses that set cookies (default false: a shared cache must not hand one user's
 *                            cookie to another)
 * @param purgeFrom           addresses (CIDRs) allowed to send the {@code PURGE} method; empty: PURGE is not special
 * @param disk                an optional disk tier behind the memory tier (null: memory only)
 */
public record CacheConfig(Boolean enabled, Long maxSize, Long maxObjectSize, KeyConfig key, Map<String, String> ttl,
                          String originCacheControl, List<String> bypass, String target, String statusName, Boolean xCache,
                          Boolean coalesce, Duration coalesceTimeout, Duration staleOnError, List<String> useStale,
                          Duration heuristicMax, Boolean storeSetCookie, List<String> purgeFrom,
                          DiskConfig disk) {
    public static final Set<String> FAILURES = Set.of("error", "timeout", "http_5xx");

    public CacheConfig {
        enabled = enabled == null ? Boolean.TRUE : enabled;
        maxSize = maxSize == null ? 64L << 20 : maxSize;
        if (maxSize < 1024) throw new IllegalArgumentException("max_size: at least 1KiB");
        maxObjectSize = maxObjectSize == null ? Math.min(8L << 20, maxSize) : maxObjectSize;
        if (maxObjectSize < 1 || maxObjectSize > maxSize) throw new IllegalArgumentException("max_object_size: 1 byte up to max_size");
        key = key == null ? new KeyConfig(null, null, null, null, null, null) : key;
        ttl = ttl == null ? Map.of() : Map.copyOf(ttl);
        for (var e : ttl.entrySet()) {
            if (!e.getKey().matches("[1-5]\\d\\d")) throw new IllegalArgumentException("ttl: '" + e.getKey() + "' is not a status code such as 200");
            if (Durations.parse(e.getValue()).isNegative()) throw new IllegalArgumentException("ttl: " + e.getKey() + " must not be negative");
        }
        originCacheControl = originCacheControl == null ? "respect" : originCacheControl.toLowerCase(Locale.ROOT);
        if (!originCacheControl.equals("respect") && !originCacheControl.equals("ignore")) {
            throw new IllegalArgumentException("origin_cache_control: respect or ignore, not '" + originCacheControl + "'");
        }
        if (originCacheControl.equals("ignore") && ttl.isEmpty()) {
            throw new IllegalArgumentException("origin_cache_control: ignore needs ttl: for the statuses to cache");
        }
        bypass = bypass == null ? List.of() : List.copyOf(bypass);
        for (String b : bypass) {
            if (!(b.startsWith("header:") && b.length() > 7) && !(b.startsWith("cookie:") && b.length() > 7)) {
                throw new IllegalArgumentException("bypass: '" + b + "' is not header:NAME or cookie:NAME");
            }
        }
        target = target == null ? "gatehouse-cache-control" : target.strip().toLowerCase(Locale.ROOT);
        if (!target.matches("[a-z0-9][a-z0-9-]*")) throw new IllegalArgumentException("target: '" + target + "' is not a field name");
        statusName = statusName == null ? "gatehouse" : statusName;
        if (!statusName.matches("[A-Za-z][A-Za-z0-9_.:/-]*")) throw new IllegalArgumentException("status_name: must be a token");
        xCache = xCache == null ? Boolean.FALSE : xCache;
        coalesce = coalesce == null ? Boolean.TRUE : coalesce;
        coalesceTimeout = coalesceTimeout == null ? Duration.ofSeconds(5) : coalesceTimeout;
        if (coalesceTimeout.isNegative() || coalesceTimeout.compareTo(Duration.ofSeconds(25)) > 0) {
            throw new IllegalArgumentException("coalesce_timeout: 0 to 25s (a filter waits at most 30s)");
        }
        staleOnError = staleOnError == null ? Duration.ZERO : staleOnError;
        if (staleOnError.isNegative()) throw new IllegalArgumentException("stale_on_error: must not be negative");
        useStale = useStale == null ? List.copyOf(FAILURES) : List.copyOf(useStale);
        for (String u : useStale) {
            if (!FAILURES.contains(u)) throw new IllegalArgumentException("use_stale: '" + u + "' is not one of error, timeout, http_5xx");
        }
        heuristicMax = heuristicMax == null ? Duration.ofDays(1) : heuristicMax;
        storeSetCookie = storeSetCookie == null ? Boolean.FALSE : storeSetCookie;
        purgeFrom = purgeFrom == null ? List.of() : List.copyOf(purgeFrom);
        for (String c : purgeFrom) ConfigChecks.requireCidr("purge_from", c);
        if (disk != null && disk.maxSize() < maxObjectSize) {
            throw new IllegalArgumentException("disk: max_size must be at least max_object_size");
        }
    }

    /**
     * The disk tier: objects are written under {@code path} (one directory per listener and route) and survive a
     * restart.
     *
     * @param path    the directory (created if missing)
     * @param maxSize bytes of files the route keeps there at most (default 1GiB)
     */
    public record DiskConfig(String path, Long maxSize) {
        public DiskConfig {
            if (path == null || path.isBlank()) throw new IllegalArgumentException("path: the directory for the disk tier is required");
            maxSize = maxSize == null ? 1L << 30 : maxSize;
            if (maxSize < 1024) throw new IllegalArgumentException("max_size: at least 1KiB");
        }
    }

    /** The operator TTLs with their statuses as numbers. */
    public Map<Integer, Duration> ttlByStatus() {
        Map<Integer, Duration> m = new java.util.HashMap<>();
        ttl.forEach((k, v) -> m.put(Integer.parseInt(k), Durations.parse(v)));
        return m;
    }

    /**
     * The cache key: the request's parts that make it a different object.
     *
     * @param scheme  include http/https (default true)
     * @param host    include the host (default true)
     * @param query   {@code sorted} (default: parameters in order, so {@code ?a=1&b=2} and {@code ?b=2&a=1} are one object),
     *                {@code as_is}, or {@code ignore}
     * @param queryAllow only these query parameters count (others are ignored in the key); empty: all
     * @param headers request fields whose values are part of the key
     * @param cookies cookies whose values are part of the key
     */
    public record KeyConfig(Boolean scheme, Boolean host, String query, List<String> queryAllow, List<String> headers,
                            List<String> cookies) {
        public KeyConfig {
            scheme = scheme == null ? Boolean.TRUE : scheme;
            host = host == null ? Boolean.TRUE : host;
            query = query == null ? "sorted" : query;
            if (!Set.of("sorted", "as_is", "ignore").contains(query)) {
                throw new IllegalArgumentException("query: sorted, as_is or ignore, not '" + query + "'");
            }
            queryAllow = queryAllow == null ? List.of() : List.copyOf(queryAllow);
            headers = headers == null ? List.of() : headers.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
            cookies = cookies == null ? List.of() : List.copyOf(cookies);
        }
    }
}
