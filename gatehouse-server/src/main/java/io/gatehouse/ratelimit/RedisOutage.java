package io.gatehouse.ratelimit;

import io.gatehouse.config.RateLimitConfig.FailurePolicy;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a Redis-backed limit does while Redis cannot decide: let requests through ({@code open}) or answer 503
 * ({@code closed}). Logged once per outage (not per request); {@link #recovered()} ends the outage.
 */
final class RedisOutage {
    private static final Logger log = LoggerFactory.getLogger(RedisOutage.class);

    private final String route;
    private final String what;      // "rate limits", "quotas"
    private final String reason;    // the 503's reason
    private final FailurePolicy policy;
    private volatile boolean down;

    RedisOutage(String route, String what, String reason, FailurePolicy policy) {
        this.route = route;
        this.what = what;
        this.reason = reason;
        this.policy = policy;
    }

    void apply(HttpExchange exchange, FilterChain chain, Throwable error) {
        if (!down) {
            down = true;
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
            log.warn("route {}: Redis cannot decide {} ({}); failing {} until it can", route, what, cause.toString(),
                    policy == FailurePolicy.OPEN ? "open (requests pass)" : "closed (503)");
        }
        if (policy == FailurePolicy.OPEN) {
            chain.proceed(exchange);
            return;
        }
        FullHttpResponse r = LocalResponse.problem(HttpResponseStatus.SERVICE_UNAVAILABLE, reason,
                "the " + what + " cannot be checked now; retry shortly");
        r.headers().set(HttpHeaderNames.RETRY_AFTER, 1);
        exchange.failureReason(reason);
        LocalResponse.send(exchange, r);
    }

    /** Redis answered: the next failure is a new outage (logged again). */
    void recovered() {
        if (down) {
            down = false;
            log.info("route {}: Redis decides {} again", route, what);
        }
    }
}
