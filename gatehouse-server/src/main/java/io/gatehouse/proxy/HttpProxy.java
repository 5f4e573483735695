package io.gatehouse.proxy;

import io.gatehouse.cluster.Cluster;
import io.gatehouse.filter.Filter;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.http.HttpExchange;

/**
 * The terminal step of a route that proxies: picks an endpoint of the route's cluster, leases a connection on the
 * exchange's event loop, streams the request up and the response down with backpressure, and retries or answers
 * 502/503/504 with a reason when the cluster fails.
 */
public final class HttpProxy implements io.gatehouse.filter.NamedFilter {
    private final Cluster cluster;
    private final ProxyHeaders headers;

    public HttpProxy(Cluster cluster, ProxyHeaders headers) {
        this.cluster = cluster;
        this.headers = headers;
    }

    public Cluster cluster() {
        return cluster;
    }

    @Override
    public String name() {
        return "proxy";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        // the proxy is one of its route's filters: the route that took the exchange is a compiled Route
        new ProxyCall(exchange, (io.gatehouse.route.Route) exchange.route(), cluster, headers).start();
    }
}
