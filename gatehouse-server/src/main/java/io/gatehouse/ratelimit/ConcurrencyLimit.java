package io.gatehouse.ratelimit;

import io.gatehouse.auth.Identity;
import io.gatehouse.config.ConcurrencyLimitConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code concurrency_limit}: requests in flight per key, counted up here and down by the exchange's completion hook
 * (which fires once however the exchange ends, so a count can never leak). A key's counter goes when it reaches 0.
 */
public final class ConcurrencyLimit implements NamedFilter {
    private final int max;
    private final io.gatehouse.config.ConcurrencyLimitConfig.Key key;
    private final ConcurrentHashMap<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();

    public ConcurrencyLimit(ConcurrencyLimitConfig config, FilterContext context) {
        this.max = config.max();
        this.key = config.key();
    }

    @Override
    public String name() {
        return "concurrency_limit";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        String k = keyOf(exchange);
        AtomicInteger n = inFlight.compute(k, (kk, v) -> {
            AtomicInteger c = v == null ? new AtomicInteger() : v;
            c.incrementAndGet();
            return c;
        });
        if (n.get() > max) {
            release(k);
            exchange.failureReason("concurrency_limited");
            LocalResponse.send(exchange, LocalResponse.problem(HttpResponseStatus.TOO_MANY_REQUESTS, "concurrency_limited",
                    "too many requests in flight; at most " + max));
            return;
        }
        exchange.onComplete(e -> release(k));
        chain.proceed(exchange);
    }

    private void release(String k) {
        inFlight.computeIfPresent(k, (kk, v) -> v.decrementAndGet() <= 0 ? null : v);
    }

    /** Requests of {@code key} in flight now (for tests and the admin API). */
    int inFlight(String key) {
        AtomicInteger n = inFlight.get(key);
        return n == null ? 0 : n.get();
    }

    private String keyOf(HttpExchange exchange) {
        if (key == io.gatehouse.config.ConcurrencyLimitConfig.Key.ROUTE) return "route";
        if (key == io.gatehouse.config.ConcurrencyLimitConfig.Key.CONSUMER) {
            Identity id = exchange.attribute(Identity.KEY);
            if (id != null && id.consumer() != null) return "c:" + id.consumer();
        }
        java.net.InetAddress a = exchange.clientAddress();
        return "ip:" + (a == null ? "unknown" : a.getHostAddress());
    }
}
