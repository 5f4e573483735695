package io.gatehouse.cluster;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TrafficStatsTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @Test
    void countsResponsesByStatusClassAndErrors() {
        TrafficStats t = new TrafficStats();
        t.record(200, 1_000_000);
        t.record(204, 1_000_000);
        t.record(404, 1_000_000);
        t.record(502, 1_000_000);
        t.record(499, 1_000_000);

        assertThat(t.requests()).isEqualTo(5);
        assertThat(t.responses(2)).isEqualTo(2);
        assertThat(t.responses(4)).isEqualTo(2);
        assertThat(t.errors()).isEqualTo(1);
    }

    @Test
    void sampleGivesRateAndPercentilesOfTheIntervalOnly() {
        TrafficStats t = new TrafficStats();
        t.sample(0, 1_000);
        for (int i = 0; i < 99; i++) t.record(200, 2_000_000);   // 2 ms
        t.record(503, 100_000_000);                              // 100 ms
        TrafficStats.Sample s = t.sample(5 * SECOND, 6_000);

        assertThat(s.requests()).isEqualTo(100);
        assertThat(s.errors()).isEqualTo(1);
        assertThat(s.requestsPerSecond()).isCloseTo(20.0, within(0.01));
        assertThat(s.p50Millis()).isCloseTo(2.0, within(0.05));
        assertThat(s.p99Millis()).isCloseTo(2.0, within(0.05));
        assertThat(t.recentLatency().maxMillis()).isCloseTo(100.0, within(1.0));

        TrafficStats.Sample quiet = t.sample(10 * SECOND, 11_000);
        assertThat(quiet.requests()).isZero();
        assertThat(quiet.p99Millis()).isZero();
        assertThat(t.history()).extracting(TrafficStats.Sample::epochMillis).containsExactly(1_000L, 6_000L, 11_000L);
    }

    @Test
    void recentLatencyForgetsIntervalsOlderThanTheWindow() {
        TrafficStats t = new TrafficStats();
        t.record(200, 500_000_000);  // one slow request, then a window of fast ones
        t.sample(0, 0);
        for (int i = 1; i <= TrafficStats.WINDOW_INTERVALS; i++) {
            t.record(200, 1_000_000);
            t.sample(i * 5 * SECOND, i);
        }
        assertThat(t.recentLatency().count()).isEqualTo(TrafficStats.WINDOW_INTERVALS);
        assertThat(t.recentLatency().maxMillis()).isLessThan(2.0);
    }

    @Test
    void historyKeepsTheNewestSamplesOnly() {
        TrafficStats t = new TrafficStats();
        for (int i = 0; i < TrafficStats.HISTORY + 7; i++) t.sample(i * 5 * SECOND, i);
        assertThat(t.history()).hasSize(TrafficStats.HISTORY);
        assertThat(t.history().getFirst().epochMillis()).isEqualTo(7);
        assertThat(t.lastSample().epochMillis()).isEqualTo(TrafficStats.HISTORY + 6);
    }

    @Test
    void everyLatencyFallsInABucketWhoseMiddleIsWithinFourPercentOfIt() {
        for (long micros = 0; micros < 5_000_000; micros = Math.max(micros + 1, micros * 1009 / 1000)) {
            int i = TrafficStats.index(micros);
            assertThat(i).isBetween(0, TrafficStats.BUCKETS - 1);
            assertThat(TrafficStats.middle(i)).as("%d µs", micros).isCloseTo(micros, within(Math.max(0.5, micros * 0.04)));
        }
        assertThat(TrafficStats.index(600_000_000L)).isEqualTo(TrafficStats.BUCKETS - 1);
    }
}
