package io.gatehouse.telemetry;

import io.gatehouse.config.AccessLogFormat;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.Writer;
import java.util.concurrent.TimeUnit;

/**
 * One access log line. {@code offerLine}: what the event loop does per request (build the entry, offer it) while the
 * real writer thread drains and formats beside it; with {@code -prof gc} its bytes/op are every thread's, so they
 * include the writer's formatting garbage. {@code jsonLine}/{@code combinedLine}: the writer's per-line work alone.
 * {@code queueOffer*}: the old and the new queue's producer operations alone, in one run.
 * Run: {@code java -jar gatehouse-benchmarks/target/benchmarks.jar AccessLogBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class AccessLogBenchmark {
    static final int BATCH = 1024;

    /** A proxied request: both durations are formatted. */
    private AccessLog.Entry entry;
    private final AccessLogLines.Buffer buffer = new AccessLogLines.Buffer();
    private final Writer discard = new Discard();
    private long now = 1_764_921_600_123L;
    private long nanos = 1_456_789;

    @Setup
    public void setUp() {
        entry = entry(now, nanos);
    }

    static AccessLog.Entry entry(long epochMillis, long totalNanos) {
        return new AccessLog.Entry(epochMillis, "203.0.113.7", "GET", "/api/items/42", "page=2", "HTTP/1.1", 200, 0,
                1234, "10.0.0.5:8080", totalNanos - 222_222, totalNanos, 0, "4bf92f3577b34da6",
                "Mozilla/5.0 (X11; Linux x86_64) curl/8.0", null, "edge", "api", "app", null);
    }

    /** The writer's work for one JSON line: the very code its loop runs. */
    @Benchmark
    public void jsonLine() throws IOException {
        buffer.write(entry, true, discard);
    }

    @Benchmark
    public void combinedLine() throws IOException {
        buffer.write(entry, false, discard);
    }

    /** An access log whose writer is drained before each batch, so that offers are never dropped. */
    @State(Scope.Thread)
    public static class Offering {
        AccessLog log;
        long offered;

        @Setup(Level.Trial)
        public void open() {
            log = new AccessLog(new Discard(), false, AccessLogFormat.JSON, 8192);
        }

        @Setup(Level.Invocation)
        public void drained() {
            while (log.written() + log.dropped() < offered) Thread.onSpinWait();
        }

        @TearDown(Level.Trial)
        public void close() {
            log.close();
            if (log.dropped() != 0) throw new IllegalStateException("dropped " + log.dropped());
        }
    }

    /** The event loop's work per request: the entry built from the exchange, then offered. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int offerLine(Offering s) {
        int accepted = 0;
        for (int i = 0; i < BATCH; i++) {
            if (s.log.offer(entry(now++, nanos++))) accepted++;
        }
        s.offered += BATCH;
        return accepted;
    }

    /**
     * The queue operations alone, the producer's side of one line: the old {@code ArrayBlockingQueue} (its lock taken
     * by the offer and again by the size the batch wake-up reads) against the JCTools MPSC queue the log uses now
     * (size, then offer; no lock). Emptied before each batch, outside the measured time.
     */
    @State(Scope.Thread)
    public static class Queues {
        final java.util.concurrent.ArrayBlockingQueue<AccessLog.Entry> lock = new java.util.concurrent.ArrayBlockingQueue<>(8192);
        final java.util.Queue<AccessLog.Entry> mpsc = io.netty.util.internal.PlatformDependent.newFixedMpscQueue(8192);
        final AccessLog.Entry entry = entry(1_764_921_600_123L, 1_456_789);

        @Setup(Level.Invocation)
        public void empty() {
            lock.clear();
            while (mpsc.poll() != null) Thread.onSpinWait();
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int queueOfferArrayBlocking(Queues q) {
        int wake = 0;
        for (int i = 0; i < BATCH; i++) {
            if (q.lock.offer(q.entry) && q.lock.size() >= 256) wake++;
        }
        return wake;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int queueOfferMpsc(Queues q) {
        int wake = 0;
        for (int i = 0; i < BATCH; i++) {
            int waiting = q.mpsc.size();
            if (waiting < 8192 && q.mpsc.offer(q.entry) && waiting + 1 >= 256) wake++;
        }
        return wake;
    }

    static final class Discard extends Writer {
        @Override public void write(char[] buf, int off, int len) {}
        @Override public void write(String s) {}
        @Override public void flush() {}
        @Override public void close() {}
    }
}
