package io.gatehouse.cluster;

import io.gatehouse.config.RetryConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retry backoff: doubling from backoff_base up to backoff_max, with full jitter from an injected random source; and,
 * over real sockets, the proxy waits the drawn delay on the injected clock before it retries.
 */
class RetryBackoffTest {
    @org.junit.jupiter.api.Test
    void theProxyRetriesOnlyOnceTheInjectedClockHasPassedTheBackoff() throws Exception {
        io.netty.util.concurrent.MockTicker ticker = io.netty.util.concurrent.Ticker.newMockTicker();
        try (io.gatehouse.testing.TestBackend backend = io.gatehouse.testing.TestBackend.started("b");
             io.gatehouse.Gatehouse g = io.gatehouse.Gatehouse.start(io.gatehouse.config.ConfigLoader.parse("""
                     listeners:
                       - name: edge
                         address: 127.0.0.1:0
                         timeouts: {idle: 10h}
                         routes:
                           - name: all
                             cluster: app
                             retries: {attempts: 1, on: [503], backoff_base: 1h, backoff_max: 1h}
                     clusters:
                       - name: app
                         endpoints: ["%s"]
                         timeouts: {idle: 10h}
                         outlier_detection: {consecutive_5xx: 0}
                     admin: {address: "off"}
                     """.formatted(backend.address()), "test.yaml"), ticker)) {
            backend.enqueue(io.gatehouse.testing.TestResponse.status(503), io.gatehouse.testing.TestResponse.ok("second"));
            java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>> pending = java.net.http.HttpClient.newHttpClient()
                    .sendAsync(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + g.listenerAddress("edge").getPort() + "/x"))
                            .timeout(Duration.ofSeconds(20)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.requestCount() == 1);
            // the clock stands still: however long the wall clock runs, the drawn delay (0..1 h) has not passed
            // atMost leaves room for a stall; both parts only ever turn false, so a longer atMost cannot let a flap pass
            org.awaitility.Awaitility.await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(10))
                    .until(() -> backend.requestCount() == 1 && !pending.isDone());
            ticker.advance(1, java.util.concurrent.TimeUnit.HOURS); // the ceiling: any draw is due now
            java.net.http.HttpResponse<String> r = pending.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("second");
            assertThat(backend.requestCount()).isEqualTo(2);
        }
    }

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
