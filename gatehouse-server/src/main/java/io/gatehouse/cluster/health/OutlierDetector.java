package io.gatehouse.cluster.health;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ClusterConfig.OutlierDetectionConfig;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Ticker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Passive health for one cluster (Envoy's outlier detection): ejects endpoints that fail live traffic.
 *
 * <p>The proxy reports every attempt's outcome from its event loops: {@link #onSuccess} (a non-5xx response),
 * {@link #on5xx} (a 5xx response) or {@link #onGatewayFailure} (connect failure, reset, timeout). As in Envoy, a
 * gateway failure also counts as a 5xx, and any response breaks a run of gateway failures. When a run reaches
 * {@code consecutive_5xx} or {@code consecutive_gateway_failures} (0 disables that trigger) the endpoint is ejected
 * for {@code min(base_ejection_time × n, max_ejection_time)}, n being its ejection count including this one.
 *
 * <p>{@code max_ejection_percent} bounds the share of the cluster ejected at once, with a floor of one endpoint when
 * it is above 0 (Envoy's rule: a small cluster can still eject its one bad endpoint); 0 never ejects.
 *
 * <p>Ejections end by time ({@link Endpoint#available(long)} compares with the ticker). The detector also schedules
 * a task on {@code scheduler} at each expiry that clears the ejection, restarts slow start
 * ({@link Endpoint#markAvailableSince(long)}) and calls {@code onChange}, so the cluster learns of the return without
 * polling. The scheduler's clock and {@code ticker} must agree (both the system clock in production).
 *
 * <p>Thread-safety: counters are atomic so the hot path takes no lock; the rare ejection decision is made under a
 * lock, so concurrent failures crossing a threshold eject once.
 */
public final class OutlierDetector implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OutlierDetector.class);

    private final String clusterName;
    private final OutlierDetectionConfig config;
    private final List<Endpoint> endpoints;
    private final Ticker ticker;
    private final EventExecutor scheduler;
    private final Runnable onChange;
    private final HealthEvents events;
    private final long baseNanos;
    private final long maxNanos;
    private final Map<Endpoint, Tracker> trackers = new IdentityHashMap<>();   // not modified after construction
    private boolean closed;   // guarded by this

    /** Per-endpoint run lengths; the expiry task is guarded by the detector's lock. */
    private static final class Tracker {
        final AtomicInteger consecutive5xx = new AtomicInteger();
        final AtomicInteger consecutiveGatewayFailures = new AtomicInteger();
        ScheduledFuture<?> expiry;

        void reset() {
            consecutive5xx.set(0);
            consecutiveGatewayFailures.set(0);
        }
    }

    /**
     * @param scheduler runs the expiry tasks (any event loop)
     * @param onChange  called when an endpoint is ejected (on the reporting event loop) or returns (on
     *                  {@code scheduler}); must be quick, must not block, and may run on several threads at once
     */
    public OutlierDetector(String clusterName, OutlierDetectionConfig config, List<Endpoint> endpoints, Ticker ticker,
                           EventExecutor scheduler, Runnable onChange) {
        this(clusterName, config, endpoints, ticker, scheduler, onChange, HealthEvents.NONE);
    }

    /** As above; {@code events} is told of every ejection and return, besides the log. */
    public OutlierDetector(String clusterName, OutlierDetectionConfig config, List<Endpoint> endpoints, Ticker ticker,
                           EventExecutor scheduler, Runnable onChange, HealthEvents events) {
        this.clusterName = clusterName;
        this.events = events;
        this.config = config;
        this.endpoints = List.copyOf(endpoints);
        this.ticker = ticker;
        this.scheduler = scheduler;
        this.onChange = onChange;
        this.baseNanos = config.baseEjectionTime().toNanos();
        this.maxNanos = Math.max(baseNanos, config.maxEjectionTime().toNanos());
        for (Endpoint endpoint : this.endpoints) trackers.put(endpoint, new Tracker());
        // Endpoints carried over from a previous detector (config reload) still need their return announced.
        synchronized (this) {
            long now = ticker.nanoTime();
            for (Endpoint endpoint : this.endpoints) {
                long until = endpoint.ejectedUntilNanos();
                if (until != 0) scheduleExpiry(endpoint, trackers.get(endpoint), until, until - now);
            }
        }
    }

    /** A non-5xx response: ends both runs. */
    public void onSuccess(Endpoint endpoint) {
        Tracker t = trackers.get(endpoint);
        if (t == null) return;
        // Read before write: the common case (already 0) then leaves the cache line shared between event loops.
        if (t.consecutive5xx.get() != 0) t.consecutive5xx.set(0);
        if (t.consecutiveGatewayFailures.get() != 0) t.consecutiveGatewayFailures.set(0);
    }

    /** A 5xx response from the endpoint. */
    public void on5xx(Endpoint endpoint) {
        Tracker t = trackers.get(endpoint);
        if (t == null) return;
        if (t.consecutiveGatewayFailures.get() != 0) t.consecutiveGatewayFailures.set(0);
        int run = t.consecutive5xx.incrementAndGet();
        int threshold = config.consecutive5xx();
        if (threshold > 0 && run >= threshold) tryEject(endpoint, t, run + " consecutive 5xx", run == threshold);
    }

    /** No usable response: connect failure, connection reset, or timeout. */
    public void onGatewayFailure(Endpoint endpoint) {
        Tracker t = trackers.get(endpoint);
        if (t == null) return;
        int gateway = t.consecutiveGatewayFailures.incrementAndGet();
        int run5xx = t.consecutive5xx.incrementAndGet();
        int gatewayThreshold = config.consecutiveGatewayFailures();
        int threshold5xx = config.consecutive5xx();
        if (gatewayThreshold > 0 && gateway >= gatewayThreshold) {
            tryEject(endpoint, t, gateway + " consecutive gateway " + (gateway == 1 ? "failure" : "failures"),
                    gateway == gatewayThreshold);
        } else if (threshold5xx > 0 && run5xx >= threshold5xx) {
            tryEject(endpoint, t, run5xx + " consecutive 5xx", run5xx == threshold5xx);
        }
    }

    /** Run lengths and ejection state of {@code endpoint}, or null if it is not in this cluster. */
    public OutlierStatus status(Endpoint endpoint) {
        Tracker t = trackers.get(endpoint);
        if (t == null) return null;
        return new OutlierStatus(t.consecutive5xx.get(), t.consecutiveGatewayFailures.get(), endpoint.ejections(),
                endpoint.ejectedUntilNanos());
    }

    /** Cancels pending expiry tasks. Ejections in force stay on the endpoints and end by time. */
    @Override
    public synchronized void close() {
        closed = true;
        for (Tracker t : trackers.values()) {
            if (t.expiry != null) {
                t.expiry.cancel(false);
                t.expiry = null;
            }
        }
    }

    /** Whether one more endpoint may be ejected while {@code ejected} of {@code size} already are. */
    static boolean mayEject(int ejected, int size, int maxEjectionPercent) {
        if (maxEjectionPercent <= 0) return false;
        if (ejected == 0) return true;
        return (long) (ejected + 1) * 100 <= (long) maxEjectionPercent * size;
    }

    /** {@code min(base × n, max)} without overflow. */
    static long ejectionNanos(long baseNanos, long maxNanos, int n) {
        if (n <= 0) return baseNanos;
        return baseNanos > maxNanos / n ? maxNanos : Math.min(baseNanos * n, maxNanos);
    }

    private void tryEject(Endpoint endpoint, Tracker t, String reason, boolean firstCrossing) {
        long duration;
        int n;
        synchronized (this) {
            if (closed) return;
            long now = ticker.nanoTime();
            if (endpoint.ejected(now)) {
                t.reset();   // a late failure of a request sent before the ejection: already handled
                return;
            }
            int ejected = 0;
            for (Endpoint e : endpoints) if (e.ejected(now)) ejected++;
            if (!mayEject(ejected, endpoints.size(), config.maxEjectionPercent())) {
                // The run keeps counting, so the next failure tries again once another endpoint returns.
                if (firstCrossing) {
                    log.info("outlier: cluster={} endpoint={} not ejected ({}): max_ejection_percent {} reached, {} of {} ejected",
                            clusterName, endpoint.address(), reason, config.maxEjectionPercent(), ejected, endpoints.size());
                }
                return;
            }
            n = endpoint.ejections() + 1;
            duration = ejectionNanos(baseNanos, maxNanos, n);
            long until = now + duration;
            if (until == 0) until = 1;   // 0 means "not ejected" in Endpoint
            endpoint.ejectUntil(until);
            t.reset();
            scheduleExpiry(endpoint, t, until, duration);
        }
        String message = "ejected for " + HealthChecker.humanDuration(Duration.ofNanos(duration)) + " (" + reason
                + "; ejection #" + n + ")";
        log.warn("outlier: cluster={} endpoint={} {}", clusterName, endpoint.address(), message);
        tell(endpoint, true, message);
        notifyChange();
    }

    /** Caller holds the lock. */
    private void scheduleExpiry(Endpoint endpoint, Tracker t, long until, long delayNanos) {
        if (t.expiry != null) t.expiry.cancel(false);
        try {
            t.expiry = scheduler.schedule(() -> expire(endpoint, t, until), Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            t.expiry = null;   // shutting down: the ejection still ends by time
        }
    }

    private void expire(Endpoint endpoint, Tracker t, long until) {
        synchronized (this) {
            if (closed || endpoint.ejectedUntilNanos() != until) return;   // closed, cleared or superseded
            long now = ticker.nanoTime();
            if (endpoint.ejected(now)) {   // woke early (timer granularity): wait for the rest
                scheduleExpiry(endpoint, t, until, until - now);
                return;
            }
            t.expiry = null;
            endpoint.clearEjection();
            endpoint.markAvailableSince(now);
            t.reset();
        }
        String message = "returned after ejection #" + endpoint.ejections();
        log.info("outlier: cluster={} endpoint={} {}", clusterName, endpoint.address(), message);
        tell(endpoint, false, message);
        notifyChange();
    }

    private void tell(Endpoint endpoint, boolean ejected, String message) {
        try {
            events.ejectionChanged(clusterName, endpoint.address(), ejected, message);
        } catch (RuntimeException e) {
            log.error("outlier: cluster={} event listener failed", clusterName, e);
        }
    }

    private void notifyChange() {
        try {
            onChange.run();
        } catch (RuntimeException e) {
            log.error("outlier: cluster={} change listener failed", clusterName, e);
        }
    }
}
