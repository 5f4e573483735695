package io.gatehouse.telemetry;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.gatehouse.config.AccessLogConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
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
 */
public final class AccessLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    private static final JsonFactory JSON = new JsonFactory();
    private static final DateTimeFormatter COMBINED_TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH).withZone(ZoneOffset.UTC);
    private static final Entry STOP = new Entry(0, null, null, null, null, null, 0, 0, 0, null, -1, 0, 0, null, null, null, null, null, null, null);

    /**
     * One request, as the access log reports it. Durations in nanoseconds, -1 when no endpoint was tried.
     * {@code method} and {@code path} are null for a request that could not be parsed.
     */
    public record Entry(long epochMillis, String clientIp, String method, String path, String query, String protocol,
                        int status, long requestBytes, long responseBytes, String endpoint, long endpointNanos,
                        long totalNanos, int retries, String requestId, String userAgent, String referer,
                        String listener, String route, String cluster, String reason) {}

    private final BlockingQueue<Entry> queue;
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
    private final java.util.concurrent.atomic.AtomicBoolean idle = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean closing;

    /** @param out where lines go; closed by {@link #close} when {@code closeOut} */
    public AccessLog(Writer out, boolean closeOut, io.gatehouse.config.AccessLogFormat format, int queueSize) {
        this.out = out;
        this.closeOut = closeOut;
        this.json = format != io.gatehouse.config.AccessLogFormat.COMBINED;
        this.queue = new ArrayBlockingQueue<>(queueSize);
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

    /** Queues one line; never blocks. False (and counted) when the queue is full. */
    public boolean offer(Entry e) {
        if (!queue.offer(e)) {
            dropped.increment();
            wake();
            return false;
        }
        // the first line after an idle spell wakes the writer; a full batch wakes it from its batch sleep early
        if (idle.get() ? idle.compareAndSet(true, false) : queue.size() >= batchBound) LockSupport.unpark(writer);
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
        List<Entry> batch = new ArrayList<>(256);
        StringWriter buffer = new StringWriter(512);
        try {
            while (true) {
                wakeups.increment();
                boolean wrote = false;
                while (queue.drainTo(batch, 256) > 0) {
                    for (Entry e : batch) {
                        if (e == STOP) {
                            out.flush();
                            return;
                        }
                        buffer.getBuffer().setLength(0);
                        if (json) json(e, buffer); else combined(e, buffer.getBuffer());
                        buffer.append('\n');
                        out.write(buffer.getBuffer().toString());
                        written.increment();
                    }
                    batch.clear();
                    wrote = true;
                }
                if (wrote) {
                    out.flush();
                    // lines are coming: let the next ones gather (woken early by offer when a batch is full)
                    long deadline = System.nanoTime() + BATCH_NANOS;
                    for (long left = BATCH_NANOS; left > 0 && queue.size() < batchBound && !closing;
                         left = deadline - System.nanoTime()) {
                        LockSupport.parkNanos(this, left);
                    }
                } else {
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

    static void json(Entry e, Writer to) throws IOException {
        try (JsonGenerator g = JSON.createGenerator(to)) {
            g.writeStartObject();
            g.writeStringField("time", Instant.ofEpochMilli(e.epochMillis()).toString());
            g.writeStringField("client_ip", e.clientIp());
            g.writeStringField("method", e.method());
            g.writeStringField("path", e.query() == null ? e.path() : e.path() + "?" + e.query());
            g.writeStringField("protocol", e.protocol());
            g.writeNumberField("status", e.status());
            g.writeNumberField("request_bytes", e.requestBytes());
            g.writeNumberField("response_bytes", e.responseBytes());
            g.writeStringField("endpoint", e.endpoint());
            if (e.endpointNanos() >= 0) g.writeNumberField("endpoint_ms", millis(e.endpointNanos()));
            else g.writeNullField("endpoint_ms");
            g.writeNumberField("duration_ms", millis(e.totalNanos()));
            g.writeNumberField("retries", e.retries());
            g.writeStringField("request_id", e.requestId());
            g.writeStringField("user_agent", e.userAgent());
            g.writeStringField("referer", e.referer());
            g.writeStringField("listener", e.listener());
            g.writeStringField("route", e.route());
            g.writeStringField("cluster", e.cluster());
            g.writeStringField("reason", e.reason());
            g.writeEndObject();
        }
    }

    /** nginx "combined": {@code $remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"}. */
    static void combined(Entry e, StringBuffer to) {
        to.append(e.clientIp()).append(" - - [").append(COMBINED_TIME.format(Instant.ofEpochMilli(e.epochMillis()))).append("] \"");
        if (e.method() == null) {
            to.append('-');
        } else {
            to.append(e.method()).append(' ');
            quoted(e.query() == null ? e.path() : e.path() + "?" + e.query(), to);
            to.append(' ').append(e.protocol());
        }
        to.append("\" ").append(e.status()).append(' ').append(e.responseBytes()).append(" \"");
        quoted(e.referer() == null ? "-" : e.referer(), to);
        to.append("\" \"");
        quoted(e.userAgent() == null ? "-" : e.userAgent(), to);
        to.append('"');
    }

    /** Escapes what would break the line or its quoting (as nginx does with \xHH). */
    private static void quoted(String s, StringBuffer to) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) to.append(String.format("\\x%02X", (int) c));
            else to.append(c);
        }
    }

    private static double millis(long nanos) {
        return Math.round(nanos / 1_000.0) / 1_000.0; // microsecond precision
    }

    /** Writes what is queued (waiting up to 5 s), then stops the writer. */
    @Override
    public void close() {
        try {
            // a writer stuck for 5 s on a full queue: make room for the stop marker by dropping a line (counted)
            while (!queue.offer(STOP, 5, TimeUnit.SECONDS)) {
                if (queue.poll() != null) dropped.increment();
            }
            // the writer may be in its batch sleep or parked idle: wake it now rather than after its batch time
            closing = true;
            wake();
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
