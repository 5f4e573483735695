package io.gatehouse.cache;

import io.gatehouse.cache.CacheStrategy.Decision;
import io.gatehouse.clock.Clock;
import io.gatehouse.config.CacheConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.Cidrs;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code cache}: a shared HTTP cache in front of a route's origin (RFC 9111; decisions in {@link CacheStrategy}).
 * <ul>
 *   <li>a usable stored response is answered here ({@link LocalResponse}: the completion hooks, metering and the access
 *       log see it as any answer), with {@code Age}, {@code Cache-Status} (RFC 9211), optionally {@code X-Cache}, a
 *       304 for the client's own matching conditional, and 206 for ranges ({@link Ranges});</li>
 *   <li>a miss goes on to the origin with a sink in front of the client ({@link Fetch}) that copies the body into the
 *       store while it streams to the client, and drops the copy (never the client) when it grows past
 *       {@code max_object_size};</li>
 *   <li>a stale one is validated: its {@code ETag}/{@code Last-Modified} become {@code If-None-Match}/{@code
 *       If-Modified-Since} on the request, and a 304 updates it;</li>
 *   <li>concurrent misses of one key make one origin request; the others wait for it at most
 *       {@code coalesce_timeout}: they get the head at once and the body as it streams in when the response is
 *       storable ({@link StreamReader}; one that outgrows {@code max_object_size} midway is finished by a {@link
 *       Continuation} per waiter), else the stored response once it is complete, and go to the origin at once when
 *       it turns out uncacheable;</li>
 *   <li>with a disk tier, a memory miss the disk index holds is read off the event loop and the chain resumes on the
 *       exchange's loop ({@link DiskStore});</li>
 *   <li>unsafe methods (anything but GET, HEAD, OPTIONS, TRACE, unknown ones included) invalidate the target and the
 *       same-origin {@code Location}/{@code Content-Location} when the answer is not an error.</li>
 * </ul>
 */
public final class CacheFilter implements NamedFilter, AutoCloseable {
    static final AsciiString CACHE_STATUS = AsciiString.cached("cache-status");
    static final AsciiString X_CACHE = AsciiString.cached("x-cache");
    private static final HttpMethod PURGE = HttpMethod.valueOf("PURGE");

    final CacheConfig config;
    final CachePolicy policy;
    final RouteCache cache;
    final Clock clock;
    private final MeterRegistry meters;
    private final Cidrs purgeFrom;
    private final String route;
    private final BackgroundRefresh refresher;
    final io.gatehouse.cluster.Cluster origin;          // null: no cluster (a waiter past a truncated buffer then fails)
    private final String statusPrefix;                  // "NAME; ", once   // null (no cluster): stale-while-revalidate serves stale without a refresh

    public CacheFilter(CacheConfig config, FilterContext context) {
        this.config = config;
        this.clock = context.clock();
        this.route = context.route();
        this.meters = context.meters() != null ? context.meters() : new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        List<String> targets = new ArrayList<>(List.of(config.target()));
        if (!targets.contains("cdn-cache-control")) targets.add("cdn-cache-control");
        java.util.Set<String> useStale = config.staleOnError().isZero() ? java.util.Set.of() : java.util.Set.copyOf(config.useStale());
        this.policy = new CachePolicy(targets, config.ttlByStatus(), config.originCacheControl().equals("respect"), 0.1,
                config.heuristicMax(), config.staleOnError(), useStale, config.storeSetCookie());
        this.cache = RouteCache.acquire(meters, context.listener(), context.route(), config.maxSize(), config.disk());
        cache.key = config.key();
        this.purgeFrom = new Cidrs(config.purgeFrom());
        this.refresher = BackgroundRefresh.forRoute(context);
        this.origin = BackgroundRefresh.clusterOf(context);
        this.statusPrefix = config.statusName() + "; ";
    }

    @Override
    public String name() {
        return "cache";
    }

    @Override
    public void close() {
        cache.release(meters);
    }

    @Override
    public void filter(HttpExchange ex, FilterChain chain) {
        if (!config.enabled()) {
            chain.proceed(ex);
            return;
        }
        HttpMethod method = ex.request().method();
        if (method.equals(PURGE) && !purgeFrom.isEmpty()) {
            purge(ex);
            return;
        }
        boolean get = method.equals(HttpMethod.GET), head = method.equals(HttpMethod.HEAD);
        if (!get && !head) {
            if (!method.equals(HttpMethod.OPTIONS) && !method.equals(HttpMethod.TRACE)) invalidateOnSuccess(ex);
            chain.proceed(ex);
            return;
        }
        HttpHeaders request = ex.request().headers();
        String bypassed = bypassed(ex);
        if (bypassed != null) {
            cache.bypass.increment();
            ex.wrapResponse(next -> Fetch.labelOnly(next, this, "fwd=bypass; detail=" + bypassed, "BYPASS"));
            chain.proceed(ex);
            return;
        }
        lookup(ex, chain, head, false);
    }

    /** Decides for the exchange and acts; {@code collapsed}: it already waited for another's fetch. */
    void lookup(HttpExchange ex, FilterChain chain, boolean head, boolean collapsed) {
        HttpHeaders request = ex.request().headers();
        String primary = CacheKeys.primary(ex, config.key());
        String variant = CacheKeys.variant(store().varyOf(primary), request);
        CachedResponse stored = store().get(primary, variant);
        if (stored == null && store().onDisk(primary, variant)) {
            // a memory miss the disk index holds: read off the event loop, then decide on the exchange's loop
            chain.later(ex);
            store().load(primary, variant, policy).whenComplete((r, failure) -> ex.eventLoop().execute(() -> {
                if (ex.completed() || ex.clientGone()) return;
                decide(ex, chain, head, collapsed, primary, r);
            }));
            return;
        }
        decide(ex, chain, head, collapsed, primary, stored);
    }

    private void decide(HttpExchange ex, FilterChain chain, boolean head, boolean collapsed, String primary,
                        CachedResponse stored) {
        HttpHeaders request = ex.request().headers();
        long now = clock.currentTimeMillis();
        Decision d = CacheStrategy.decide(request, stored, now);
        switch (d.action()) {
            case SERVE -> {
                boolean stale = d.ttlSeconds() < 0 || d.stored().invalidated();
                (stale ? cache.stale : cache.hits).increment();
                if (stale) cache.staleServed.increment();
                cache.originSaved.increment();
                serve(ex, d.stored(), "hit; ttl=" + d.ttlSeconds() + (collapsed ? "; collapsed" : ""), stale ? "STALE" : "HIT", now);
            }
            case SERVE_STALE_REVALIDATE -> {
                cache.stale.increment();
                cache.staleServed.increment();
                cache.originSaved.increment();
                serve(ex, d.stored(), "hit; ttl=" + d.ttlSeconds() + "; detail=stale-while-revalidate", "STALE", now);
                refresh(ex, primary, d.stored());
            }
            case UNSATISFIABLE -> {
                var r = LocalResponse.error(HttpResponseStatus.GATEWAY_TIMEOUT, "only_if_cached");
                r.headers().set(CACHE_STATUS, statusValue(r.headers(), "fwd=" + d.fwd() + "; detail=only-if-cached"));
                LocalResponse.send(ex, r);
            }
            case VALIDATE, FETCH -> forward(ex, chain, head, collapsed, primary, d);
        }
    }

    private void forward(HttpExchange ex, FilterChain chain, boolean head, boolean collapsed, String primary, Decision d) {
        HttpHeaders request = ex.request().headers();
        // preconditions other than the cache's own are the origin's to judge: such a request is forwarded as it is
        if (request.contains(HttpHeaderNames.IF_MATCH) || request.contains(HttpHeaderNames.IF_UNMODIFIED_SINCE)) {
            ex.wrapResponse(next -> Fetch.labelOnly(next, this, "fwd=request; detail=precondition", "MISS"));
            chain.proceed(ex);
            return;
        }
        if (config.coalesce() && !collapsed) {
            Flight flight = cache.flights.get(primary);
            if (flight != null && wait(ex, chain, head, flight)) return;
            if (head) {
                // a HEAD never leads a flight: its answer has no body to store
                ex.wrapResponse(next -> Fetch.labelOnly(next, this, "fwd=" + d.fwd(), "MISS"));
                chain.proceed(ex);
                return;
            }
            Flight mine = new Flight();
            Flight other = cache.flights.putIfAbsent(primary, mine);
            if (other != null && wait(ex, chain, false, other)) return;
            if (other == null) {
                go(ex, chain, primary, d, mine);
                return;
            }
        }
        if (head) {
            ex.wrapResponse(next -> Fetch.labelOnly(next, this, "fwd=" + d.fwd(), "MISS"));
            chain.proceed(ex);
            return;
        }
        go(ex, chain, primary, d, null);
    }

    /**
     * Waits for {@code flight}; false when it already ended (the caller goes on). A plain GET (no range, no
     * conditional of its own) is served from the response as it streams in, when the flight streams it; others wait
     * for the stored response.
     */
    private boolean wait(HttpExchange ex, FilterChain chain, boolean head, Flight flight) {
        AtomicBoolean resumed = new AtomicBoolean();
        HttpHeaders request = ex.request().headers();
        boolean takesStream = !head && !request.contains(HttpHeaderNames.RANGE) && !request.contains(HttpHeaderNames.IF_NONE_MATCH)
                && !request.contains(HttpHeaderNames.IF_MODIFIED_SINCE);
        chain.later(ex);
        // the bound is on the server's clock, as every other timer the cache keeps (tests move it, never wait)
        boolean joined = flight.join(new Flight.Waiter() {
            @Override
            public void streaming(Flight.Stream stream) {
                // another variant than the leader's waits for the end and then decides for itself (a miss: its own fetch)
                if (!takesStream || !stream.selectedBy(request) || !resumed.compareAndSet(false, true)) return;
                ex.eventLoop().execute(() -> {
                    if (ex.completed() || ex.clientGone()) return;
                    new StreamReader(CacheFilter.this, ex, stream).start();
                });
            }

            @Override
            public void ended(CachedResponse stored) {
                if (!resumed.compareAndSet(false, true)) return;
                ex.eventLoop().execute(() -> {
                    if (ex.completed() || ex.clientGone()) return;
                    lookup(ex, chain, head, true);
                });
            }

            @Override
            public void timedOut() {
                ended(null);   // decides again: most likely a miss of its own
            }
        }, config.coalesceTimeout().toNanos(), clock, ex.eventLoop());
        if (!joined) return false;   // later() was said: the caller proceeds or answers now, which is allowed
        cache.coalesced.increment();
        return true;
    }

    /** Forwards to the origin with the stored validators, and stores what comes back. */
    private void go(HttpExchange ex, FilterChain chain, String primary, Decision d, Flight flight) {
        HttpHeaders request = ex.request().headers();
        CachedResponse stored = d.stored();
        String clientInm = request.get(HttpHeaderNames.IF_NONE_MATCH);
        String clientIms = request.get(HttpHeaderNames.IF_MODIFIED_SINCE);
        if (stored != null) {
            // the cache validates its own copy; the client's conditionals are answered from it afterwards
            request.remove(HttpHeaderNames.IF_NONE_MATCH);
            request.remove(HttpHeaderNames.IF_MODIFIED_SINCE);
            if (stored.etag() != null) request.set(HttpHeaderNames.IF_NONE_MATCH, stored.etag());
            if (stored.lastModified() != null) request.set(HttpHeaderNames.IF_MODIFIED_SINCE, stored.lastModified());
        }
        // a range of a whole response is cut here; the origin is asked for the whole, so it can be stored
        String range = request.get(HttpHeaderNames.RANGE);
        String ifRange = request.get(HttpHeaderNames.IF_RANGE);
        request.remove(HttpHeaderNames.RANGE);
        request.remove(HttpHeaderNames.IF_RANGE);
        Fetch fetch = new Fetch(this, ex, primary, stored, d.fwd(), flight, clock.currentTimeMillis(), clientInm, clientIms, range, ifRange);
        ex.wrapResponse(fetch::wrap);
        ex.onComplete(e -> fetch.completed());
        chain.proceed(ex);
    }

    // ---- answering from the store ----

    /** Answers {@code ex} from {@code r}: 304 for a matching conditional, 206 for a range, else the stored response. */
    void serve(HttpExchange ex, CachedResponse r, String status, String xCache, long now) {
        serve(ex, r, status, xCache, now, ex.request().headers().get(HttpHeaderNames.IF_NONE_MATCH),
                ex.request().headers().get(HttpHeaderNames.IF_MODIFIED_SINCE),
                ex.request().headers().get(HttpHeaderNames.RANGE), ex.request().headers().get(HttpHeaderNames.IF_RANGE));
    }

    void serve(HttpExchange ex, CachedResponse r, String status, String xCache, long now, String inm, String ims,
               String range, String ifRange) {
        boolean head = ex.request().method().equals(HttpMethod.HEAD);
        var response = Answers.from(r, head, inm, ims, range, ifRange);
        long age = CacheStrategy.currentAgeMillis(r, now) / 1000;
        response.headers().set(HttpHeaderNames.AGE, Math.min(age, Directives.MAX_DELTA));
        label(response.headers(), status, xCache);
        cache.hitBytes.increment(response.content().readableBytes());
        LocalResponse.send(ex, response);
    }

    void label(HttpHeaders headers, String status, String xCache) {
        headers.set(CACHE_STATUS, statusValue(headers, status));
        if (config.xCache()) headers.set(X_CACHE, xCache);
        // the targeted field meant for this cache goes no further (RFC 9213 §2.1); CDN-Cache-Control may serve others
        if (!config.target().equals("cdn-cache-control")) headers.remove(config.target());
        // purge tags are for this cache (kept in the store), not for clients, as CDNs do with them
        headers.remove("surrogate-key");
        headers.remove("cache-tag");
    }

    /** This cache's member appended to any Cache-Status from caches nearer the origin (RFC 9211 §2). */
    String statusValue(HttpHeaders headers, String params) {
        String mine = statusPrefix + params;
        if (!headers.contains(CACHE_STATUS)) return mine;   // the usual case: no list made
        return String.join(", ", headers.getAll(CACHE_STATUS)) + ", " + mine;
    }

    /** Refreshes {@code stale} in the background, once per key at a time ({@link RouteCache#claimRefresh}). */
    private void refresh(HttpExchange ex, String primary, CachedResponse stale) {
        if (refresher == null) return;
        Flight mine = cache.claimRefresh(primary, stale);
        if (mine != null) refresher.refresh(this, ex, primary, stale, mine);
    }

    /** Ends {@code flight} of {@code primary} (once): its waiters get {@code entry}, or go to the origin on null. */
    void endFlight(String primary, Flight flight, CachedResponse entry) {
        if (flight == null || flight.ended()) return;
        cache.flights.remove(primary, flight);
        flight.end(entry);
    }

    CacheStore store() {
        return cache.store;
    }

    // ---- bypass, invalidation, purge ----

    private String bypassed(HttpExchange ex) {
        for (String b : config.bypass()) {
            if (b.startsWith("header:") && ex.request().headers().contains(b.substring(7))) return "header";
            if (b.startsWith("cookie:") && CacheKeys.cookie(ex.request().headers(), b.substring(7)) != null) return "cookie";
        }
        return null;
    }

    private void invalidateOnSuccess(HttpExchange ex) {
        String url = CacheKeys.url(ex, config.key());
        String origin = CacheKeys.origin(ex);
        ex.wrapResponse(next -> Fetch.invalidating(next, this, url, origin));
    }

    private void purge(HttpExchange ex) {
        java.net.InetAddress client = ex.clientAddress();
        if (client == null || !purgeFrom.contains(client)) {
            LocalResponse.send(ex, LocalResponse.problem(HttpResponseStatus.FORBIDDEN, "purge_not_allowed",
                    "PURGE is not allowed from this address"));
            return;
        }
        boolean soft = "soft".equalsIgnoreCase(ex.request().headers().get("gatehouse-purge"));
        int n = store().purgeUrl(CacheKeys.url(ex, config.key()), soft);
        var r = LocalResponse.text(HttpResponseStatus.OK, "{\"purged\":" + n + ",\"soft\":" + soft + "}\n", "application/json");
        LocalResponse.send(ex, r);
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    String routeName() {
        return route;
    }
}
