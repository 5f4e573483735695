package io.gatehouse.app;

import io.gatehouse.app.cache.Redis;
import io.gatehouse.app.db.Database;
import io.gatehouse.app.db.DatabaseException;
import io.gatehouse.app.db.Replica;
import io.gatehouse.app.discovery.Registration;
import io.gatehouse.app.jobs.PeriodicJobs;
import io.gatehouse.app.telemetry.Traces;
import io.gatehouse.app.users.Sessions;
import io.gatehouse.app.users.UserRoutes;
import java.time.Duration;
import io.gatehouse.app.health.Readiness;
import io.gatehouse.app.http.Identity;
import io.gatehouse.app.http.Json;
import io.gatehouse.app.http.ProblemException;
import io.gatehouse.app.links.HitCounter;
import io.gatehouse.app.links.LinkCache;
import io.gatehouse.app.links.LinkRoutes;
import io.gatehouse.app.links.LinkService;
import io.gatehouse.app.links.LinkStore;
import io.gatehouse.app.links.TargetPolicy;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One app instance: an HTTP server (Helidon SE, a virtual thread per request, so handlers are plain blocking
 * code) wired by hand to its blocks. Stateless: everything a request needs is in PostgreSQL or Redis, so any
 * instance serves any request and an instance can be killed at any time.
 */
public final class App implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(App.class);

    private final AppConfig config;
    private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final java.util.concurrent.ConcurrentHashMap<TimerKey, Timer> timers = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Database db;
    private final Redis redis;
    private final LinkService links;
    private final HitCounter hitCounter;
    private final Readiness readiness;
    private final WebServer server;
    private final Traces traces;
    private Registration registration;
    private PeriodicJobs jobs;

    static {
        // Lettuce prefers io_uring when both Netty transports are on the classpath and warns about it (engines G9).
        if (System.getProperty("io.lettuce.core.iouring") == null) System.setProperty("io.lettuce.core.iouring", "false");
        // Helidon logs through java.util.logging: route it into SLF4J so all logs share one format.
        if (!org.slf4j.bridge.SLF4JBridgeHandler.isInstalled()) {
            org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
            org.slf4j.bridge.SLF4JBridgeHandler.install();
        }
    }

    private App(AppConfig config, Traces traces) {
        this.config = config;
        this.traces = traces;
        Clock clock = Clock.systemUTC();
        meters.config().commonTags(List.of(Tag.of("instance", config.instanceId())));
        db = track(new Database(config.database(), traces));
        db.migrate();
        for (Replica r : db.replicas()) {
            Gauge.builder("app.db.replica.lag", r, x -> x.lag().toMillis() / 1000.0).baseUnit("seconds")
                    .description("How far the replica's replay is behind the primary, as last polled").tag("replica", r.name()).register(meters);
            Gauge.builder("app.db.replica.in_read_pool", r, x -> x.inReadPool() ? 1 : 0)
                    .description("1 while reads may go to the replica, 0 when it is taken out (lag over the bound, or down)")
                    .tag("replica", r.name()).register(meters);
        }
        redis = config.redisUri() == null ? null
                : track(new Redis(config.redisUri(), config.redisTimeout(), java.time.Duration.ofSeconds(1), traces));
        LinkStore store = new LinkStore();
        FunctionCounter.builder("app.db.link_lookups", store, LinkStore::lookups)
                .description("Link lookups made in the database (cache misses and reads without the cache)").register(meters);
        LinkCache cache = redis == null ? null
                : new LinkCache(redis, clock, config.cacheTtl(), config.negativeTtl(), config.nearCacheTtl(), meters);
        hitCounter = new HitCounter(redis, db, store, config.hitFlushInterval(), config.instanceId(), meters, clock);
        links = new LinkService(db, store, cache, redis, hitCounter, new TargetPolicy(config.ownHosts()), clock, meters)
                .writeThrough(config.writeThrough());
        if (redis != null) {
            Gauge.builder("app.cache.redis.evicted_keys", redis, Redis::evictedKeys)
                    .description("keys Redis evicted under maxmemory (NaN while Redis is away)").register(meters);
        }
        readiness = new Readiness(config.instanceId(), db, redis);
        UserRoutes users = redis == null ? null : new UserRoutes(db, new Sessions(redis, Duration.ofHours(12)));
        Identity identity = users == null ? Identity::fromEdge : users.identity();
        LinkRoutes linkRoutes = new LinkRoutes(links, identity, clock, config.publicBase());
        server = WebServer.builder()
                .host(config.host())
                .port(config.port())
                .shutdownHook(false)
                .routing(r -> {
                    // First, so the request's span is current for everything below (and its Redis and JDBC calls).
                    // Without tracing it would only pass the request on: left out, one filter less per request.
                    if (traces.on()) r.addFilter(traces.serverSpans());
                    r.addFilter((chain, req, res) -> {
                        long started = System.nanoTime();
                        try {
                            chain.proceed();
                        } finally {
                            long nanos = System.nanoTime() - started;
                            String route = req.matchingPattern().orElse("unmatched");
                            requestTimer(req.prologue().method().text(), route, res.status().code())
                                    .record(nanos, TimeUnit.NANOSECONDS);
                            if (log.isDebugEnabled()) {
                                log.atDebug().addKeyValue("method", req.prologue().method().text())
                                        .addKeyValue("path", req.path().path()).addKeyValue("status", res.status().code())
                                        .addKeyValue("micros", nanos / 1000).log("request");
                            }
                        }
                    });
                    readiness.routes(r);
                    // The edge's active health check: ready to take traffic (degraded counts as ready).
                    r.get("/health", (req, res) -> {
                        boolean primary = db.primaryReachable();
                        Json.send(res, primary ? 200 : 503, java.util.Map.of("status", primary ? "up" : "down"));
                    });
                    r.get("/metrics", (req, res) -> {
                        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                        res.send(meters.scrape().getBytes(StandardCharsets.UTF_8));
                    });
                    if (users != null) users.routes(r);
                    linkRoutes.api(r);
                    linkRoutes.redirects(r);
                    errors(r);
                })
                .build()
                .start();
        try {
            registration = config.zookeeper() == null ? null
                    : Registration.register(config.zookeeper(), config.instanceId(), config.host(), server.port(), 5_000);
            jobs = new PeriodicJobs(config.instanceId(), db, store, cache, redis, clock, config.jobInterval(),
                    registration == null ? null : registration.client());
        } catch (Exception e) {
            close();
            throw new IllegalStateException("cannot join ZooKeeper at " + config.zookeeper() + ": " + e.getMessage(), e);
        }
        if (registration != null) {
            readiness.add(() -> Json.map("name", "zookeeper", "status", registration.connected() ? "up" : "down",
                    "leader", jobs.leader()));
        }
        log.atInfo().addKeyValue("instance", config.instanceId()).addKeyValue("port", server.port()).log("app instance started");
    }

    /** A request's method, matched route and status: the tags of its {@code app.http.requests} timer. */
    private record TimerKey(String method, String route, int status) {}

    /**
     * The timer of one method/route/status. Looked up in this map rather than built and registered per request:
     * {@code Timer.builder(...).register(...)} makes a builder, the tags and a meter id and searches the registry
     * each time, which was a visible share of a redirect's allocation. Routes are the patterns (a few), not paths,
     * so the map stays small. A fresh builder per new key: a Timer.Builder is mutable and shared ones race.
     */
    private Timer requestTimer(String method, String route, int status) {
        TimerKey key = new TimerKey(method, route, status);
        Timer t = timers.get(key);
        if (t != null) return t;
        return timers.computeIfAbsent(key, k -> Timer.builder("app.http.requests")
                .description("Requests this instance answered, by method, route pattern and status")
                .tags("method", k.method(), "route", k.route(), "status", Integer.toString(k.status())).register(meters));
    }

    private static void errors(HttpRouting.Builder r) {
        r.error(ProblemException.class, (req, res, e) -> Json.problem(res, e));
        r.error(DatabaseException.class, (req, res, e) -> {
            log.atWarn().setCause(e).log("database unavailable");
            Json.problem(res, new ProblemException(503, "database-unavailable", "Service unavailable", "the database is unavailable"));
        });
        r.error(Exception.class, (req, res, e) -> {
            log.atError().setCause(e).addKeyValue("path", req.path().path()).log("unexpected error");
            Json.problem(res, new ProblemException(500, "internal", "Internal error", "an unexpected error; it was logged"));
        });
    }

    public static App start(AppConfig config) {
        return new App(config, Traces.OFF);
    }

    /** As {@link #start(AppConfig)}, tracing requests into {@code traces} (closed with the instance). */
    public static App start(AppConfig config, Traces traces) {
        return new App(config, traces);
    }

    private <T extends AutoCloseable> T track(T c) {
        closeables.add(c);
        return c;
    }

    public int port() { return server.port(); }
    public String instanceId() { return config.instanceId(); }
    public LinkService links() { return links; }
    public Database database() { return db; }
    public Redis redis() { return redis; }
    public Readiness readiness() { return readiness; }
    public PrometheusMeterRegistry meters() { return meters; }

    public PeriodicJobs jobs() { return jobs; }
    public Registration registration() { return registration; }

    /**
     * Stops this instance: leaves the registry and gives up leadership first (so others take over at once), then
     * stops serving and closes its pools.
     */
    @Override
    public void close() {
        try {
            if (jobs != null) jobs.close();
            if (registration != null) registration.close();
        } catch (Exception e) {
            log.warn("leaving ZooKeeper failed", e);
        }
        server.stop();
        // No request arrives any more: send the last counts while Redis and the pools are still open.
        try {
            hitCounter.close();
        } catch (RuntimeException e) {
            log.warn("sending the last hit counts failed", e);
        }
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                log.warn("closing failed", e);
            }
        }
        traces.close();
        log.atInfo().addKeyValue("instance", config.instanceId()).log("app instance stopped");
    }
}
