package io.gatehouse.cluster;

import io.netty.util.concurrent.Ticker;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One endpoint of a cluster: its identity (address, weight, backup) and all of its runtime state (health, ejection,
 * drain, in-flight requests, open connections, latency). This is the one place that state lives; load balancers,
 * health checks, outlier detection and the admin API read and write it here.
 *
 * <p>Thread-safety: counters are atomic; health fields are volatile and written by one party each
 * (HealthChecker: {@code activeHealthy}; OutlierDetector: {@code ejectedUntilNanos}; admin: drain/disable/weight).
 */
public final class Endpoint {
    private final String address;
    /** host:port for the Host header and TLS server name: the configured name, which may stand for several addresses. */
    private final String authority;
    /** Where the endpoint came from: static, dns, zookeeper or kubernetes (admin API). */
    private final String source;
    private final InetSocketAddress socketAddress;
    private final boolean backup;
    private final Ticker ticker;
    /** Stable 64-bit identity (from the address), used by hashing policies and sticky cookies. */
    private final long id;

    private volatile int weight;
    private volatile boolean activeHealthy = true;
    private volatile long ejectedUntilNanos;   // 0: not ejected
    private volatile int ejections;            // times ejected so far, for the growing ejection time
    private volatile boolean draining;         // admin: no new requests
    private volatile boolean disabled;         // admin: out of rotation
    /** When this endpoint last became available (added or recovered); slow start ramps from here. */
    private volatile long availableSinceNanos;
    /** Left its cluster (discovery or DNS dropped it): its connections close once idle instead of being pooled. */
    private volatile boolean retired;

    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger connections = new AtomicInteger();
    private final TrafficStats traffic = new TrafficStats();
    private final java.util.concurrent.atomic.AtomicLong healthTransitions = new java.util.concurrent.atomic.AtomicLong();

    // Peak-EWMA of response-header latency (Finagle/linkerd): jumps up on a slow response, decays with time.
    private static final double EWMA_DECAY_NANOS = 10e9;
    private volatile double ewmaNanos;         // read lock-free by load balancers
    private volatile long ewmaStampNanos;

    public Endpoint(String address, InetSocketAddress socketAddress, int weight, boolean backup, Ticker ticker) {
        this(address, address, "static", socketAddress, weight, backup, ticker);
    }

    /**
     * @param address   unique within the cluster (for a name, the resolved {@code ip:port})
     * @param authority {@code host:port} as configured: Host header and TLS server name
     * @param source    static, dns, zookeeper or kubernetes
     */
    public Endpoint(String address, String authority, String source, InetSocketAddress socketAddress, int weight,
                    boolean backup, Ticker ticker) {
        this.address = address;
        this.authority = authority;
        this.source = source;
        this.socketAddress = socketAddress;
        this.weight = weight;
        this.backup = backup;
        this.ticker = ticker;
        this.id = mix64(address.hashCode() * 0x9E3779B97F4A7C15L ^ address.length());
        this.availableSinceNanos = ticker.nanoTime();
        this.ewmaStampNanos = availableSinceNanos;
    }

    public String address() { return address; }
    public String authority() { return authority; }
    public String source() { return source; }
    public boolean retired() { return retired; }
    void retire() { this.retired = true; }
    public InetSocketAddress socketAddress() { return socketAddress; }
    public boolean backup() { return backup; }
    public long id() { return id; }
    public Ticker ticker() { return ticker; }

    /** Configured (or admin-set) weight, 1..1000. */
    public int weight() { return weight; }
    public void weight(int weight) { this.weight = weight; }

    /**
     * Weight to use now: the configured weight, ramped linearly from 10% over {@code slowStartNanos} after this
     * endpoint became available (0 disables the ramp).
     */
    public double effectiveWeight(long nowNanos, long slowStartNanos) {
        int w = weight;
        if (slowStartNanos <= 0) return w;
        long age = nowNanos - availableSinceNanos;
        if (age >= slowStartNanos) return w;
        double share = Math.max(0.1, (double) Math.max(0, age) / slowStartNanos);
        return w * share;
    }

    public long availableSinceNanos() { return availableSinceNanos; }
    public void markAvailableSince(long nowNanos) { this.availableSinceNanos = nowNanos; }

    public int inFlight() { return inFlight.get(); }
    public int incrementInFlight() { return inFlight.incrementAndGet(); }
    public int decrementInFlight() { return inFlight.decrementAndGet(); }

    /** Requests this endpoint answered (or failed) and their latency. */
    public TrafficStats traffic() { return traffic; }

    public int connections() { return connections.get(); }
    public void connectionOpened() { connections.incrementAndGet(); }
    public void connectionClosed() { connections.decrementAndGet(); }

    public boolean activeHealthy() { return activeHealthy; }
    public void activeHealthy(boolean healthy) {
        if (healthy != activeHealthy) healthTransitions.incrementAndGet();
        this.activeHealthy = healthy;
    }
    /** Times the active health verdict changed (either way); one writer, the health checker. */
    public long healthTransitions() { return healthTransitions.get(); }

    public boolean ejected(long nowNanos) {
        long until = ejectedUntilNanos;
        return until != 0 && nowNanos - until < 0;
    }
    public long ejectedUntilNanos() { return ejectedUntilNanos; }
    public void ejectUntil(long untilNanos) { this.ejectedUntilNanos = untilNanos; this.ejections = ejections + 1; }
    public void clearEjection() { this.ejectedUntilNanos = 0; }
    public int ejections() { return ejections; }

    public boolean draining() { return draining; }
    public void draining(boolean draining) { this.draining = draining; }
    public boolean disabled() { return disabled; }
    public void disabled(boolean disabled) { this.disabled = disabled; }

    /** Healthy by active checks, not ejected, not drained or disabled: may take new requests. */
    public boolean available(long nowNanos) {
        return activeHealthy && !draining && !disabled && !ejected(nowNanos);
    }

    /**
     * Records one response-header latency sample. Not locked: two event loops recording at once may lose one sample
     * of an average that is an estimate anyway, which is cheaper than a lock on every response.
     */
    public void recordLatency(long latencyNanos, long nowNanos) {
        long elapsed = Math.max(0, nowNanos - ewmaStampNanos);
        ewmaStampNanos = nowNanos;
        if (latencyNanos > ewmaNanos) {
            ewmaNanos = latencyNanos;
        } else {
            double w = Math.exp(-elapsed / EWMA_DECAY_NANOS);
            ewmaNanos = ewmaNanos * w + latencyNanos * (1 - w);
        }
    }

    /**
     * Peak-EWMA latency in nanoseconds now (0 before the first sample): the estimate decays with the time since its
     * last sample, as if that time had brought fast answers (Finagle's PeakEwma reads so), so an endpoint slow once is
     * tried again once enough time passed, not only after the others queue up.
     */
    public double ewmaNanos() { return ewmaNanos(ticker.nanoTime()); }

    /** {@link #ewmaNanos()} at {@code nowNanos}. */
    public double ewmaNanos(long nowNanos) {
        double ewma = ewmaNanos;
        long elapsed = nowNanos - ewmaStampNanos;
        return elapsed <= 0 ? ewma : ewma * Math.exp(-elapsed / EWMA_DECAY_NANOS);
    }

    @Override
    public String toString() { return address; }

    /** SplitMix64 finalizer: spreads bits so nearby inputs give unrelated hashes. */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
