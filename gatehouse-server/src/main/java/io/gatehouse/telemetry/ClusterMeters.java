package io.gatehouse.telemetry;

import io.prometheus.metrics.model.snapshots.Labels;

import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Meters of one cluster name: gauges and counters read from the {@link Cluster} and its endpoints at scrape time
 * (the cluster keeps the counts; nothing is counted twice), and the duration of attempts per endpoint. A reload
 * that replaces the cluster object re-binds the read-at-scrape meters to the new one; the histograms of unchanged
 * addresses carry on.
 */
public final class ClusterMeters {
    private final MeterRegistry registry;
    private final String name;
    private Cluster bound;
    /** The endpoint list bound: a source of endpoints (DNS, a registry) replaces it whole in the same cluster. */
    private List<Endpoint> boundEndpoints;
    private final List<Meter> bindings = new ArrayList<>();
    private final Map<String, LatencyHistogram> histogramsByAddress = new HashMap<>();
    /** Per endpoint object of the bound cluster; Endpoint has identity equality, so this is an identity lookup. */
    private volatile Map<Endpoint, LatencyHistogram> upstream = Map.of();

    ClusterMeters(MeterRegistry registry, String name) {
        this.registry = registry;
        this.name = name;
    }

    public String name() { return name; }

    /** Duration of one attempt on {@code e} (an endpoint of a replaced cluster is not counted). */
    public void recordUpstream(Endpoint e, long nanos) {
        LatencyHistogram h = upstream.get(e);
        if (h != null) h.record(nanos);
    }

    /** Points the meters at {@code cluster} (the current object of this name). */
    synchronized void bind(Cluster cluster) {
        List<Endpoint> endpoints = cluster.endpoints();
        if (cluster == bound && endpoints == boundEndpoints) return;
        bindings.forEach(registry::remove);
        bindings.clear();
        bound = cluster;
        boundEndpoints = endpoints;
        Tags t = Tags.of("cluster", name);
        bindings.add(Gauge.builder("gatehouse.cluster.connections", cluster,
                        c -> Math.max(0, c.openConnections() - c.idleConnections() - c.pendingConnections()))
                .description("Connections to the cluster's endpoints, by state").tags(t).tag("state", "active").register(registry));
        bindings.add(Gauge.builder("gatehouse.cluster.connections", cluster, Cluster::idleConnections)
                .description("Connections to the cluster's endpoints, by state").tags(t).tag("state", "idle").register(registry));
        bindings.add(Gauge.builder("gatehouse.cluster.connections", cluster, Cluster::pendingConnections)
                .description("Connections to the cluster's endpoints, by state").tags(t).tag("state", "pending").register(registry));
        bindings.add(Gauge.builder("gatehouse.cluster.requests.active", cluster, Cluster::inFlightRequests)
                .description("Requests in flight to the cluster").tags(t).register(registry));
        bindings.add(Gauge.builder("gatehouse.cluster.endpoints.available", cluster, Cluster::availableCount)
                .description("Endpoints the load balancer picks from now").tags(t).register(registry));
        bindings.add(FunctionCounter.builder("gatehouse.cluster.overflows", cluster, Cluster::overflowCount)
                .description("Requests and connections refused by the cluster's limits (circuit breaking)").tags(t).register(registry));
        bindings.add(FunctionCounter.builder("gatehouse.cluster.retries", cluster, Cluster::retryCount)
                .description("Retries started").tags(t).register(registry));
        bindings.add(FunctionCounter.builder("gatehouse.cluster.retry.budget.exhausted", cluster, Cluster::retryBudgetExhaustedCount)
                .description("Retries not made because the retry budget was used up").tags(t).register(registry));

        Map<Endpoint, LatencyHistogram> byEndpoint = new HashMap<>();
        Map<String, LatencyHistogram> keep = new HashMap<>();
        for (Endpoint e : endpoints) {
            Tags et = t.and("endpoint", e.address());
            bindings.add(FunctionCounter.builder("gatehouse.endpoint.health.transitions", e, Endpoint::healthTransitions)
                    .description("Active health verdict changes").tags(et).register(registry));
            bindings.add(FunctionCounter.builder("gatehouse.endpoint.ejections", e, Endpoint::ejections)
                    .description("Ejections by outlier detection").tags(et).register(registry));
            bindings.add(Gauge.builder("gatehouse.endpoint.available", e, x -> x.available(x.ticker().nanoTime()) ? 1 : 0)
                    .description("1 when the endpoint may take new requests").tags(et).register(registry));
            bindings.add(Gauge.builder("gatehouse.endpoint.requests.active", e, Endpoint::inFlight)
                    .description("Requests in flight to the endpoint").tags(et).register(registry));
            LatencyHistogram h = histogramsByAddress.get(e.address());
            if (h == null) h = new LatencyHistogram(Labels.of("cluster", name, "endpoint", e.address()));
            keep.put(e.address(), h);
            byEndpoint.put(e, h);
        }
        // addresses that left the cluster lose their series; those that stay keep counting
        histogramsByAddress.clear();
        histogramsByAddress.putAll(keep);
        upstream = Map.copyOf(byEndpoint);
    }

    /** The duration histograms of the endpoints bound now, for the scrape. */
    synchronized void forEachEndpoint(java.util.function.Consumer<LatencyHistogram> out) {
        histogramsByAddress.values().forEach(out);
    }

    synchronized void remove() {
        bindings.forEach(registry::remove);
        bindings.clear();
        histogramsByAddress.clear();
        upstream = Map.of();
        bound = null;
        boundEndpoints = null;
    }
}
