package io.gatehouse.auth;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import io.gatehouse.clock.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An issuer's JWKS endpoint: fetched at start, refreshed in the background every {@code refresh} (so keys rotate
 * before the old ones go), and fetched at once when a token names a key we do not know, at most every
 * {@link #MISS_INTERVAL} (so unknown key ids cannot make us hammer the issuer). A failed fetch keeps the keys we have:
 * an issuer that is down fails no request whose key is already known. Fetches are asynchronous and bounded by a
 * timeout; nothing waits on an event loop.
 *
 * <p>The JDK's HTTP client does the fetching for now; it moves to the cluster's upstream client when that exists.
 */
public final class JwksSource implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JwksSource.class);
    static final Duration MISS_INTERVAL = Duration.ofSeconds(30);
    static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gatehouse-jwks");
        t.setDaemon(true);
        return t;
    });

    private final URI url;
    private final Duration refresh;
    private final Clock clock;
    private volatile List<JWK> keys = List.of();
    private volatile CompletableFuture<List<JWK>> inFlight;   // the fetch under way, shared by everyone waiting
    private volatile long lastMissFetchNanos = Long.MIN_VALUE;
    private volatile boolean closed;
    private final java.util.concurrent.ScheduledFuture<?> refresher;

    public JwksSource(String url, Duration refresh, Clock clock) {
        this.url = URI.create(url);
        this.refresh = refresh;
        this.clock = clock;
        fetch();
        this.refresher = TIMER.scheduleWithFixedDelay(() -> {
            if (!closed) fetch();
        }, refresh.toMillis(), refresh.toMillis(), TimeUnit.MILLISECONDS);
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
        HttpRequest request = HttpRequest.newBuilder(url).timeout(TIMEOUT).header("accept", "application/json").GET().build();
        CompletableFuture<List<JWK>> f = CLIENT.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> {
                    if (r.statusCode() != 200) throw new IllegalStateException("HTTP " + r.statusCode());
                    if (r.body().length() > 1 << 20) throw new IllegalStateException("a JWKS over 1 MiB");
                    try {
                        return JWKSet.parse(r.body()).getKeys().stream().map(JWK::toPublicJWK)
                                .filter(java.util.Objects::nonNull).toList();
                    } catch (java.text.ParseException e) {
                        throw new IllegalStateException("not a JWKS document: " + e.getMessage());
                    }
                })
                .handle((fetched, error) -> {
                    if (error == null) {
                        if (!fetched.equals(keys)) log.info("jwks {}: {} keys", url, fetched.size());
                        keys = fetched;
                    } else {
                        Throwable cause = error.getCause() != null ? error.getCause() : error;
                        log.warn("jwks {}: fetch failed ({}); keeping the {} keys we have", url, cause.toString(), keys.size());
                    }
                    return keys;
                });
        inFlight = f;
        return f;
    }

    @Override
    public void close() {
        closed = true;
        refresher.cancel(false);
    }
}
