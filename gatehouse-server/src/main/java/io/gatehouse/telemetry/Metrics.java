package io.gatehouse.telemetry;

import io.gatehouse.cluster.Cluster;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Prometheus registry and the meters of listeners, routes and clusters, keyed by their configured names (label
 * values only ever come from the configuration, so the number of series stays bounded). {@link #sync} brings the set
 * of meters in line with what is running: meters of listeners, routes and clusters a reload removed go away.
 */
public final class Metrics {
    public static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    public static final String OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private record RouteKey(String listener, String route, String cluster) {}

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<RouteKey, RouteMeters> routes = new ConcurrentHashMap<>();
    private final Map<String, ClusterMeters> clusters = new ConcurrentHashMap<>();
    private final Map<String, ListenerStats> boundListeners = new ConcurrentHashMap<>();
    private final Map<String, List<Meter>> listenerMeters = new ConcurrentHashMap<>();

    public Metrics() {
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        JvmGcMeters.bindTo(registry); // polled: no GC notification listener (see there)
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        registry.getPrometheusRegistry().register((MultiCollector) this::latencyHistograms);
    }

    /** Request and endpoint duration histograms, read from the live route and cluster meters at each scrape. */
    private MetricSnapshots latencyHistograms() {
        HistogramSnapshot.Builder requests = HistogramSnapshot.builder().name(RouteMeters.REQUESTS)
                .help("Requests by the route that took them and the class of their response status, from the request head to the end of the response");
        for (RouteMeters r : routes.values()) r.forEachSeen(h -> requests.dataPoint(h.snapshot()));
        HistogramSnapshot.Builder endpoint = HistogramSnapshot.builder().name("gatehouse_endpoint_duration_seconds")
                .help("Attempts on an endpoint, from picking it to the end of its response");
        for (ClusterMeters c : clusters.values()) c.forEachEndpoint(h -> endpoint.dataPoint(h.snapshot()));
        return MetricSnapshots.of(requests.build(), endpoint.build());
    }

    public PrometheusMeterRegistry registry() { return registry; }

    /** The text exposition; OpenMetrics when {@code accept} asks for it, else Prometheus text 0.0.4. */
    public String scrape(String contentType) {
        return registry.scrape(contentType);
    }

    /** Meters of a route that proxies to {@code cluster} (null: a route that answers itself). */
    public RouteMeters route(String listener, String route, Cluster cluster) {
        String clusterName = cluster == null ? null : cluster.name();
        ClusterMeters cm = cluster == null ? null : cluster(cluster);
        return routes.computeIfAbsent(new RouteKey(listener, route, clusterName),
                k -> new RouteMeters(listener, route, clusterName, cm));
    }

    /** Meters of the requests of {@code listener} that no route took (404, rejected requests). */
    public RouteMeters unrouted(String listener) {
        return routes.computeIfAbsent(new RouteKey(listener, null, null), k -> new RouteMeters(listener, null, null, null));
    }

    /** Meters of {@code cluster}'s name; bound to this object unless a current one of that name is already bound. */
    ClusterMeters cluster(Cluster cluster) {
        ClusterMeters cm = clusters.computeIfAbsent(cluster.name(), n -> new ClusterMeters(registry, n));
        return cm;
    }

    /** Counts lines the access log had to drop. */
    void accessLog(Telemetry telemetry) {
        FunctionCounter.builder("gatehouse.access.log.dropped", telemetry, Telemetry::accessLogDropped)
                .description("Access log lines dropped because the writer fell behind").register(registry);
        FunctionCounter.builder("gatehouse.access.log.written", telemetry, Telemetry::accessLogWritten)
                .description("Access log lines written").register(registry);
    }

    /**
     * Aligns meters with what runs now: binds cluster and listener meters to the current objects and removes the
     * meters of listeners, routes and clusters that are gone. Called after start and reload, and before each scrape.
     */
    public synchronized void sync(Collection<? extends ListenerStats> listeners, Map<String, Cluster> currentClusters) {
        for (Cluster c : currentClusters.values()) cluster(c).bind(c);
        clusters.entrySet().removeIf(e -> {
            if (currentClusters.containsKey(e.getKey())) return false;
            e.getValue().remove();
            return true;
        });
        Set<RouteKey> live = new HashSet<>();
        Set<String> liveListeners = new HashSet<>();
        for (ListenerStats l : listeners) {
            liveListeners.add(l.name());
            live.add(new RouteKey(l.name(), null, null));
            for (RouteMeters r : l.routeMeters()) live.add(new RouteKey(r.listener(), r.route(), r.cluster()));
            bindListener(l);
        }
        routes.entrySet().removeIf(e -> {
            if (live.contains(e.getKey())) return false;
            return true;   // its histograms go with it: the scrape reads the live map
        });
        boundListeners.keySet().removeIf(name -> {
            if (liveListeners.contains(name)) return false;
            listenerMeters.remove(name).forEach(registry::remove);
            return true;
        });
    }

    private void bindListener(ListenerStats l) {
        if (boundListeners.get(l.name()) == l) return;
        List<Meter> old = listenerMeters.remove(l.name());
        if (old != null) old.forEach(registry::remove);
        List<Meter> meters = new ArrayList<>();
        String n = l.name();
        meters.add(Gauge.builder("gatehouse.downstream.connections", l, ListenerStats::connectionCount)
                .description("Open client connections").tag("listener", n).register(registry));
        meters.add(FunctionCounter.builder("gatehouse.downstream.received", l, ListenerStats::bytesReceived).baseUnit("bytes")
                .description("Bytes received from clients (HTTP, not tunnels)").tag("listener", n).register(registry));
        meters.add(FunctionCounter.builder("gatehouse.downstream.sent", l, ListenerStats::bytesSent).baseUnit("bytes")
                .description("Bytes sent to clients (HTTP, not tunnels)").tag("listener", n).register(registry));
        meters.add(FunctionCounter.builder("gatehouse.downstream.rejected", l, ListenerStats::rejectedCount)
                .description("Requests refused before routing (malformed, too large, timeouts)").tag("listener", n).register(registry));
        listenerMeters.put(n, meters);
        boundListeners.put(n, l);
    }

    public void close() {
        registry.close();
    }
}
