package io.gatehouse.cache;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a route's configuration changes in the caching decision ({@link CacheStrategy}); everything else is RFC 9111.
 *
 * @param targets          targeted cache-control fields in precedence order (RFC 9213), lower case: by default
 *                         {@code gatehouse-cache-control} then {@code cdn-cache-control}
 * @param ttlByStatus      operator TTLs by status: used when the origin gives no explicit freshness (instead of the
 *                         heuristic), or always when {@code respectOrigin} is false
 * @param respectOrigin    false: the origin's cache directives are ignored and only {@code ttlByStatus} decides
 * @param heuristicFraction fraction of (Date - Last-Modified) taken as heuristic freshness (RFC 9111 §4.2.2 suggests 10%)
 * @param heuristicMax     the most heuristic freshness given
 * @param staleOnError     how long past expiry a stored response may answer when the origin fails as {@code useStale}
 *                         says (the operator's override, like nginx's proxy_cache_use_stale); zero: never
 * @param useStale         which failures {@code staleOnError} covers: {@code error}, {@code timeout}, {@code http_5xx}
 * @param storeSetCookie   whether responses with {@code Set-Cookie} may be stored (false: never, unless the origin
 *                         names it in {@code private="set-cookie"}, which strips it)
 */
public record CachePolicy(List<String> targets, Map<Integer, Duration> ttlByStatus, boolean respectOrigin,
                          double heuristicFraction, Duration heuristicMax, Duration staleOnError, Set<String> useStale,
                          boolean storeSetCookie) {

    public static final List<String> DEFAULT_TARGETS = List.of("gatehouse-cache-control", "cdn-cache-control");

    /** RFC 9111 and nothing else (the targeted fields on, no overrides). */
    public static final CachePolicy STANDARD = new CachePolicy(DEFAULT_TARGETS, Map.of(), true, 0.1,
            Duration.ofDays(1), Duration.ZERO, Set.of(), false);

    public CachePolicy {
        targets = List.copyOf(targets);
        ttlByStatus = Map.copyOf(ttlByStatus);
        useStale = Set.copyOf(useStale);
    }

    public CachePolicy withTtl(Map<Integer, Duration> ttl, boolean respect) {
        return new CachePolicy(targets, ttl, respect, heuristicFraction, heuristicMax, staleOnError, useStale, storeSetCookie);
    }

    public CachePolicy withStaleOnError(Duration window, Set<String> failures) {
        return new CachePolicy(targets, ttlByStatus, respectOrigin, heuristicFraction, heuristicMax, window, failures, storeSetCookie);
    }
}
