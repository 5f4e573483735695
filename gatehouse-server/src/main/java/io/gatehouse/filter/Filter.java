package io.gatehouse.filter;

import io.gatehouse.http.HttpExchange;

/**
 * One step of a route's chain (OkHttp's Interceptor, made asynchronous for Netty). A filter either answers the
 * exchange itself (401, 429, a cache hit, a direct response) or calls {@link FilterChain#proceed} exactly once,
 * possibly later, but always on the exchange's event loop. It never blocks. The last filter of every chain is the
 * route's action (proxy, direct response or redirect).
 */
public interface Filter {
    void filter(HttpExchange exchange, FilterChain chain);
}
