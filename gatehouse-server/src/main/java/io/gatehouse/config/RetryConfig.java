package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/**
 * Retries of a route. Connect failures are retried at once on another endpoint, never the same one (within
 * {@code attempts}; none left: answered at once);
 * the conditions in {@code on} apply to idempotent methods only, or to all if {@code non_idempotent} is set.
 *
 * @param attempts      retries after the first try (default 2; 0 disables retries, connect failures included)
 * @param on            any of {@code 502}, {@code 503}, {@code 504}, {@code reset} (connection reset before the
 *                      response head), {@code timeout} (per-try response timeout)
 * @param nonIdempotent allow {@code on} conditions for POST/PATCH too (off by default)
 * @param backoffBase   first backoff; doubles each retry, full jitter
 * @param backoffMax    bound on one backoff
 */
public record RetryConfig(Integer attempts, List<RetryCondition> on, boolean nonIdempotent, Duration backoffBase, Duration backoffMax) {
    public static final RetryConfig DEFAULT = new RetryConfig(null, null, false, null, null);

    public RetryConfig {
        attempts = attempts == null ? 2 : attempts;
        if (attempts < 0 || attempts > 10) throw new IllegalArgumentException("attempts: must be 0..10");
        on = on == null ? List.of() : List.copyOf(on);
        backoffBase = backoffBase == null ? Duration.ofMillis(25) : backoffBase;
        backoffMax = backoffMax == null ? Duration.ofMillis(250) : backoffMax;
    }
}
