package io.gatehouse.cli.system;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

class OpenLoopTest {
    static HttpServer server;
    static final AtomicBoolean stallNext = new AtomicBoolean();
    static final CountDownLatch stalled = new CountDownLatch(1);

    @BeforeAll
    static void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
        server.createContext("/", ex -> {
            if (stallNext.compareAndSet(true, false)) {
                try {
                    // One 300 ms stall of a single-threaded server: everything due meanwhile queues behind it.
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                stalled.countDown();
            }
            ex.getResponseHeaders().add("Location", "https://example.com/");
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        server.setExecutor(Executors.newSingleThreadExecutor());
        server.start();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    @Test
    void aStallShowsInThePercentilesAsTheQueueItBuilds() throws Exception {
        URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
        stallNext.set(false);
        Thread.ofVirtual().start(() -> {
            // Stall the server once the run is under way (the test's server, not a timing assumption of the test).
            while (!Thread.currentThread().isInterrupted() && stalled.getCount() > 0) {
                stallNext.set(true);
                java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(500).toNanos());
                if (stalled.getCount() == 0) return;
            }
        });
        OpenLoop.Result r = OpenLoop.run(base, List.of("a", "b"), new Zipf(2, 1.0), 200, Duration.ofSeconds(2),
                Duration.ofSeconds(5), 10_000, 1);
        assertThat(stalled.getCount()).isZero();
        assertThat(r.errors()).isZero();
        assertThat(r.ok()).isEqualTo(r.sent()).isGreaterThan(350);
        // 200/s for 300 ms: about 60 requests were due during the stall. Measured from their intended send time,
        // they wait up to 300 ms, so well over 1 % of samples exceed 100 ms. A closed loop would record one.
        long slow = r.latencyMicros().getCountBetweenValues(100_000, Long.MAX_VALUE / 2);
        assertThat(slow).isGreaterThan(20);
        assertThat(r.latencyMicros().getValueAtPercentile(99)).isGreaterThan(100_000);
        // Every request sent has its lateness, and a request's lateness is part of its latency (both count from
        // when it was due), so the latest send can never exceed the slowest answer.
        assertThat(r.latenessMicros().getTotalCount()).isEqualTo(r.sent());
        assertThat(r.latenessMicros().getMaxValue()).isLessThanOrEqualTo(r.latencyMicros().getMaxValue());
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
