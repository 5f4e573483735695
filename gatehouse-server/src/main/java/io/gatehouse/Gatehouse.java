package io.gatehouse;

import io.gatehouse.admin.AdminServer;
import io.gatehouse.admin.EventLog;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
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
import io.gatehouse.telemetry.RouteMeters;
import io.gatehouse.telemetry.Telemetry;
import io.gatehouse.telemetry.Tracing;
import io.gatehouse.transport.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Ticker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The running edge: owns the event loops, listeners and clusters of one process. {@link #start} binds every
 * listener; {@link #reload} swaps in a new configuration; {@link #shutdown} drains and stops.
 */
public final class Gatehouse implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gatehouse.class);

    private final io.gatehouse.clock.Clock ticker;   // the one clock: monotonic and wall time
    private final Transport transport;
    private final EventLoopGroup group;
    private final io.gatehouse.cluster.InternalClusters internalClusters;   // implicit clusters of jwks_url, OIDC
    private volatile GatehouseConfig config;
    private final GatehouseConfig startConfig;
    private final io.gatehouse.config.AdminConfig adminConfigInEffect;
    private final Map<String, Listener> listeners = new LinkedHashMap<>();
    private volatile Map<String, Cluster> clusters = Map.of();
    private boolean stopped;
    private volatile boolean ready;
    private AdminServer admin;
    private final Path configFile;   // null when started from a config in memory
    private final EventLog events;
    private final Instant startedAt;
    private volatile ReloadOutcome lastReload;
    /** Reloads from the file (and polls it when watched): binding new listeners blocks, so never on an event loop. */
    private final ScheduledExecutorService reloader = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gatehouse-reload");
        t.setDaemon(true);
        return t;
    });
    private final Object reloadLock = new Object();
    private ScheduledFuture<?> watch;   // guarded by reloadLock
    private final Telemetry telemetry;
    /** Builds clusters with their source of endpoints (DNS re-resolution, ZooKeeper, Kubernetes). */
    private final io.gatehouse.discovery.Discovery discovery;
    /** Closes traffic-stats intervals off the event loops (histogram copies are not free). */
    private final ScheduledExecutorService statsSampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gatehouse-stats");
        t.setDaemon(true);
        return t;
    });

    /** How often traffic stats close an interval: the resolution of the admin API's history and the dashboard. */
    public static final Duration STATS_INTERVAL = Duration.ofSeconds(5);
    /** How often {@code server.watch_config} looks at the file. */
    static final Duration WATCH_INTERVAL = Duration.ofSeconds(1);

    private Gatehouse(GatehouseConfig config, Ticker ticker, Path configFile, Telemetry telemetry) {
        this.ticker = io.gatehouse.transport.DispatchClock.of(ticker); // one reading per dispatch on the hot path
        this.events = new EventLog(this.ticker.asJavaClock());
        this.startedAt = this.ticker.instant();
        telemetry.clock(this.ticker);
        telemetry.metering(config);
        this.config = config;
        this.configFile = configFile;
        this.telemetry = telemetry;
        this.startConfig = config;
        this.adminConfigInEffect = config.admin();
        this.transport = Transport.select(config.server().transport());
        this.group = transport.newGroup(config.server().eventLoops(), "gatehouse");
        this.internalClusters = new io.gatehouse.cluster.InternalClusters(transport, group, this.ticker);
        this.discovery = new io.gatehouse.discovery.Discovery(this.ticker);
        long every = STATS_INTERVAL.toMillis();
        statsSampler.scheduleAtFixedRate(this::sampleTraffic, every, every, TimeUnit.MILLISECONDS);
    }

    /** Closes one traffic-stats interval for every cluster (and its endpoints). */
    public void sampleTraffic() {
        try {
            long now = ticker.nanoTime();
            long epochMillis = ticker.currentTimeMillis();
            for (Cluster c : clusters.values()) c.sampleTraffic(now, epochMillis);
        } catch (RuntimeException e) {
            log.warn("traffic sampling failed", e);
        }
    }

    /** Builds a configuration in Java and starts it: the way to embed the edge in a program or its tests. */
    public static GatehouseBuilder builder() {
        return new GatehouseBuilder();
    }

    /** Starts serving {@code config}; returns once every listener is bound. Fails if any listener cannot bind. */
    public static Gatehouse start(GatehouseConfig config) {
        return start(config, Ticker.systemTicker());
    }

    /** As {@link #start(GatehouseConfig)}, with the clock that drives health checks, ejections and timeouts. */
    public static Gatehouse start(GatehouseConfig config, Ticker ticker) {
        return start(config, ticker, (Path) null);
    }

    /**
     * As {@link #start(GatehouseConfig, Ticker)}, for {@code config} read from {@code configFile}: then SIGHUP,
     * {@code POST /reload} and {@code server.watch_config} can reload that file ({@link #reloadFromFile}).
     */
    public static Gatehouse start(GatehouseConfig config, Ticker ticker, Path configFile) {
        return start(config, ticker, configFile, Telemetry.create(config));
    }

    /** As {@link #start(GatehouseConfig, Ticker)}, reporting through {@code telemetry} (closed at shutdown). */
    public static Gatehouse start(GatehouseConfig config, Ticker ticker, Telemetry telemetry) {
        return start(config, ticker, null, telemetry);
    }

    /** The general form: {@code configFile} may be null (no reload from file), {@code telemetry} is closed at shutdown. */
    public static Gatehouse start(GatehouseConfig config, Ticker ticker, Path configFile, Telemetry telemetry) {
        Gatehouse g = new Gatehouse(config, ticker, configFile, telemetry);
        try {
            g.clusters = g.buildClusters(config, Map.of());
            for (ListenerConfig lc : config.listeners()) {
                Listener l = new Listener(lc, g.routeTable(config, lc, g.clusters), g.ticker, telemetry);
                l.bind(g.group, g.transport);
                g.listeners.put(lc.name(), l);
            }
            g.syncMetrics();
            if (config.admin().enabled()) {
                g.admin = new AdminServer(g, config.admin());
                g.admin.bind(g.group, g.transport);
            }
            g.ready = true;
            g.watchIfConfigured(config);
        } catch (Exception e) {
            g.shutdown(Duration.ZERO);
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw new IllegalStateException("cannot start: " + e.getMessage(), e);
        }
        log.info("gatehouse started: {} listeners, {} clusters, transport {}", g.listeners.size(), g.clusters.size(), g.transport.name());
        g.events.record("start", null, null, "started: " + g.summary() + ", transport " + g.transport.name()
                + (configFile == null ? "" : ", from " + configFile));
        return g;
    }

    private Map<String, Cluster> buildClusters(GatehouseConfig next, Map<String, Cluster> previous) {
        Map<String, Cluster> built = new LinkedHashMap<>();
        for (ClusterConfig cc : next.clusters()) {
            Cluster old = previous.get(cc.name());
            // An unchanged cluster is kept whole (pools, health). A changed one is rebuilt, adopting the endpoints
            // it still has, so their health, ejection, drain and weight survive (see Cluster's constructor).
            built.put(cc.name(), old != null && old.config().equals(cc) ? old
                    : discovery.cluster(cc, transport, group, old, events));
        }
        return built;
    }

    private RouteTable routeTable(GatehouseConfig whole, ListenerConfig lc, Map<String, Cluster> clusters) {
        ProxyHeaders proxyHeaders = new ProxyHeaders(lc.proxyHeaders());
        List<Route> routes = new ArrayList<>();
        for (RouteConfig rc : lc.routes()) {
            Filter action;
            if (rc.cluster() != null) {
                Cluster c = clusters.get(rc.cluster());
                if (c == null) throw new IllegalArgumentException("route " + rc.name() + ": unknown cluster " + rc.cluster());
                action = new HttpProxy(c, proxyHeaders);
            } else if (rc.directResponse() != null) {
                action = RouteActions.directResponse(rc.directResponse());
            } else if (rc.files() != null) {
                try {
                    action = new io.gatehouse.files.FileServer(rc.files());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("route " + rc.name() + ": files: " + e.getMessage(), e);
                }
            } else {
                action = RouteActions.redirect(rc.redirect());
            }
            long maxBody = rc.maxBodySize() != null ? rc.maxBodySize() : lc.limits().maxBodySize();
            RouteMeters meters = telemetry.metrics().route(lc.name(), rc.name(), rc.cluster() == null ? null : clusters.get(rc.cluster()));
            routes.add(new Route(lc.name(), rc, new RouteMatch(rc.match()), routeFilters(whole, lc, rc, action, clusters), maxBody, meters));
        }
        return new RouteTable(routes);
    }

    /**
     * The route's chain, in order: the shorthand keys (hsts, decompress_requests, compression: the route's, or the
     * listener's compression), the listener's {@code filters} (unless the route says inherit_filters: false), the
     * route's own {@code filters}, and last its action.
     */
    private List<Filter> routeFilters(GatehouseConfig whole, ListenerConfig lc, RouteConfig rc, Filter action, Map<String, Cluster> clusters) {
        List<Filter> filters = new ArrayList<>(4);
        if (rc.hsts() != null) filters.add(new io.gatehouse.hsts.Hsts(rc.hsts()));
        if (rc.decompressRequests() != null) filters.add(new io.gatehouse.compression.RequestDecompression(rc.decompressRequests()));
        io.gatehouse.config.CompressionConfig compression = rc.compression() != null ? rc.compression() : lc.compression();
        if (compression != null && compression.enabled()) filters.add(new io.gatehouse.compression.ResponseCompression(compression));
        io.gatehouse.filter.FilterContext context = new io.gatehouse.filter.FilterContext(lc.name(), rc.name(), clusters,
                whole, ticker, telemetry.metrics().registry(), redisFor(whole), internalClusters);
        if (rc.inheritFilters()) for (io.gatehouse.config.FilterConfig f : lc.filters()) filters.add(FilterTypes.create(f, context));
        for (io.gatehouse.config.FilterConfig f : rc.filters()) filters.add(FilterTypes.create(f, context));
        filters.add(action);
        return List.copyOf(filters);
    }

    /** The address a listener is bound to (useful with port 0). */
    public synchronized InetSocketAddress listenerAddress(String listenerName) {
        Listener l = listeners.get(listenerName);
        if (l == null) throw new IllegalArgumentException("no listener named " + listenerName);
        return l.boundAddress();
    }

    public GatehouseConfig config() { return config; }

    /** The file the configuration was read from, or null. */
    public Path configFile() { return configFile; }

    /** What happened lately: start, health, ejections, reloads, admin changes. */
    public EventLog events() { return events; }

    public Instant startedAt() { return startedAt; }

    /** The process's one clock (monotonic and wall time); a test's {@link io.gatehouse.clock.ManualClock} when it gave one. */
    public io.gatehouse.clock.Clock clock() { return ticker; }

    /** The latest reload of the file, or null if there was none. */
    public ReloadOutcome lastReload() { return lastReload; }

    private String summary() {
        return listeners.size() + " listeners, " + clusters.size() + " clusters";
    }

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
        Telemetry.Change telemetryChange = telemetry.prepare(next);   // throws (refusing the reload) if a log cannot open
        Map<String, Cluster> nextClusters;
        Map<String, RouteTable> tables = new LinkedHashMap<>();
        try {
            nextClusters = buildClusters(next, previous);
            for (ListenerConfig lc : next.listeners()) tables.put(lc.name(), routeTable(next, lc, nextClusters));
        } catch (RuntimeException e) {
            telemetryChange.abort();
            throw e;
        }

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
            telemetryChange.abort();
            synchronized (this) {
                if (retiredRedis != null) {   // the refused configuration's Redis goes; the running one stays
                    if (redis != null) redis.close();
                    redis = retiredRedis;
                    retiredRedis = null;
                }
            }
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw new IllegalStateException("reload refused: " + e.getMessage(), e);
        }
        // commit: swap route tables, then retire what is gone
        java.util.Set<Filter> retiring = filtersOf(listeners.values());
        telemetryChange.commit();
        telemetry.metering(next);
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
        retiring.removeAll(filtersOf(listeners.values()));
        closeFilters(retiring);
        synchronized (this) {
            if (retiredRedis != null) {
                retiredRedis.close();
                retiredRedis = null;
            }
            if (next.redis() == null && redis != null) {
                redis.close();
                redis = null;
            }
        }
        syncMetrics();
        log.info("reload applied: {} listeners, {} clusters", listeners.size(), nextClusters.size());
    }

    private io.gatehouse.redis.Redis redis;          // the redis: section's connection, or null
    private io.gatehouse.redis.Redis retiredRedis;   // replaced by a reload: closed once the new routes serve

    /** The Redis of {@code whole}'s redis: section: the running one when unchanged, a new one otherwise. */
    private synchronized io.gatehouse.redis.Redis redisFor(GatehouseConfig whole) {
        if (whole.redis() == null) return null;
        if (redis != null && redis.config().equals(whole.redis())) return redis;
        if (redis != null) retiredRedis = redis;
        redis = new io.gatehouse.redis.Redis(whole.redis());
        return redis;
    }

    /** The shared Redis of the running configuration's {@code redis:} section, or null when it has none. */
    public synchronized io.gatehouse.redis.Redis redis() {
        return config.redis() == null ? null : redisFor(config);
    }

    /** Every filter of the routes of {@code ls}, by identity. */
    private static java.util.Set<Filter> filtersOf(java.util.Collection<Listener> ls) {
        java.util.Set<Filter> out = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Listener l : ls) for (Route r : l.routes().routes()) out.addAll(r.filters());
        return out;
    }

    /** A filter that holds resources (a key fetcher, a pool) is closed when no route uses it any more. */
    private static void closeFilters(java.util.Set<Filter> retired) {
        for (Filter f : retired) {
            if (f instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    log.warn("closing a retired filter failed: {}", e.toString());
                }
            }
        }
    }

    /**
     * Reads the configuration file again and applies it: the one path SIGHUP, {@code POST /reload} and
     * {@code server.watch_config} share. A file with problems, or a config that cannot apply, is refused: the
     * running configuration keeps serving, and the error goes to the log, the result, {@link #lastReload()} and the
     * event log. Blocks (file I/O, binding); call it off the event loops, or use {@link #reloadFromFileAsync}.
     *
     * @param source {@code signal}, {@code admin} or {@code file_watch}
     * @throws IllegalStateException when Gatehouse was not started from a file
     */
    public ReloadOutcome reloadFromFile(String source) {
        if (configFile == null) throw new IllegalStateException("gatehouse was started without a config file: nothing to reload");
        synchronized (reloadLock) {
            ReloadOutcome outcome;
            try {
                GatehouseConfig next = ConfigLoader.load(configFile);
                reload(next);
                warnAboutRestartOnlyChanges(next);
                watchIfConfigured(next);
                outcome = new ReloadOutcome(ticker.instant(), source, ReloadOutcome.APPLIED, null, summary());
                log.info("reload ({}) of {} applied: {}", source, configFile, outcome.summary());
                events.record("reload", null, null, "reload (" + source + ") of " + configFile + " applied: " + outcome.summary());
            } catch (ConfigException e) {
                outcome = refused(source, e.getMessage());
                log.error("reload ({}) of {} refused; still serving the previous configuration:", source, configFile);
                e.problems().forEach(p -> log.error("  {}", p));
            } catch (RuntimeException e) {
                outcome = refused(source, e.getMessage());
                log.error("reload ({}) of {} refused; still serving the previous configuration: {}", source, configFile, e.getMessage());
            }
            lastReload = outcome;
            return outcome;
        }
    }

    /** {@link #reloadFromFile} on the reload thread. */
    public CompletableFuture<ReloadOutcome> reloadFromFileAsync(String source) {
        if (configFile == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("gatehouse was started without a config file: nothing to reload"));
        }
        return CompletableFuture.supplyAsync(() -> reloadFromFile(source), reloader);
    }

    private ReloadOutcome refused(String source, String error) {
        events.record("reload", null, null, "reload (" + source + ") of " + configFile + " refused: " + error);
        return new ReloadOutcome(ticker.instant(), source, ReloadOutcome.REFUSED, error, summary());
    }

    /** Settings bound at start cannot change on a reload: say so rather than pretend. */
    private void warnAboutRestartOnlyChanges(GatehouseConfig next) {
        if (!next.admin().equals(adminConfigInEffect)) {
            log.warn("reload: admin settings changed; they take effect on restart");
        }
        if (next.server().eventLoops() != startConfig.server().eventLoops()
                || !next.server().transport().equals(startConfig.server().transport())) {
            log.warn("reload: server.event_loops and server.transport take effect on restart");
        }
    }

    /** Starts or stops polling the file to match {@code server.watch_config}. */
    private void watchIfConfigured(GatehouseConfig current) {
        if (configFile == null) return;
        synchronized (reloadLock) {
            boolean wanted = current.server().watchConfig();
            if (wanted && watch == null) {
                ConfigWatcher watcher = new ConfigWatcher(configFile, () -> config.consumersFile() == null ? List.of()
                        : List.of(ConfigLoader.consumersFile(configFile.toString(), config.consumersFile())), () -> reloadFromFile("file_watch"));
                long every = WATCH_INTERVAL.toMillis();
                watch = reloader.scheduleWithFixedDelay(watcher::poll, every, every, TimeUnit.MILLISECONDS);
                log.info("watching {} for changes", configFile);
            } else if (!wanted && watch != null) {
                watch.cancel(false);
                watch = null;
                log.info("no longer watching {}", configFile);
            }
        }
    }

    /** The listener keeps its socket when the address is the same as configured, or as bound (port 0 at start). */
    private static boolean sameAddress(Listener listener, String address) {
        if (listener.config().address().equals(address)) return true;
        try {
            return io.gatehouse.config.HostPort.parse(address, true).resolve().equals(listener.boundAddress());
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
        closeFilters(filtersOf(ls));
        synchronized (this) {
            if (redis != null) redis.close();
        }
        statsSampler.shutdownNow();
        reloader.shutdownNow();
        if (admin != null) admin.close();
        clusters.values().forEach(Cluster::close);
        discovery.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        telemetry.close();
        log.info("stopped");
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(5));
    }
}
