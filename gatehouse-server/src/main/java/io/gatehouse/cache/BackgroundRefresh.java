package io.gatehouse.cache;

import io.gatehouse.filter.FilterContext;
import io.gatehouse.http.HttpExchange;

/**
 * Fetches a stale-while-revalidate response again without a client waiting for it. Gatehouse has no upstream client
 * for internal callers yet (one is being built); until a route's filter gets one, {@link #forRoute} has none to give
 * and stale-while-revalidate serves the stale copy within its window without refreshing it (the first request after
 * the window validates, as without the directive).
 */
interface BackgroundRefresh {
    /** Refreshes {@code stale} for {@code primary}; ends {@code flight} with the new stored response, or null. */
    void refresh(CacheFilter filter, HttpExchange trigger, String primary, CachedResponse stale, Flight flight);

    static BackgroundRefresh forRoute(FilterContext context) {
        return null;
    }
}
