package io.gatehouse.telemetry;

import io.gatehouse.config.AccessLogFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The writer's batching: it is woken per batch, not per line; it parks without a timeout when idle (no spinning, no
 * timed polls); and closing writes every line that was accepted, wherever the writer was in its cycle.
 */
class AccessLogBatchingTest {
    @TempDir
    Path dir;

    @Test
    void everyAcceptedLineIsWrittenAtShutdownEvenWhenCloseComesMidBatch() throws Exception {
        Path file = dir.resolve("access.log");
        AccessLog log = new AccessLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND), true, AccessLogFormat.JSON, 50_000);
        int threads = 4, perThread = 5_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> producers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            producers.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < perThread; i++) log.offer(entry("t" + id + "-" + i));
            }));
        }
        go.countDown();
        for (Thread p : producers) p.join();
        log.close(); // straight after the last offer: the writer is mid-drain or in its batch sleep

        List<String> lines = Files.readAllLines(file);
        assertThat(log.dropped()).isZero();
        assertThat(lines).hasSize(threads * perThread);
        Set<String> ids = new HashSet<>();
        for (String l : lines) ids.add(l.replaceAll(".*\"request_id\":\"([^\"]+)\".*", "$1"));
        assertThat(ids).hasSize(threads * perThread).contains("t0-0", "t3-" + (perThread - 1));
        assertThat(log.writerThread().isAlive()).isFalse();
    }

    @Test
    void aSteadyTrickleWakesTheWriterPerBatchNotPerLineAndAnIdleWriterParksWithoutATimeout() throws Exception {
        Lines out = new Lines();
        AccessLog log = new AccessLog(out, false, AccessLogFormat.JSON, 8192);
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> log.writerThread().getState() == Thread.State.WAITING);
            long before = log.wakeups();
            int n = 400;
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                log.offer(entry("r" + i));
                LockSupport.parkNanos(100_000); // a line about every 0.1 ms: the pace of a busy edge
            }
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            await().atMost(Duration.ofSeconds(5)).until(() -> log.written() == n);
            long wakeups = log.wakeups() - before;
            // one drain per batch time while lines come (plus the first line's wake-up and the last, empty, drain);
            // a writer woken per line would have drained about n times
            long batches = elapsedMs / TimeUnit.NANOSECONDS.toMillis(AccessLog.BATCH_NANOS) + 1;
            assertThat(wakeups).isLessThanOrEqualTo(batches + 3).isLessThan(n / 4);
            assertThat(out.lines()).isEqualTo(n);

            // idle again: parked with no timeout (WAITING, not TIMED_WAITING or RUNNABLE), so it neither spins nor polls
            await().atMost(Duration.ofSeconds(5)).until(() -> log.writerThread().getState() == Thread.State.WAITING);
            long parked = log.wakeups();
            log.offer(entry("after-idle"));
            await().atMost(Duration.ofSeconds(5)).until(() -> log.written() == n + 1); // the first line wakes it
            assertThat(log.wakeups()).isGreaterThan(parked);
        } finally {
            log.close();
        }
        assertThat(log.writerThread().isAlive()).isFalse();
    }

    @Test
    void closingWhileLinesKeepComingWritesEveryLineAcceptedBeforeAndStillStops() throws Exception {
        // a slow disk: the writer is slower than the producers, so the queue does not empty while they run
        Lines out = new Lines() {
            @Override
            public synchronized void write(char[] buf, int off, int len) {
                // parked to a deadline: a producer's unpark (on a drop) must not cut it short
                long end = System.nanoTime() + 20_000;
                for (long left = 20_000; left > 0; left = end - System.nanoTime()) LockSupport.parkNanos(left);
                super.write(buf, off, len);
            }
        };
        AccessLog log = new AccessLog(out, false, AccessLogFormat.JSON, 1000);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong[] accepted = {new AtomicLong(), new AtomicLong()};
        List<Thread> producers = new ArrayList<>();
        for (AtomicLong count : accepted) {
            producers.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; !stop.get(); i++) if (log.offer(entry("c" + i))) count.incrementAndGet();
            }));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> log.written() > 500 && log.dropped() > 0);
        long acceptedBeforeClose = accepted[0].get() + accepted[1].get();
        log.close(); // the producers go on offering through and after the close
        assertThat(log.writerThread().isAlive()).as("stopped although lines keep coming").isFalse();
        stop.set(true);
        for (Thread p : producers) p.join();
        assertThat(log.written()).isGreaterThanOrEqualTo(acceptedBeforeClose);
        assertThat(out.lines()).isEqualTo(log.written());
    }

    @Test
    void aQueueSizeThatIsNotAPowerOfTwoIsTheExactBound() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Lines out = new Lines() {
            @Override
            public synchronized void write(char[] buf, int off, int len) {
                writing.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.write(buf, off, len);
            }
        };
        AccessLog log = new AccessLog(out, false, AccessLogFormat.JSON, 5); // a capacity of 8 underneath
        try {
            assertThat(log.offer(entry("held"))).isTrue();
            assertThat(writing.await(5, TimeUnit.SECONDS)).isTrue(); // the writer holds it, blocked in write
            for (int i = 0; i < 5; i++) assertThat(log.offer(entry("q" + i))).as("line %d", i).isTrue();
            assertThat(log.offer(entry("over"))).isFalse();
            assertThat(log.offer(entry("over"))).isFalse();
            assertThat(log.dropped()).isEqualTo(2);
        } finally {
            release.countDown();
            log.close();
        }
        assertThat(log.written()).isEqualTo(6);
        assertThat(out.lines()).isEqualTo(6);
    }

    private static AccessLog.Entry entry(String requestId) {
        return new AccessLog.Entry(0, "127.0.0.1", "GET", "/", null, "HTTP/1.1", 200, 0, 10, null, -1, 1000, 0,
                requestId, null, null, "edge", "r", null, null);
    }

    /** Counts the lines the writer thread writes. */
    static class Lines extends java.io.Writer {
        private long newlines;

        @Override
        public synchronized void write(char[] buf, int off, int len) {
            for (int i = off; i < off + len; i++) if (buf[i] == '\n') newlines++;
        }

        @Override public void write(String s) { write(s.toCharArray(), 0, s.length()); }
        @Override public void flush() {}
        @Override public void close() {}

        synchronized long lines() { return newlines; }
    }
}
