package io.gatehouse.cache;

import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.UpstreamClient;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.http.HttpExchange;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Fetches a stale-while-revalidate response again while the client that found it stale has already been served: one
 * GET (conditional when the stored response has validators) through the route's cluster's upstream client (its load
 * balancer, pools, TLS, retries and timeouts), bounded by {@link #TIMEOUT}. A 304 updates the stored response, a
 * storable answer replaces it, anything else (a failure included) leaves it to expire.
 */
interface BackgroundRefresh {
    Duration TIMEOUT = Duration.ofSeconds(10);

    /** Refreshes {@code stale} for {@code primary}; ends {@code flight} (removing it) with the new stored response, or null. */
    void refresh(CacheFilter filter, HttpExchange trigger, String primary, CachedResponse stale, Flight flight);

    /** The refresh of the route's cluster, or null when the route has none (a direct response or a redirect). */
    static BackgroundRefresh forRoute(FilterContext context) {
        Cluster cluster = clusterOf(context);
        return cluster == null ? null : new Upstream(cluster);
    }

    /** The route's cluster, or null when it has none. */
    static Cluster clusterOf(FilterContext context) {
        if (context.config() == null || context.clusters() == null) return null;
        String clusterName = null;
        for (ListenerConfig l : context.config().listeners()) {
            if (!l.name().equals(context.listener())) continue;
            for (RouteConfig r : l.routes()) if (r.name().equals(context.route())) clusterName = r.cluster();
        }
        return clusterName == null ? null : context.clusters().get(clusterName);
    }

    /** Through {@link UpstreamClient#send}. */
    final class Upstream implements BackgroundRefresh {
        private static final List<String> NOT_SENT = List.of("if-none-match", "if-modified-since", "if-match",
                "if-unmodified-since", "range", "if-range", "cache-control", "pragma", "content-length", "expect");
        private final Cluster cluster;

        Upstream(Cluster cluster) {
            this.cluster = cluster;
        }

        @Override
        public void refresh(CacheFilter filter, HttpExchange trigger, String primary, CachedResponse stale, Flight flight) {
            HttpHeaders from = trigger.request().headers();
            Map<String, String> headers = new LinkedHashMap<>();
            for (String name : from.names()) {
                String n = name.toLowerCase(Locale.ROOT);
                if (HopByHop.isHopByHop(n, from) || NOT_SENT.contains(n)) continue;
                headers.put(n, String.join(n.equals("cookie") ? "; " : ", ", from.getAll(name)));
            }
            if (stale.etag() != null) headers.put("if-none-match", stale.etag());
            if (stale.lastModified() != null) headers.put("if-modified-since", stale.lastModified());
            if (!headers.containsKey("host")) headers.put("host", trigger.host());
            HttpHeaders requestHeaders = new DefaultHttpHeaders();
            headers.forEach(requestHeaders::set);
            String target = trigger.path() + (trigger.query() == null ? "" : "?" + trigger.query());
            String url = CacheKeys.url(trigger, filter.config.key());
            long requestTime = filter.clock.currentTimeMillis();
            int max = (int) Math.min(Integer.MAX_VALUE, filter.config.maxObjectSize());
            UpstreamClient.Request request = new UpstreamClient.Request(HttpMethod.GET, target, headers, null, max, TIMEOUT, null);
            cluster.client().send(request).whenComplete((r, failure) -> {
                CachedResponse result = null;
                if (r != null) {
                    long now = filter.clock.currentTimeMillis();
                    if (r.status() == 304) {
                        result = stale.updatedBy(r.headers(), requestTime, now, filter.policy);
                    } else {
                        var s = CacheStrategy.storable(HttpMethod.GET, requestHeaders, r.status(), r.headers(), filter.policy);
                        if (s.store()) {
                            HttpHeaders stored = HopByHop.storable(r.headers(), s.stripFields());
                            stored.set(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
                            List<String> vary = CacheKeys.varyNames(r.headers());
                            result = new CachedResponse(r.status(), stored, r.body(), requestTime, now, url, vary,
                                    CacheKeys.variant(vary, requestHeaders), Fetch.tags(r.headers()), filter.policy);
                        }
                    }
                }
                if (result != null) filter.store().put(primary, result);
                filter.endFlight(primary, flight, result);
            });
        }
    }
}
