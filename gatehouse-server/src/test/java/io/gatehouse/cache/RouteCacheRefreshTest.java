package io.gatehouse.cache;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Who may refresh a stale-while-revalidate entry in the background: one request per staleness, never a second. */
class RouteCacheRefreshTest {
    static final String URL = "http://h/swr", KEY = "h/swr";
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final RouteCache cache = RouteCache.acquire(meters, "edge", "r", 1 << 20, null);

    static CachedResponse entry(String body) {
        return new CachedResponse(200, new DefaultHttpHeaders().add("cache-control", "max-age=10, stale-while-revalidate=60"),
                body.getBytes(), 0, 0, URL, List.of(), "", Set.of(), CachePolicy.STANDARD);
    }

    @AfterEach
    void release() {
        cache.release(meters);
    }

    @Test
    void oneRefreshAtATime() {
        CachedResponse stale = entry("v1");
        cache.store.put(KEY, stale);
        Flight first = cache.claimRefresh(KEY, stale);
        assertThat(first).isNotNull();
        assertThat(cache.claimRefresh(KEY, stale)).isNull();
        assertThat(cache.flights).containsOnlyKeys(KEY);
    }

    @Test
    void aRequestThatReadTheEntryBeforeARefreshStoredItsAnswerDoesNotRefreshAgain() {
        CachedResponse stale = entry("v1");
        cache.store.put(KEY, stale);
        Flight first = cache.claimRefresh(KEY, stale);
        // the refresh answers: stored, then its flight ends (BackgroundRefresh's order)
        CachedResponse fresh = entry("v2");
        cache.store.put(KEY, fresh);
        cache.flights.remove(KEY, first);
        first.end(fresh);
        // a request on another event loop read v1 before that, and only now asks to refresh it
        assertThat(cache.claimRefresh(KEY, stale)).isNull();
        assertThat(cache.flights).isEmpty();
        assertThat(cache.store.get(KEY, "")).isSameAs(fresh);
    }

    @Test
    void aFailedRefreshLeavesTheEntryToTheNextStaleRequest() {
        CachedResponse stale = entry("v1");
        cache.store.put(KEY, stale);
        Flight first = cache.claimRefresh(KEY, stale);
        cache.flights.remove(KEY, first);
        first.end(null);   // the origin failed: nothing stored
        assertThat(cache.claimRefresh(KEY, stale)).isNotNull();
    }

    @Test
    void aSoftPurgedEntryIsRefreshedAndAHardPurgedOneIsNot() {
        CachedResponse stored = entry("v1");
        cache.store.put(KEY, stored);
        assertThat(cache.store.purgeUrl(URL, true)).isEqualTo(1);
        Flight soft = cache.claimRefresh(KEY, stored);
        assertThat(soft).isNotNull();
        cache.flights.remove(KEY, soft);
        soft.end(null);
        assertThat(cache.store.purgeUrl(URL, false)).isEqualTo(1);
        assertThat(cache.claimRefresh(KEY, stored)).isNull();
        assertThat(cache.flights).isEmpty();
    }
}
