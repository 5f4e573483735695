package io.gatehouse.proxy;

import io.gatehouse.cluster.Cluster;
import io.gatehouse.filter.Filter;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.telemetry.Tracing;

/**
 * The terminal step of a route that proxies: picks an endpoint of the route's cluster, leases a connection on the
 * exchange's event loop, streams the request up and the response down with backpressure, and retries or answers
 * 502/503/504 with a reason when the cluster fails.
 */
public final class HttpProxy implements Filter {
    private final Cluster cluster;
    private final ProxyHeaders headers;
    private final Tracing tracing;

    public HttpProxy(Cluster cluster, ProxyHeaders headers) {
        this(cluster, headers, null);
    }

    /** @param tracing null when tracing is off */
    public HttpProxy(Cluster cluster, ProxyHeaders headers, Tracing tracing) {
        this.cluster = cluster;
        this.headers = headers;
        this.tracing = tracing;
    }

    public Cluster cluster() {
        return cluster;
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        new ProxyCall(exchange, exchange.route(), cluster, headers, tracing).start();
    }
}
