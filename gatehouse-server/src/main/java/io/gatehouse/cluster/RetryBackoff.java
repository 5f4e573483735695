package io.gatehouse.cluster;

import io.gatehouse.config.RetryConfig;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongUnaryOperator;

/**
 * The wait before a retry: exponential backoff with full jitter (AWS's "full jitter"), a delay drawn uniformly from
 * {@code [0, min(backoff_max, backoff_base × 2^(n-1))]} for the n-th retry. The jitter spreads the retries of many
 * requests that failed together, so they do not hit the endpoints again in one wave.
 */
public final class RetryBackoff {
    /** Uniform draws from {@code [0, bound)}, per thread. */
    public static final LongUnaryOperator RANDOM = bound -> ThreadLocalRandom.current().nextLong(bound);

    private RetryBackoff() {}

    /** The longest wait before retry number {@code retry} (1 for the first). */
    public static long ceilingNanos(RetryConfig config, int retry) {
        long base = config.backoffBase().toNanos();
        long cap = config.backoffMax().toNanos();
        int doublings = Math.min(Math.max(retry - 1, 0), 62);
        long grown = base > (Long.MAX_VALUE >> doublings) ? Long.MAX_VALUE : base << doublings;
        return Math.min(cap, grown);
    }

    /**
     * The wait before retry number {@code retry}.
     *
     * @param uniform draws from {@code [0, bound)} (tests pass their own)
     */
    public static long delayNanos(RetryConfig config, int retry, LongUnaryOperator uniform) {
        long ceiling = ceilingNanos(config, retry);
        return ceiling <= 0 ? 0 : uniform.applyAsLong(ceiling + 1);
    }
}
