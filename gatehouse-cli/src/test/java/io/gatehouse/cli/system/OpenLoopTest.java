package io.gatehouse.cli.system;

import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class OpenLoopTest {
    @Test
    void aStallShowsInThePercentilesAsTheQueueItBuilds() throws Exception {
        // The server freezes once for 300 ms, as in a stop-the-world pause: every request that arrives meanwhile is
        // answered when the freeze ends. The freeze starts with the 100th request, well inside the run.
        AtomicInteger seen = new AtomicInteger();
        AtomicLong frozenUntil = new AtomicLong();
        try (TestBackend backend = TestBackend.started().respond(req -> {
            long now = System.nanoTime();
            if (seen.incrementAndGet() == 100) frozenUntil.set(now + Duration.ofMillis(300).toNanos());
            long wait = frozenUntil.get() - now;
            TestResponse res = TestResponse.status(302).header("Location", "https://example.com/");
            return wait > 0 ? res.delayHeaders(Duration.ofNanos(wait)) : res;
        })) {
            URI base = URI.create("http://127.0.0.1:" + backend.port() + "/");
            OpenLoop.Result r = OpenLoop.run(base, List.of("a", "b"), new Zipf(2, 1.0), 200, Duration.ofSeconds(2),
                    Duration.ofSeconds(5), 10_000, 1);
            assertThat(frozenUntil.get()).isPositive();
            assertThat(r.errors()).isZero();
            assertThat(r.ok()).isEqualTo(r.sent()).isEqualTo(400);
            // 200/s for 300 ms: about 60 requests were due during the freeze. Measured from their intended send time,
            // they wait up to 300 ms, so well over 1 % of samples exceed 100 ms. A closed loop would record one.
            long slow = r.latencyMicros().getCountBetweenValues(100_000, Long.MAX_VALUE / 2);
            assertThat(slow).isGreaterThan(20);
            assertThat(r.latencyMicros().getValueAtPercentile(99)).isGreaterThan(100_000);
            // Every request sent has its lateness, and a request's lateness is part of its latency (both count from
            // when it was due), so the latest send can never exceed the slowest answer.
            assertThat(r.latenessMicros().getTotalCount()).isEqualTo(r.sent());
            assertThat(r.latenessMicros().getMaxValue()).isLessThanOrEqualTo(r.latencyMicros().getMaxValue());
        }
    }

    @Test
    void zipfFavoursTheFirstRanks() {
        Zipf z = new Zipf(1000, 1.0);
        SplittableRandom rnd = new SplittableRandom(7);
        int[] counts = new int[1000];
        for (int i = 0; i < 200_000; i++) counts[z.next(rnd)]++;
        // P(rank 1) = 1/H(1000) ≈ 0.1336; P(rank 2) is half of it
        assertThat(counts[0] / 200_000.0).isBetween(0.125, 0.142);
        assertThat((double) counts[1] / counts[0]).isBetween(0.45, 0.55);
        assertThat(counts[999]).isLessThan(counts[0] / 100);
    }

    @Test
    void reportShowsPercentilesAndCacheFigures() {
        org.HdrHistogram.Histogram h = new org.HdrHistogram.Histogram(3);
        for (int i = 1; i <= 1000; i++) h.recordValue(i * 10L);
        org.HdrHistogram.Histogram late = new org.HdrHistogram.Histogram(3);
        for (int i = 1; i <= 1000; i++) late.recordValue(i);
        String text = LoadCommand.report(new OpenLoop.Result(h, late, 1000, 1000, 0, 0, Duration.ofSeconds(1)),
                new LoadCommand.Counters(990, 1000, 10));
        assertThat(text).contains("achieved 1000/s", "p50 5.00", "p99 9.90", "cache hit ratio 0.990",
                "database queries per 1,000 redirects 10.0", "generator lateness, due to sent (ms): p50 0.50  p99 0.99");
        assertThat(text).doesNotContain("the generator was late");
    }

    @Test
    void reportSaysSoWhenTheTailIsMostlyTheGeneratorsLateness() {
        org.HdrHistogram.Histogram h = new org.HdrHistogram.Histogram(3);
        for (int i = 1; i <= 1000; i++) h.recordValue(i * 10L);
        org.HdrHistogram.Histogram late = new org.HdrHistogram.Histogram(3);
        for (int i = 1; i <= 1000; i++) late.recordValue(i * 8L);
        String text = LoadCommand.report(new OpenLoop.Result(h, late, 1000, 1000, 0, 0, Duration.ofSeconds(1)),
                new LoadCommand.Counters(990, 1000, 10));
        assertThat(text).contains("the generator was late: its lateness p99 (7.92 ms) is 80 % of the latency p99");
    }
}
