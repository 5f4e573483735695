package io.gatehouse.telemetry;

import io.gatehouse.config.AccessLogConfig;
import io.netty.util.internal.PlatformDependent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The access log: one line per request, JSON or nginx "combined". Event loops only {@link #offer} a small record into
 * a bounded queue; one writer thread formats and writes. When the writer falls behind (a slow disk, a blocked
 * stdout), records are dropped and counted, never waited for.
 *
 * <p>The writer works in batches: woken by the first line after it went idle, it then sleeps {@link #BATCH_NANOS}
 * between drains while lines keep coming, and is woken early only when {@link #batchBound} lines wait. Waking it for
 * each line cost one context switch per request on the event loop's core (0.78 per redirect under `up`, measured in
 * bench/results/2026-12-05-system-tail.md); batched, a busy edge wakes it about 100 times a second, and an idle one
 * never (it parks without a timeout when a drain found nothing). A line waits at most ~10 ms to be written.
 *
 * <p>The queue is JCTools' bounded multi-producer single-consumer array queue (shaded in Netty): an offer is one CAS
 * and its size two volatile reads, where an {@code ArrayBlockingQueue} took its lock for the offer and again for the
 * size the batch wake-up needs (bench/results/2026-12-07-access-log.md).
 */
public final class AccessLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);

    /**
     * One request, as the access log reports it. Durations in nanoseconds, -1 when no endpoint was tried.
     * {@code method} and {@code path} are null for a request that could not be parsed.
     */
    public record Entry(long epochMillis, String clientIp, String method, String path, String query, String protocol,
                        int status, long requestBytes, long responseBytes, String endpoint, long endpointNanos,
                        long totalNanos, int retries, String requestId, String userAgent, String referer,
                        String listener, String route, String cluster, String reason) {}

    /** Single consumer: only the writer thread takes from it. Its capacity is queueSize rounded up to a power of two. */
    private final Queue<Entry> queue;
    /** The configured queue size: lines waiting beyond it are dropped, whatever the power-of-two capacity allows. */
    private final int bound;
    private final int capacity;
    private final Writer out;
    private final boolean closeOut;
    private final boolean json;
    private final LongAdder dropped = new LongAdder();
    private final LongAdder written = new LongAdder();
    private final Thread writer;
    /** Drains so far: what the batching saves is visible (and tested: the writer neither spins nor wakes per line). */
    private final LongAdder wakeups = new LongAdder();
    /** How long the writer lets lines gather between drains while they keep coming. */
    static final long BATCH_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** Lines waiting that wake the writer before its batch time is up, so the queue never fills while it sleeps. */
    private final int batchBound;
    /** True while the writer is parked with no timeout, waiting for the first line; the producer who clears it wakes it. */
    private final AtomicBoolean idle = new AtomicBoolean();
    /** Set by {@link #close}; the writer reads it before a drain, and after that drain it stops. */
    private volatile boolean closing;

    /** @param out where lines go; closed by {@link #close} when {@code closeOut} */
    public AccessLog(Writer out, boolean closeOut, io.gatehouse.config.AccessLogFormat format, int queueSize) {
        this.out = out;
        this.closeOut = closeOut;
        this.json = format != io.gatehouse.config.AccessLogFormat.COMBINED;
        this.bound = queueSize;
        this.capacity = Math.max(2, Integer.highestOneBit(Math.max(1, queueSize - 1)) << 1);
        this.queue = PlatformDependent.newFixedMpscQueue(capacity);
        this.batchBound = Math.max(1, Math.min(256, queueSize / 4));
        this.writer = Thread.ofPlatform().name("gatehouse-access-log").daemon().start(this::run);
    }

    /** Opens the configured destination: stdout, or a file appended to. */
    public static AccessLog open(AccessLogConfig config) throws IOException {
        if (config.stdout()) {
            return new AccessLog(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), false, config.format(), config.queueSize());
        }
        Path file = Path.of(config.path());
        Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        return new AccessLog(w, true, config.format(), config.queueSize());
    }

    /** Queues one line; never blocks, takes no lock. False (and counted) when the queue is full. */
    public boolean offer(Entry e) {
        // one lock-free look at the size serves the configured bound and the batch wake-up; with several event loops
        // offering at once it may be stale by their number of lines, which may pass the bound but never the capacity
        int waiting = queue.size();
        if (waiting >= bound || !queue.offer(e)) {
            dropped.increment();
            wake();
            return false;
        }
        // the first line after an idle spell wakes the writer; a full batch wakes it from its batch sleep early
        if (idle.get() ? idle.compareAndSet(true, false) : waiting + 1 >= batchBound) LockSupport.unpark(writer);
        return true;
    }

    private void wake() {
        idle.set(false);
        LockSupport.unpark(writer);
    }

    public long dropped() { return dropped.sum(); }

    public long written() { return written.sum(); }

    /** Times the writer drained the queue (each after a wake-up). */
    long wakeups() { return wakeups.sum(); }

    /** The writer thread, for tests that check it is parked. */
    Thread writerThread() { return writer; }

    private void run() {
        AccessLogLines.Buffer line = new AccessLogLines.Buffer();
        try {
            while (true) {
                wakeups.increment();
                // read before the drain: every line offered before close() set it is in the queue for this drain
                boolean stopping = closing;
                // a drain takes at most what the queue can hold, so that lines that keep coming cannot keep the
                // writer from reading `closing` again; when stopping, that covers every line queued before it. A
                // full drain goes round again at once, without a batch sleep: more may be waiting
                int drained = 0;
                for (Entry e; drained < capacity && (e = queue.poll()) != null; drained++) {
                    line.write(e, json, out);
                    written.increment();
                }
                if (drained > 0 || stopping) out.flush();
                if (stopping) return;
                if (drained > 0 && drained < capacity) {
                    // lines are coming: let the next ones gather (woken early by offer when a batch is full)
                    long deadline = System.nanoTime() + BATCH_NANOS;
                    for (long wait = BATCH_NANOS; wait > 0 && queue.size() < batchBound && !closing;
                         wait = deadline - System.nanoTime()) {
                        LockSupport.parkNanos(this, wait);
                    }
                } else if (drained == 0) {
                    // nothing came during a whole batch time: park until a line does (no timed wake-ups when idle);
                    // the queue is checked after announcing so that a line offered in between is not missed
                    idle.set(true);
                    while (idle.get() && queue.isEmpty() && !closing) LockSupport.park(this);
                    idle.set(false);
                }
                if (Thread.interrupted()) throw new InterruptedException();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.error("access log: cannot write, access logging stops: {}", e.toString());
        }
    }

    /** Writes what is queued (waiting up to 5 s), then stops the writer. */
    @Override
    public void close() {
        // the writer may be in its batch sleep or parked idle: wake it now rather than after its batch time
        closing = true;
        wake();
        try {
            writer.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (closeOut) {
            try {
                out.close();
            } catch (IOException e) {
                log.warn("access log: close failed: {}", e.toString());
            }
        } else {
            try {
                out.flush();
            } catch (IOException ignored) {
                // stdout going away at exit
            }
        }
    }
}
