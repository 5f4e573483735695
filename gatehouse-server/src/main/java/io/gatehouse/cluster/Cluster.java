package io.gatehouse.cluster;

import io.gatehouse.cluster.health.HealthChecker;
import io.gatehouse.cluster.health.HealthEvents;
import io.gatehouse.cluster.health.HealthStatus;
import io.gatehouse.cluster.health.OutlierDetector;
import io.gatehouse.cluster.loadbalancer.HashKey;
import io.gatehouse.cluster.loadbalancer.LoadBalancer;
import io.gatehouse.cluster.loadbalancer.StickyCookie;
import io.gatehouse.cluster.loadbalancer.PickContext;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.ClusterConfig.EndpointConfig;

import io.gatehouse.transport.Transport;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Ticker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The runtime of one configured cluster, and the one place its changing state lives: endpoints (with health,
 * ejection, in-flight and latency), the load balancer over the endpoints available now, the connection pools, and
 * the counters behind circuit breaking and the retry budget.
 */
public final class Cluster {
    private static final Logger log = LoggerFactory.getLogger(Cluster.class);

    private final ClusterConfig config;
    private volatile List<Endpoint> endpoints;                // replaced whole by updateEndpoints, never mutated
    private volatile Map<String, EndpointSpec> specs;         // what each endpoint was built from, by address
    private AutoCloseable source;                             // guarded by this; null: the file's static list
    private final HealthEvents events;
    private final Ticker ticker;
    private final Transport transport;
    private final EventLoopGroup group;           // the server's event loops: internal calls run on them
    private final ConcurrentHashMap<EventLoop, ConnectionPool> pools = new ConcurrentHashMap<>();
    private volatile HealthChecker healthChecker;  // null without health_check; replaced with the endpoints
    private final io.gatehouse.tls.UpstreamTls tls; // null: plain connections to the endpoints
    private volatile OutlierDetector outlierDetector;
    private volatile Selection selection;
    private volatile boolean closed;

    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger retries = new AtomicInteger();
    private final AtomicLong overflows = new AtomicLong();
    private final AtomicLong retryBudgetExhausted = new AtomicLong();
    private final java.util.concurrent.atomic.LongAdder retriesStarted = new java.util.concurrent.atomic.LongAdder();
    /** When the retry budget was last reported exhausted in the log (rate limit); MIN_VALUE: never. */
    private final AtomicLong budgetLoggedNanos = new AtomicLong(Long.MIN_VALUE);
    private static final long BUDGET_LOG_EVERY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    private final TrafficStats traffic;
    private final UpstreamClient client = new UpstreamClient(this);

    /** What the load balancer picks from right now, and whether it is the panic set. */
    private record Selection(LoadBalancer loadBalancer, List<Endpoint> members, boolean panic, boolean backups,
                             boolean ejectionsIgnored) {
        Selection(LoadBalancer loadBalancer, List<Endpoint> members, boolean panic, boolean backups) {
            this(loadBalancer, members, panic, backups, false);
        }

        int available() { return members.size(); }
    }

    private final HashKey hashKey;            // null unless ring_hash/maglev
    private final StickyCookie stickyCookie;  // null unless sticky_cookie

    /** Builds the cluster and starts its health checking on {@code group}. */
    public Cluster(ClusterConfig config, Ticker ticker, Transport transport, EventLoopGroup group) {
        this(config, ticker, transport, group, null, HealthEvents.NONE);
    }

    /**
     * Builds the cluster that replaces {@code previous} (same name, changed config; null for a new cluster) and
     * starts its health checking. Endpoints of {@code previous} with the same address (resolving to the same socket
     * address) and backup flag are adopted, not rebuilt: they keep their health verdict, ejection, drain, disable,
     * admin weight (unless the configured weight changed), counters and traffic stats, and so do the cluster's
     * traffic stats. The caller closes {@code previous} once this one is in service.
     */
    public Cluster(ClusterConfig config, Ticker ticker, Transport transport, EventLoopGroup group, Cluster previous,
                   HealthEvents events) {
        this(config, ticker, transport, group, previous, events, configured(config));
    }

    /**
     * As above, starting with {@code initial} endpoints: those a source of endpoints (DNS, a registry) found, which
     * then keeps them current through {@link #updateEndpoints}.
     */
    public Cluster(ClusterConfig config, Ticker ticker, Transport transport, EventLoopGroup group, Cluster previous,
                   HealthEvents events, List<EndpointSpec> initial) {
        this.config = config;
        this.ticker = ticker;
        this.transport = transport;
        this.group = group;
        this.events = events;
        Members members = previous == null ? adopt(initial, List.of(), Map.of(), null)
                : adopt(initial, previous.endpoints, previous.specs, previous.healthChecker);
        this.endpoints = members.list();
        this.specs = members.specs();
        this.traffic = previous != null ? previous.traffic : new TrafficStats();
        this.tls = io.gatehouse.tls.UpstreamTls.create(config.name(), config.tls());
        this.hashKey = config.loadBalancer().hash() == null ? null : new HashKey(config.loadBalancer().hash());
        this.stickyCookie = config.loadBalancer().stickyCookie() == null ? null : new StickyCookie(config.loadBalancer().stickyCookie());
        refresh();
        this.outlierDetector = new OutlierDetector(config.name(), config.outlierDetection(), endpoints, ticker,
                group.next(), this::refresh, events);
        this.healthChecker = healthChecker(members.resumed());
        if (healthChecker != null) healthChecker.start();
    }

    /** The endpoints the file lists, resolved as they are now (a name blocks: never call on an event loop). */
    public static List<EndpointSpec> configured(ClusterConfig config) {
        List<EndpointSpec> out = new ArrayList<>();
        for (EndpointConfig ec : config.endpoints()) {
            InetSocketAddress resolved = io.gatehouse.config.HostPort.parse(ec.address(), false).resolve();
            out.add(new EndpointSpec(ec.address(), ec.address(), resolved, ec.weight(), ec.backup(), "static"));
        }
        return out;
    }

    private HealthChecker healthChecker(Map<Endpoint, HealthStatus> resumed) {
        if (config.healthCheck() == null) return null;
        return new HealthChecker(config.name(), config.healthCheck(), endpoints, group, client, ticker,
                this::refresh, resumed, events);
    }

    /** The endpoint list built from {@code wanted}, adopting those of {@code had} that match; health carried over. */
    private record Members(List<Endpoint> list, Map<String, EndpointSpec> specs, Map<Endpoint, HealthStatus> resumed) {}

    private Members adopt(List<EndpointSpec> wanted, List<Endpoint> had, Map<String, EndpointSpec> hadSpecs,
                          HealthChecker checker) {
        List<Endpoint> list = new ArrayList<>();
        Map<String, EndpointSpec> specs = new java.util.LinkedHashMap<>();
        Map<Endpoint, HealthStatus> resumed = new java.util.HashMap<>();
        for (EndpointSpec spec : wanted) {
            if (specs.putIfAbsent(spec.address(), spec) != null) continue;   // two names for one address: one endpoint
            Endpoint old = null;
            for (Endpoint e : had) if (e.address().equals(spec.address())) old = e;
            if (old != null && spec.matches(old)) {
                EndpointSpec was = hadSpecs.get(spec.address());
                if (was != null && was.weight() != spec.weight()) old.weight(spec.weight());   // the source changed it: source wins
                if (checker != null && checker.status(old) != null) resumed.put(old, checker.status(old));
                // with health checks gone from the config nothing would ever vouch for it again
                if (config.healthCheck() == null && !old.activeHealthy()) old.activeHealthy(true);
                list.add(old);
            } else {
                list.add(new Endpoint(spec.address(), spec.authority(), spec.source(), spec.socketAddress(), spec.weight(),
                        spec.backup(), ticker));
            }
        }
        return new Members(List.copyOf(list), java.util.Collections.unmodifiableMap(specs), resumed);
    }

    /**
     * Replaces the endpoints at runtime, without a reload: what a source of endpoints (DNS, ZooKeeper, Kubernetes)
     * calls when its view changed. The path a reload takes, narrowed to the endpoints: those still present keep their
     * state (health, ejection, drain, stats, pooled connections); new ones are health checked and watched by outlier
     * detection like any other; those gone take no new requests, their exchanges in flight finish, and their
     * connections close once idle. Returns false when nothing changed.
     */
    public boolean updateEndpoints(List<EndpointSpec> wanted) {
        HealthChecker oldChecker;
        HealthChecker newChecker;
        OutlierDetector oldDetector;
        List<Endpoint> gone = new ArrayList<>();
        int added;
        synchronized (this) {
            if (closed || unchanged(wanted)) return false;
            Members members = adopt(wanted, endpoints, specs, healthChecker);
            java.util.Set<Endpoint> kept = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            kept.addAll(members.list());
            for (Endpoint e : endpoints) if (!kept.contains(e)) gone.add(e);
            added = members.list().size() - (endpoints.size() - gone.size());
            endpoints = members.list();
            specs = members.specs();
            gone.forEach(Endpoint::retire);
            oldDetector = outlierDetector;
            outlierDetector = new OutlierDetector(config.name(), config.outlierDetection(), endpoints, ticker,
                    group.next(), this::refresh, events);
            oldChecker = healthChecker;
            healthChecker = newChecker = healthChecker(members.resumed());
            refresh();
        }
        if (newChecker != null) newChecker.start();   // after close() it starts nothing
        if (oldChecker != null) oldChecker.close();
        oldDetector.close();
        if (!gone.isEmpty()) pools.forEach((loop, pool) -> loop.execute(() -> pool.closeIdle(gone)));
        log.info("cluster {}: endpoints changed: {} now, {} added, {} removed {}", name(), endpoints.size(), added,
                gone.size(), gone);
        return true;
    }

    private boolean unchanged(List<EndpointSpec> wanted) {
        Map<String, EndpointSpec> next = new java.util.HashMap<>();
        for (EndpointSpec s : wanted) next.putIfAbsent(s.address(), s);
        return next.equals(new java.util.HashMap<>(specs));
    }

    /** What the endpoints were built from, in the cluster's order. */
    public List<EndpointSpec> endpointSpecs() {
        return List.copyOf(specs.values());
    }

    /** The source that keeps the endpoints current (DNS, a registry), or null for the file's static list. */
    public synchronized AutoCloseable source() {
        return source;
    }

    /**
     * Stops with the cluster: the source that keeps its endpoints current (DNS re-resolution, a registry watch).
     */
    public void source(AutoCloseable source) {
        boolean closeNow;
        synchronized (this) {
            this.source = source;
            closeNow = closed;
        }
        if (closeNow) closeSource();
    }

    public String name() { return config.name(); }
    public ClusterConfig config() { return config; }
    public List<Endpoint> endpoints() { return endpoints; }
    public Ticker ticker() { return ticker; }

    /** The endpoint with this configured address, or null. */
    public Endpoint endpoint(String address) {
        for (Endpoint e : endpoints) if (e.address().equals(address)) return e;
        return null;
    }

    /**
     * What the load balancer picks from now: {@code normal} (healthy primaries), {@code backups}, {@code panic}
     * (every endpoint, all being unhealthy) or {@code unavailable} (nothing: requests get 503).
     */
    public String mode() {
        Selection s = selection;
        if (s.available() == 0) return "unavailable";
        return s.panic ? "panic" : s.backups ? "backups" : "normal";
    }

    /** Requests routed to this cluster (whoever answered them) and their total latency. */
    public TrafficStats traffic() { return traffic; }

    /** Closes a traffic sampling interval for the cluster and each endpoint; see {@link TrafficStats#sample}. */
    public void sampleTraffic(long nowNanos, long epochMillis) {
        traffic.sample(nowNanos, epochMillis);
        for (Endpoint e : endpoints) e.traffic().sample(nowNanos, epochMillis);
    }

    /**
     * Rebuilds the load balancer over the endpoints available now: healthy primaries; else healthy backups; else,
     * with {@code when_all_unhealthy: panic}, every endpoint. Called whenever availability may have changed.
     */
    public synchronized void refresh() {
        long now = ticker.nanoTime();
        List<Endpoint> primaries = new ArrayList<>();
        List<Endpoint> backups = new ArrayList<>();
        List<Endpoint> unejected = new ArrayList<>();   // primaries that would be available but for ejections
        for (Endpoint e : endpoints) {
            if (e.available(now)) (e.backup() ? backups : primaries).add(e);
            if (!e.backup() && e.activeHealthy() && !e.draining() && !e.disabled()) unejected.add(e);
        }
        Selection next;
        if (ejectionPanic(primaries.size(), unejected.size()) && (!primaries.isEmpty() || backups.isEmpty())) {
            // passive ejection alone must not take the cluster down: ignore it (Envoy's panic threshold); with no
            // primary left, healthy backups still come first
            next = new Selection(LoadBalancer.create(config.loadBalancer(), unejected, ticker), List.copyOf(unejected), true, false, true);
        } else if (!primaries.isEmpty()) {
            next = new Selection(LoadBalancer.create(config.loadBalancer(), primaries, ticker), List.copyOf(primaries), false, false);
        } else if (!backups.isEmpty()) {
            next = new Selection(LoadBalancer.create(config.loadBalancer(), backups, ticker), List.copyOf(backups), false, true);
        } else if (config.whenAllUnhealthy() == io.gatehouse.config.WhenAllUnhealthy.PANIC) {
            List<Endpoint> all = endpoints.stream().filter(e -> !e.disabled() && !e.draining()).toList();
            next = all.isEmpty() ? new Selection(null, List.of(), false, false)
                    : new Selection(LoadBalancer.create(config.loadBalancer(), all, ticker), all, true, false);
        } else {
            next = new Selection(null, List.of(), false, false);
        }
        Selection prev = selection;
        selection = next;
        boolean changed = prev == null ? next.ejectionsIgnored
                : prev.panic != next.panic || prev.backups != next.backups || prev.ejectionsIgnored != next.ejectionsIgnored
                        || (prev.available() == 0) != (next.available() == 0);
        if (changed) {
            if (next.available() == 0) log.warn("cluster {}: no endpoint available", name());
            else if (next.ejectionsIgnored) log.warn("cluster {}: outlier ejections would leave {} of {} endpoints, below "
                    + "the panic threshold of {} %: panic mode, routing to all {}", name(), primaries.size(), unejected.size(),
                    config.outlierDetection().panicThreshold(), unejected.size());
            else if (next.panic) log.warn("cluster {}: every endpoint unhealthy, panic mode: routing to all", name());
            else if (next.backups) log.warn("cluster {}: no primary endpoint healthy, using backups", name());
            else log.info("cluster {}: {} endpoints available", name(), next.available());
        }
    }

    /**
     * True when ejections leave fewer than {@code panic_threshold} percent of the {@code unejected} primaries
     * available, or none of them.
     */
    private boolean ejectionPanic(int available, int unejected) {
        if (unejected == 0 || available == unejected) return false;
        return available == 0 || (long) available * 100 < (long) config.outlierDetection().panicThreshold() * unejected;
    }

    /** The endpoint for a request, or null when none is available (503). */
    public Endpoint pick(PickContext context) {
        Selection s = selection;
        return s.loadBalancer == null ? null : s.loadBalancer.pick(context);
    }

    /** True when an endpoint available now is not {@linkplain PickContext#excluded excluded} by {@code context}. */
    public boolean hasUntried(PickContext context) {
        for (Endpoint e : selection.members()) if (!context.excluded(e)) return true;
        return false;
    }

    /** The request's hash key for ring_hash/maglev ({@link HashKey#NO_KEY} when absent or not hashing). */
    public long hash(io.netty.handler.codec.http.HttpHeaders headers, String path, java.net.InetAddress client) {
        return hashKey == null ? HashKey.NO_KEY : hashKey.hash(headers, path, client);
    }

    /** Sticky sessions: the available endpoint the request's cookie names, or null. */
    public Endpoint stickyEndpoint(io.netty.handler.codec.http.HttpHeaders headers) {
        return stickyCookie == null ? null : stickyCookie.find(selection.members(), headers);
    }

    /** The Set-Cookie value that pins a client to {@code e}, or null without sticky sessions. */
    public String stickyCookieFor(Endpoint e, io.netty.handler.codec.http.HttpHeaders requestHeaders) {
        if (stickyCookie == null) return null;
        return stickyCookie.find(List.of(e), requestHeaders) == e ? null : stickyCookie.setCookie(e);
    }

    /** Number of endpoints the load balancer currently picks from. */
    public int availableCount() {
        return selection.available();
    }

    /** The client every request to this cluster's endpoints goes through (proxy, health probes, internal callers). */
    public UpstreamClient client() { return client; }

    /** The event loops the cluster's connections live on. */
    EventLoopGroup group() { return group; }

    /** The connection pool of this cluster on {@code loop}. */
    public ConnectionPool pool(EventLoop loop) {
        ConnectionPool p = pools.get(loop);
        return p != null ? p : pools.computeIfAbsent(loop, l -> new ConnectionPool(this, l, transport));
    }

    /** True once the cluster left the configuration: its connections are not kept idle any more. */
    boolean closed() {
        return closed;
    }

    private void closeSource() {
        AutoCloseable s;
        synchronized (this) {
            s = source;
            source = null;
        }
        if (s == null) return;
        try {
            s.close();
        } catch (Exception e) {
            log.warn("cluster {}: closing its source of endpoints failed: {}", name(), e.toString());
        }
    }

    // ---- circuit breaking: counter checks, never a queue ----

    /** Admits a request unless {@code limits.max_requests} are already in flight. */
    public boolean tryStartRequest() {
        if (requests.incrementAndGet() > config.limits().maxRequests()) {
            requests.decrementAndGet();
            overflows.incrementAndGet();
            return false;
        }
        return true;
    }

    public void requestDone() { requests.decrementAndGet(); }

    boolean tryOpenConnection() {
        if (connections.incrementAndGet() > config.limits().maxConnections()) {
            connections.decrementAndGet();
            overflows.incrementAndGet();
            return false;
        }
        return true;
    }

    void connectionAborted() { connections.decrementAndGet(); }
    void connectionClosed() { connections.decrementAndGet(); }

    boolean tryPending() {
        if (pending.incrementAndGet() > config.limits().maxPending()) {
            pending.decrementAndGet();
            overflows.incrementAndGet();
            return false;
        }
        return true;
    }

    void pendingDone() { pending.decrementAndGet(); }

    /**
     * Admits one new connection attempt under both limits (max_connections, then max_pending): null when admitted
     * (both counted), else the reason to fail the request with.
     */
    String admitNewConnection() {
        if (!tryOpenConnection()) return "cluster_max_connections";
        if (!tryPending()) {
            connectionAborted();
            return "cluster_max_pending";
        }
        return null;
    }

    /**
     * Retry budget: a retry may start only while retries in flight stay within {@code ratio} of requests in flight
     * (or under {@code min_retries}), so retries cannot multiply load during an outage.
     */
    public boolean tryStartRetry() {
        int r = retries.incrementAndGet();
        int allowed = Math.max(config.retryBudget().minRetries(), (int) (requests.get() * config.retryBudget().ratio()));
        if (r > allowed) {
            retries.decrementAndGet();
            retryBudgetExhausted.incrementAndGet();
            return false;
        }
        return true;
    }

    public void retryDone() { retries.decrementAndGet(); }

    /** A retry attempt begins (counted for metrics). */
    public void retryStarted() { retriesStarted.increment(); }

    /** Retry attempts made so far. */
    public long retryCount() { return retriesStarted.sum(); }

    /**
     * True at most once per 5 s per cluster: an outage can exhaust the budget thousands of times a second, and one
     * log line says as much as all of them (the metric has the count).
     */
    public boolean shouldLogRetryBudgetExhausted() {
        long now = ticker.nanoTime();
        long last = budgetLoggedNanos.get();
        if (last != Long.MIN_VALUE && now - last < BUDGET_LOG_EVERY_NANOS) return false;
        return budgetLoggedNanos.compareAndSet(last, now);
    }

    public int inFlightRequests() { return requests.get(); }
    public int openConnections() { return connections.get(); }
    public int pendingConnections() { return pending.get(); }
    /** Idle keep-alive connections over every event loop's pool (a racy read, fine for stats). */
    public int idleConnections() {
        int n = 0;
        for (ConnectionPool p : pools.values()) n += p.idleConnections();
        return n;
    }
    public long overflowCount() { return overflows.get(); }
    public long retryBudgetExhaustedCount() { return retryBudgetExhausted.get(); }

    // ---- passive health from live traffic ----

    /** A response below 500 from {@code e}. */
    public void reportSuccess(Endpoint e) {
        outlierDetector.onSuccess(e);
    }

    /** A 5xx response from {@code e}. */
    public void report5xx(Endpoint e) {
        outlierDetector.on5xx(e);
    }

    /** A connect failure, reset, malformed response or timeout at {@code e}. */
    public void reportGatewayFailure(Endpoint e) {
        outlierDetector.onGatewayFailure(e);
    }

    /** Active health checking, or null when the cluster has none. */
    public HealthChecker healthChecker() { return healthChecker; }
    /** TLS toward the endpoints, or null. */
    public io.gatehouse.tls.UpstreamTls tls() { return tls; }

    public OutlierDetector outlierDetector() { return outlierDetector; }

    /** Stops health checking and closes idle connections; busy ones close when their exchange ends. */
    public void close() {
        synchronized (this) {
            closed = true;
        }
        closeSource();
        if (healthChecker != null) healthChecker.close();
        outlierDetector.close();
        pools.forEach((loop, pool) -> loop.execute(pool::closeIdle));
    }
}
