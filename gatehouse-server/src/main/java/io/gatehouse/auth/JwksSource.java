package io.gatehouse.auth;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import io.gatehouse.clock.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.InternalClusters;
import io.gatehouse.cluster.UpstreamClient;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An issuer's JWKS endpoint: fetched at start, refreshed in the background before the fetched set expires (at three
 * quarters of its {@code Cache-Control: max-age}, between {@link #MIN_REFRESH} and {@code refresh}; every
 * {@code refresh} when it states none), so keys rotate before the old ones go, and fetched at once when a token names a key we do not know, at most every
 * {@link #MISS_INTERVAL} (so unknown key ids cannot make us hammer the issuer). A failed fetch keeps the keys we have:
 * an issuer that is down fails no request whose key is already known. Fetches are asynchronous and bounded by a
 * timeout; nothing waits on an event loop.
 *
 * <p>Fetches go through a cluster's {@link UpstreamClient}: the one named by {@code jwks_cluster}, or an implicit
 * internal cluster for the URL's host (TLS by scheme, {@link #TIMEOUT} to connect and for the response), made off the
 * event loops and closed with this source.
 */
public final class JwksSource implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JwksSource.class);
    static final Duration MISS_INTERVAL = Duration.ofSeconds(30);
    /** The soonest a background refresh comes again, whatever max-age says; also the retry after a failed one. */
    static final Duration MIN_REFRESH = Duration.ofSeconds(30);
    /** How often the refresher looks at the clock: due times are on the server's clock, so tests move them. */
    static final Duration TICK = Duration.ofMillis(200);
    private static final java.util.regex.Pattern MAX_AGE = java.util.regex.Pattern.compile("(?i)(?:^|[,\\s])max-age\\s*=\\s*\"?(\\d{1,10})");
    static final Duration TIMEOUT = Duration.ofSeconds(5);
    static final int MAX_BYTES = 1 << 20;
    /** Refreshes, making implicit clusters (DNS) and parsing responses: never on an event loop. */
    static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gatehouse-jwks");
        t.setDaemon(true);
        return t;
    });

    private final String url;
    private final Cluster named;                    // jwks_cluster, or null
    private final InternalClusters internal;
    private volatile Cluster implicit;              // made for the URL's host when no cluster is named; ours to close
    private final Duration refresh;
    private final Clock clock;
    private volatile List<JWK> keys = List.of();
    private volatile CompletableFuture<List<JWK>> inFlight;   // the fetch under way, shared by everyone waiting
    private volatile long lastMissFetchNanos = Long.MIN_VALUE;
    private volatile long nextRefreshNanos;                   // on the clock: when the background refresh is due
    private final java.util.concurrent.atomic.AtomicLong failedFetches = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean closed;
    private final java.util.concurrent.ScheduledFuture<?> refresher;

    /** Fetches through an implicit cluster for the URL's host, outside a running server. */
    public JwksSource(String url, Duration refresh, Clock clock) {
        this(url, refresh, clock, null, InternalClusters.standalone());
    }

    /**
     * @param named    the cluster to fetch through ({@code jwks_cluster}), or null for an implicit one
     * @param internal makes the implicit cluster
     */
    public JwksSource(String url, Duration refresh, Clock clock, Cluster named, InternalClusters internal) {
        this.url = url;
        this.named = named;
        this.internal = internal;
        this.refresh = refresh;
        this.clock = clock;
        this.nextRefreshNanos = clock.nanoTime() + refresh.toNanos();
        fetch();
        this.refresher = TIMER.scheduleWithFixedDelay(() -> {
            if (!closed && clock.nanoTime() - nextRefreshNanos >= 0) {
                nextRefreshNanos = clock.nanoTime() + MIN_REFRESH.toNanos();   // no second start while this one runs
                fetch();
            }
        }, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Fetches that failed (the endpoint down, a bad answer, a timeout) since start; each is also logged. */
    public long failedFetches() {
        return failedFetches.get();
    }

    /** When the set fetched now is due again: three quarters of its max-age, within [MIN_REFRESH, refresh]. */
    private long refreshAfterNanos(io.netty.handler.codec.http.HttpHeaders headers) {
        String cc = headers == null ? null : headers.get("cache-control");
        java.util.regex.Matcher m = cc == null ? null : MAX_AGE.matcher(cc);
        if (m == null || !m.find()) return refresh.toNanos();
        long nanos = TimeUnit.SECONDS.toNanos(Long.parseLong(m.group(1))) / 4 * 3;
        return Math.max(MIN_REFRESH.toNanos(), Math.min(refresh.toNanos(), nanos));
    }

    /** The keys as last fetched. */
    public List<JWK> keys() {
        return keys;
    }

    /** A fetch has completed at least once (whatever it found). */
    public boolean loaded() {
        CompletableFuture<List<JWK>> f = inFlight;
        return f != null && f.isDone();
    }

    /**
     * A token named a key we do not have: fetch again unless that was done within {@link #MISS_INTERVAL} (then the
     * current fetch, or the keys as they are). Completes with the keys after it.
     */
    public CompletableFuture<List<JWK>> refreshForUnknownKey() {
        long now = clock.nanoTime();
        CompletableFuture<List<JWK>> f = inFlight;
        if (f != null && !f.isDone()) return f;
        if (lastMissFetchNanos != Long.MIN_VALUE && now - lastMissFetchNanos < MISS_INTERVAL.toNanos()) {
            return CompletableFuture.completedFuture(keys);
        }
        lastMissFetchNanos = now;
        return fetch();
    }

    /** The first fetch, for a token that arrives before it completed. */
    public CompletableFuture<List<JWK>> firstLoad() {
        CompletableFuture<List<JWK>> f = inFlight;
        return f == null ? fetch() : f;
    }

    private synchronized CompletableFuture<List<JWK>> fetch() {
        CompletableFuture<List<JWK>> current = inFlight;
        if (current != null && !current.isDone()) return current;
        Cluster c = named != null ? named : implicit;
        // the implicit cluster resolves its host when made: never on an event loop (a fetch for an unknown key starts there)
        CompletableFuture<Cluster> cluster = c != null ? CompletableFuture.completedFuture(c)
                : CompletableFuture.supplyAsync(this::implicitCluster, TIMER);
        UpstreamClient.Request request = UpstreamClient.Request.get(InternalClusters.target(url))
                .withHeaders(java.util.Map.of("accept", "application/json", "host", InternalClusters.host(url)))
                .withTimeout(TIMEOUT).withMaxResponseBytes(MAX_BYTES);
        CompletableFuture<List<JWK>> f = cluster.thenCompose(cl -> cl.client().send(request))
                .thenApplyAsync(r -> {   // parsed off the event loop the response completed on
                    if (r.status() != 200) throw new IllegalStateException("HTTP " + r.status());
                    try {
                        List<JWK> parsed = JWKSet.parse(r.bodyText()).getKeys().stream().map(JWK::toPublicJWK)
                                .filter(java.util.Objects::nonNull).toList();
                        nextRefreshNanos = clock.nanoTime() + refreshAfterNanos(r.headers());
                        return parsed;
                    } catch (java.text.ParseException e) {
                        throw new IllegalStateException("not a JWKS document: " + e.getMessage());
                    }
                }, TIMER)
                .handle((fetched, error) -> {
                    if (error == null) {
                        if (!fetched.equals(keys)) log.info("jwks {}: {} keys", url, fetched.size());
                        keys = fetched;
                    } else {
                        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                                ? error.getCause() : error;
                        if (cause instanceof UpstreamClient.Failure failure && failure.reason().equals("response_too_large")) {
                            cause = new IllegalStateException("a JWKS over 1 MiB");
                        }
                        failedFetches.incrementAndGet();
                        // retried soon (not after a whole refresh), so the keys catch up as soon as the issuer is back
                        nextRefreshNanos = clock.nanoTime() + Math.min(refresh.toNanos(), MIN_REFRESH.toNanos());
                        log.warn("jwks {}: fetch failed ({}); keeping the {} keys we have", url, cause.toString(), keys.size());
                    }
                    return keys;
                });
        inFlight = f;
        return f;
    }

    private synchronized Cluster implicitCluster() {
        if (implicit == null && !closed) implicit = internal.forUrl(url, TIMEOUT);
        if (implicit == null) throw new IllegalStateException("closed");
        return implicit;
    }

    @Override
    public void close() {
        closed = true;
        refresher.cancel(false);
        Cluster c;
        synchronized (this) {
            c = implicit;
            implicit = null;
        }
        if (c != null) c.close();
    }
}
