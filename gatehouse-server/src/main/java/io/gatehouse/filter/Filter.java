package io.gatehouse.filter;

import io.gatehouse.http.HttpExchange;

/**
 * One step of a route's chain (OkHttp's Interceptor, made asynchronous for Netty). Requests flow down the chain in
 * order; responses flow back up through the sinks filters put in front of the client.
 *
 * <p>A filter sees the request head and may change it, then either answers the exchange itself (401, 429, a cache
 * hit: {@link io.gatehouse.http.LocalResponse}) or calls {@link FilterChain#proceed} exactly once. It may proceed
 * later, after a Redis call or a key fetch: it says so first with {@link FilterChain#later()}, and the chain then
 * continues on the exchange's event loop whatever thread proceeds. It never blocks. Before proceeding it may:
 * <ul>
 *   <li>observe or transform the request body as it streams ({@link HttpExchange#interceptBody});</li>
 *   <li>have the body whole, bounded and replayable ({@link HttpExchange#bufferBody});</li>
 *   <li>see or change the response head and body ({@link HttpExchange#wrapResponse});</li>
 *   <li>hear the end of the exchange ({@link HttpExchange#onComplete}).</li>
 * </ul>
 * The last filter of every chain is the route's action (the proxy, a direct response or a redirect), which answers.
 *
 * <p>A filter that holds resources (a background fetch, a pool) implements {@link AutoCloseable}: it is closed once
 * no route uses it, after a reload that retired its route or at shutdown.
 */
@FunctionalInterface
public interface Filter {
    void filter(HttpExchange exchange, FilterChain chain);
}
