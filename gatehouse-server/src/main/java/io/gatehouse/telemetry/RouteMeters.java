package io.gatehouse.telemetry;

import io.prometheus.metrics.model.snapshots.Labels;

import java.util.function.Consumer;

/**
 * Request count and latency of one route (listener, route, cluster), one histogram per status class. Resolved once
 * per route, so recording a request is an array read and a histogram update: no tag lookup, no allocation.
 */
public final class RouteMeters {
    static final String REQUESTS = "gatehouse_request_duration_seconds";
    private static final String[] CLASSES = {"1xx", "1xx", "2xx", "3xx", "4xx", "5xx"};

    private final String listener;
    private final String route;
    private final String cluster;
    private final ClusterMeters clusterMeters;
    private final LatencyHistogram[] byClass = new LatencyHistogram[CLASSES.length]; // [0] unused: 1xx is [1]

    RouteMeters(String listener, String route, String cluster, ClusterMeters clusterMeters) {
        this.listener = listener;
        this.route = route;
        this.cluster = cluster;
        this.clusterMeters = clusterMeters;
        for (int c = 1; c < CLASSES.length; c++) {
            byClass[c] = new LatencyHistogram(Labels.of("listener", listener, "route", route == null ? "none" : route,
                    "cluster", cluster == null ? "none" : cluster, "status_class", CLASSES[c]));
        }
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
        byClass[Math.max(1, Math.min(5, status / 100))].record(nanos);
    }

    /** The histograms that saw requests (a status class never seen is not exposed, as Micrometer did). */
    void forEachSeen(Consumer<LatencyHistogram> out) {
        for (int c = 1; c < CLASSES.length; c++) {
            if (byClass[c].count() > 0) out.accept(byClass[c]);
        }
    }
}
