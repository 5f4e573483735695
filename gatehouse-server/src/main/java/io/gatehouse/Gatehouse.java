package io.gatehouse;

import io.gatehouse.admin.AdminServer;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.filter.Filter;
import io.gatehouse.listener.Listener;
import io.gatehouse.proxy.HttpProxy;
import io.gatehouse.proxy.ProxyHeaders;
import io.gatehouse.route.Route;
import io.gatehouse.route.RouteActions;
import io.gatehouse.route.RouteMatch;
import io.gatehouse.route.RouteTable;
import io.gatehouse.telemetry.MeteredAction;
import io.gatehouse.telemetry.RouteMeters;
import io.gatehouse.telemetry.Telemetry;
import io.gatehouse.transport.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Ticker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The running edge: owns the event loops, listeners and clusters of one process. {@link #start} binds every
 * listener; {@link #reload} swaps in a new configuration; {@link #shutdown} drains and stops.
 */
public final class Gatehouse implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gatehouse.class);

    private final Ticker ticker;
    private final Transport transport;
    private final EventLoopGroup group;
    private volatile GatehouseConfig config;
    private final Map<String, Listener> listeners = new LinkedHashMap<>();
    private volatile Map<String, Cluster> clusters = Map.of();
    private boolean stopped;
    private volatile boolean ready;
    private AdminServer admin;
    private final Telemetry telemetry;
    /** Closes traffic-stats intervals off the event loops (histogram copies are not free). */
    private final ScheduledExecutorService statsSampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gatehouse-stats");
        t.setDaemon(true);
        return t;
    });

    /** How often traffic stats close an interval: the resolution of the admin API's history and the dashboard. */
    public static final Duration STATS_INTERVAL = Duration.ofSeconds(5);

    private Gatehouse(GatehouseConfig config, Ticker ticker, Telemetry telemetry) {
        this.ticker = ticker;
        this.config = config;
        this.telemetry = telemetry;
        this.transport = Transport.select(config.server().transport());
        this.group = transport.newGroup(config.server().eventLoops(), "gatehouse");
        long every = STATS_INTERVAL.toMillis();
        statsSampler.scheduleAtFixedRate(this::sampleTraffic, every, every, TimeUnit.MILLISECONDS);
    }

    /** Closes one traffic-stats interval for every cluster (and its endpoints). */
    public void sampleTraffic() {
        try {
            long now = ticker.nanoTime();
            long epochMillis = System.currentTimeMillis();
            for (Cluster c : clusters.values()) c.sampleTraffic(now, epochMillis);
        } catch (RuntimeException e) {
            log.warn("traffic sampling failed", e);
        }
    }

    /** Starts serving {@code config}; returns once every listener is bound. Fails if any listener cannot bind. */
    public static Gatehouse start(GatehouseConfig config) {
        return start(config, Ticker.systemTicker());
    }

    /** As {@link #start(GatehouseConfig)}, with the clock that drives health checks, ejections and timeouts. */
    public static Gatehouse start(GatehouseConfig config, Ticker ticker) {
        return start(config, ticker, Telemetry.create(config));
    }

    /** As {@link #start(GatehouseConfig, Ticker)}, reporting through {@code telemetry} (closed at shutdown). */
    public static Gatehouse start(GatehouseConfig config, Ticker ticker, Telemetry telemetry) {
        Gatehouse g = new Gatehouse(config, ticker, telemetry);
        try {
            g.clusters = g.buildClusters(config, Map.of());
            for (ListenerConfig lc : config.listeners()) {
                Listener l = new Listener(lc, g.routeTable(lc, g.clusters), ticker, telemetry);
                l.bind(g.group, g.transport);
                g.listeners.put(lc.name(), l);
            }
            g.syncMetrics();
            if (config.admin().enabled()) {
                g.admin = new AdminServer(g, config.admin());
                g.admin.bind(g.group, g.transport);
            }
            g.ready = true;
        } catch (Exception e) {
            g.shutdown(Duration.ZERO);
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw new IllegalStateException("cannot start: " + e.getMessage(), e);
        }
        log.info("gatehouse started: {} listeners, {} clusters, transport {}", g.listeners.size(), g.clusters.size(), g.transport.name());
        return g;
    }

    private Map<String, Cluster> buildClusters(GatehouseConfig next, Map<String, Cluster> previous) {
        Map<String, Cluster> built = new LinkedHashMap<>();
        for (ClusterConfig cc : next.clusters()) {
            Cluster old = previous.get(cc.name());
            // an unchanged cluster keeps its pools and health state across reloads
            built.put(cc.name(), old != null && old.config().equals(cc) ? old : new Cluster(cc, ticker, transport, group));
        }
        return built;
    }

    private RouteTable routeTable(ListenerConfig lc, Map<String, Cluster> clusters) {
        ProxyHeaders proxyHeaders = new ProxyHeaders(lc.proxyHeaders());
        List<Route> routes = new ArrayList<>();
        for (RouteConfig rc : lc.routes()) {
            Filter action;
            if (rc.cluster() != null) {
                Cluster c = clusters.get(rc.cluster());
                if (c == null) throw new IllegalArgumentException("route " + rc.name() + ": unknown cluster " + rc.cluster());
                action = new HttpProxy(c, proxyHeaders, telemetry.tracing());
            } else if (rc.directResponse() != null) {
                action = RouteActions.directResponse(rc.directResponse());
            } else {
                action = RouteActions.redirect(rc.redirect());
            }
            long maxBody = rc.maxBodySize() != null ? rc.maxBodySize() : lc.limits().maxBodySize();
            RouteMeters meters = telemetry.metrics().route(lc.name(), rc.name(), rc.cluster() == null ? null : clusters.get(rc.cluster()));
            routes.add(new Route(lc.name(), rc, new RouteMatch(rc.match()), List.of(new MeteredAction(meters, action)), maxBody));
        }
        return new RouteTable(routes);
    }

    /** The address a listener is bound to (useful with port 0). */
    public synchronized InetSocketAddress listenerAddress(String listenerName) {
        Listener l = listeners.get(listenerName);
        if (l == null) throw new IllegalArgumentException("no listener named " + listenerName);
        return l.boundAddress();
    }

    public GatehouseConfig config() { return config; }

    /** True from the moment every listener is bound until shutdown begins. */
    public boolean ready() { return ready; }

    /** The admin listener's bound address, or null when admin is off. */
    public InetSocketAddress adminAddress() { return admin == null ? null : admin.boundAddress(); }

    public Cluster cluster(String name) { return clusters.get(name); }

    public Map<String, Cluster> clusters() { return clusters; }

    /** Metrics, access log and tracing of this process. */
    public Telemetry telemetry() { return telemetry; }

    /** Aligns metrics with the running listeners and clusters (drops those a reload removed). */
    public synchronized void syncMetrics() {
        telemetry.metrics().sync(listeners.values(), clusters);
    }

    /** {@code GET /metrics} on the admin listener. */
    public io.netty.handler.codec.http.FullHttpResponse scrapeMetrics(io.netty.handler.codec.http.HttpRequest request) {
        syncMetrics();
        return telemetry.scrape(request);
    }

    public synchronized List<Listener> listeners() { return List.copyOf(listeners.values()); }

    /**
     * Swaps in {@code next}: new requests use it at once; in-flight ones finish on the routes they started on.
     * Listeners that keep their address keep their socket; unchanged clusters keep their pools and health state.
     * On failure (a new listener cannot bind) nothing changes.
     */
    public synchronized void reload(GatehouseConfig next) {
        if (stopped) throw new IllegalStateException("stopped");
        Map<String, Cluster> previous = clusters;
        Map<String, Cluster> nextClusters = buildClusters(next, previous);
        Map<String, RouteTable> tables = new LinkedHashMap<>();
        for (ListenerConfig lc : next.listeners()) tables.put(lc.name(), routeTable(lc, nextClusters));

        List<Listener> bound = new ArrayList<>();
        Map<String, Listener> nextListeners = new LinkedHashMap<>();
        try {
            for (ListenerConfig lc : next.listeners()) {
                Listener old = listeners.get(lc.name());
                if (old != null && sameAddress(old, lc.address())) {
                    nextListeners.put(lc.name(), old);
                } else {
                    Listener l = new Listener(lc, tables.get(lc.name()), ticker, telemetry);
                    l.bind(group, transport);
                    bound.add(l);
                    nextListeners.put(lc.name(), l);
                }
            }
        } catch (Exception e) {
            bound.forEach(Listener::closeAll);
            nextClusters.values().stream().filter(c -> !previous.containsValue(c)).forEach(Cluster::close);
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw new IllegalStateException("reload refused: " + e.getMessage(), e);
        }
        // commit: swap route tables, then retire what is gone
        for (ListenerConfig lc : next.listeners()) {
            Listener l = nextListeners.get(lc.name());
            l.update(lc, tables.get(lc.name()));
        }
        for (Map.Entry<String, Listener> e : listeners.entrySet()) {
            if (nextListeners.get(e.getKey()) != e.getValue()) e.getValue().startDrain();
        }
        listeners.clear();
        listeners.putAll(nextListeners);
        clusters = nextClusters;
        config = next;
        for (Cluster c : previous.values()) {
            if (!nextClusters.containsValue(c)) c.close();
        }
        syncMetrics();
        log.info("reload applied: {} listeners, {} clusters", listeners.size(), nextClusters.size());
    }

    /** The listener keeps its socket when the address is the same as configured, or as bound (port 0 at start). */
    private static boolean sameAddress(Listener listener, String address) {
        if (listener.config().address().equals(address)) return true;
        try {
            return io.gatehouse.listener.Addresses.parse(address).equals(listener.boundAddress());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Stops accepting, lets in-flight requests finish for up to {@code drainTimeout}, then closes everything. */
    public void shutdown(Duration drainTimeout) {
        List<Listener> ls;
        synchronized (this) {
            if (stopped) return;
            stopped = true;
            ready = false;
            ls = List.copyOf(listeners.values());
        }
        log.info("shutting down: draining for up to {}", drainTimeout);
        ls.forEach(Listener::startDrain);
        long deadline = System.nanoTime() + drainTimeout.toNanos();
        while (System.nanoTime() < deadline && ls.stream().anyMatch(l -> l.connectionCount() > 0)) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        ls.forEach(Listener::closeAll);
        statsSampler.shutdownNow();
        if (admin != null) admin.close();
        clusters.values().forEach(Cluster::close);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        telemetry.close();
        log.info("stopped");
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(5));
    }
}
