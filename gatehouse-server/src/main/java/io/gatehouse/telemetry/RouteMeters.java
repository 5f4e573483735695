package io.gatehouse.telemetry;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.TimeUnit;

/**
 * Request count and latency of one route (listener, route, cluster), one timer per status class. Resolved once per
 * route, so recording a request is an array read and a timer update: no tag lookup, no allocation.
 */
public final class RouteMeters {
    static final String REQUESTS = "gatehouse.request.duration";
    private static final String[] CLASSES = {"1xx", "1xx", "2xx", "3xx", "4xx", "5xx"};

    private final MeterRegistry registry;
    private final Tags tags;
    private final String listener;
    private final String route;
    private final String cluster;
    private final ClusterMeters clusterMeters;
    private final Timer[] byClass = new Timer[CLASSES.length]; // created on first use, by status / 100

    RouteMeters(MeterRegistry registry, String listener, String route, String cluster, ClusterMeters clusterMeters) {
        this.registry = registry;
        this.listener = listener;
        this.route = route;
        this.cluster = cluster;
        this.clusterMeters = clusterMeters;
        this.tags = Tags.of("listener", listener, "route", route == null ? "none" : route, "cluster", cluster == null ? "none" : cluster);
    }

    public String listener() { return listener; }
    /** Route name, or null for requests no route took (404, rejected). */
    public String route() { return route; }
    /** Cluster name, or null when the route does not proxy. */
    public String cluster() { return cluster; }
    /** Meters of the route's cluster, or null when the route does not proxy. */
    public ClusterMeters clusterMeters() { return clusterMeters; }

    /** Counts one request that ended with {@code status} after {@code nanos}. */
    public void record(int status, long nanos) {
        int c = Math.max(1, Math.min(5, status / 100));
        Timer t = byClass[c];
        if (t == null) t = byClass[c] = timer(c); // racing loops get the same timer back from the registry
        t.record(nanos, TimeUnit.NANOSECONDS);
    }

    private Timer timer(int statusClass) {
        return Timer.builder(REQUESTS)
                .description("Requests by the route that took them and the class of their response status")
                .tags(tags).tag("status_class", CLASSES[statusClass])
                .serviceLevelObjectives(Metrics.LATENCY_BUCKETS)
                .register(registry);
    }

    void remove() {
        for (Timer t : byClass) {
            if (t != null) registry.remove(t);
        }
        // also the ones an in-flight request on an old route table may have created meanwhile
        registry.find(REQUESTS).tags(tags).meters().forEach(registry::remove);
    }
}
