package io.gatehouse.buffering;

import io.gatehouse.config.BufferRequestConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.HttpExchange;

/**
 * {@code buffer_request}: the whole request body is read (bounded by {@code max_size}, 413 above) before the request
 * goes on. The endpoint never waits on a slow upload, and the body can be replayed on any retry.
 */
public final class RequestBuffering implements NamedFilter {
    private final long maxSize;

    public RequestBuffering(BufferRequestConfig config) {
        this.maxSize = config.maxSize();
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        chain.later(exchange);
        exchange.bufferBody(maxSize, () -> chain.proceed(exchange));
    }

    @Override
    public String name() {
        return "buffer_request";
    }
}
