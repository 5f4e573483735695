package io.gatehouse.cluster;

import io.gatehouse.config.RetryConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Retry backoff: doubling from backoff_base up to backoff_max, with full jitter from an injected random source. */
class RetryBackoffTest {
    private static final RetryConfig CONFIG = new RetryConfig(5, null, false, Duration.ofMillis(25), Duration.ofMillis(250));

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    @Test
    void theCeilingDoublesPerRetryUpToTheMaximum() {
        assertThat(ms(RetryBackoff.ceilingNanos(CONFIG, 1))).isEqualTo(25);
        assertThat(ms(RetryBackoff.ceilingNanos(CONFIG, 2))).isEqualTo(50);
        assertThat(ms(RetryBackoff.ceilingNanos(CONFIG, 3))).isEqualTo(100);
        assertThat(ms(RetryBackoff.ceilingNanos(CONFIG, 4))).isEqualTo(200);
        assertThat(ms(RetryBackoff.ceilingNanos(CONFIG, 5))).isEqualTo(250);
        assertThat(ms(RetryBackoff.ceilingNanos(CONFIG, 100))).as("no overflow far out").isEqualTo(250);
    }

    @Test
    void theDelayIsDrawnFromZeroToTheCeilingInclusive() {
        // the draw's extremes: the source's lowest and highest answers
        assertThat(RetryBackoff.delayNanos(CONFIG, 3, bound -> 0)).isZero();
        assertThat(RetryBackoff.delayNanos(CONFIG, 3, bound -> bound - 1)).isEqualTo(Duration.ofMillis(100).toNanos());
        assertThat(RetryBackoff.delayNanos(CONFIG, 9, bound -> bound - 1)).isEqualTo(Duration.ofMillis(250).toNanos());
    }

    @Test
    void jitterSpreadsTheDelaysOverTheWholeRange() {
        Random seeded = new Random(42);
        long ceiling = RetryBackoff.ceilingNanos(CONFIG, 2);
        int[] quarters = new int[4];
        for (int i = 0; i < 4000; i++) {
            long d = RetryBackoff.delayNanos(CONFIG, 2, bound -> seeded.nextLong(bound));
            assertThat(d).isBetween(0L, ceiling);
            quarters[(int) Math.min(3, d * 4 / (ceiling + 1))]++;
        }
        // uniform: each quarter of [0, 50 ms] gets about a thousand of the four thousand draws
        for (int q : quarters) assertThat(q).isBetween(850, 1150);
    }

    @Test
    void aZeroBaseMeansNoWait() {
        RetryConfig none = new RetryConfig(2, null, false, Duration.ZERO, Duration.ofMillis(250));
        assertThat(RetryBackoff.delayNanos(none, 1, bound -> {
            throw new AssertionError("no draw without a range");
        })).isZero();
    }
}
