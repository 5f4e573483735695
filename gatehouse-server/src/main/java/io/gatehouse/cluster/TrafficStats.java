package io.gatehouse.cluster;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Requests, responses by status class and latency of one cluster or one endpoint: what the admin API, the dashboard
 * and {@code ./gatehouse status} show. Recording is lock-free and cheap (a {@link LongAdder} and one atomic add into
 * a log-linear histogram), so it runs on the event loops on every request. Hand-written rather than HdrHistogram's
 * Recorder: its writer-reader phaser costs two field-updater CASes per record, ~2 % of the event loop's samples.
 *
 * <p>Time windows come from {@link #sample(long, long)}, called at a steady interval by one sampler thread (never an
 * event loop): each call closes an interval, adds it to the history ring and to a sliding latency window of the
 * last {@link #WINDOW_INTERVALS} intervals, from which the recent percentiles are read.
 */
public final class TrafficStats {
    /** Intervals in the sliding latency window (at the 5 s sampling interval: the last minute). */
    public static final int WINDOW_INTERVALS = 12;
    /** Samples kept as history (at 5 s: the last 10 minutes). */
    public static final int HISTORY = 120;
    // Latency buckets over microseconds: exact below 16 µs, then 16 per power of two (each at most 1/16 wide, so a
    // percentile read at the bucket's middle is within ~3 %), up to 10 minutes: 432 buckets, 3.4 KiB.
    private static final int SUB_BITS = 4;
    private static final int SUB = 1 << SUB_BITS;
    private static final long MAX_MICROS = 600_000_000L;
    static final int BUCKETS = index(MAX_MICROS) + 1;

    private final LongAdder[] byClass = new LongAdder[6];   // [0] unused, [1..5] 1xx..5xx
    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);   // since start

    // sampler-owned state (one thread)
    private final long[] lastCounts = new long[BUCKETS];
    private final long[] window = new long[BUCKETS];
    private final ArrayDeque<long[]> windowParts = new ArrayDeque<>(WINDOW_INTERVALS);
    private final ArrayDeque<Sample> history = new ArrayDeque<>(HISTORY);
    private long lastRequests;
    private long lastErrors;
    private long lastSampleNanos = Long.MIN_VALUE;
    private volatile Percentiles recent = Percentiles.NONE;

    public TrafficStats() {
        for (int i = 0; i < byClass.length; i++) byClass[i] = new LongAdder();
    }

    /** One finished request: the status the client got (Gatehouse's own 502/503/504 included) and its duration. */
    public void record(int status, long latencyNanos) {
        int c = status / 100;
        byClass[c >= 1 && c <= 5 ? c : 5].increment();
        counts.incrementAndGet(index(Math.min(MAX_MICROS, Math.max(0, latencyNanos / 1000))));
    }

    static int index(long micros) {
        if (micros < SUB) return (int) micros;
        int exp = 63 - Long.numberOfLeadingZeros(micros);           // >= SUB_BITS
        int sub = (int) (micros >>> (exp - SUB_BITS)) & (SUB - 1);
        return (exp - SUB_BITS + 1) * SUB + sub;
    }

    /** The middle of bucket {@code i}, in microseconds. */
    static double middle(int i) {
        if (i < SUB) return i;
        int group = i / SUB;                                        // >= 1
        long width = 1L << (group - 1);
        long lower = (long) (SUB + i % SUB) << (group - 1);
        return lower + width / 2.0;
    }

    public long requests() {
        long n = 0;
        for (int i = 1; i < byClass.length; i++) n += byClass[i].sum();
        return n;
    }

    /** Responses of one status class, 1..5. */
    public long responses(int statusClass) { return byClass[statusClass].sum(); }

    /** 5xx responses, whether from an endpoint or from Gatehouse itself. */
    public long errors() { return byClass[5].sum(); }

    /** Latency percentiles over the last {@link #WINDOW_INTERVALS} sampling intervals. */
    public Percentiles recentLatency() { return recent; }

    /**
     * Closes the current interval. Call from one thread at a steady pace; {@code nowNanos} is from the cluster's
     * ticker so tests drive time themselves.
     */
    public synchronized Sample sample(long nowNanos, long epochMillis) {
        long[] part = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            long c = counts.get(i);
            part[i] = c - lastCounts[i];
            lastCounts[i] = c;
            window[i] += part[i];
        }
        windowParts.addLast(part);
        if (windowParts.size() > WINDOW_INTERVALS) {
            long[] old = windowParts.removeFirst();
            for (int i = 0; i < BUCKETS; i++) window[i] -= old[i];
        }
        recent = Percentiles.of(window);

        long requests = requests();
        long errors = errors();
        double seconds = lastSampleNanos == Long.MIN_VALUE ? 0 : (nowNanos - lastSampleNanos) / 1e9;
        long dRequests = requests - lastRequests;
        long dErrors = errors - lastErrors;
        lastRequests = requests;
        lastErrors = errors;
        lastSampleNanos = nowNanos;
        Percentiles p = Percentiles.of(part);
        Sample s = new Sample(epochMillis, dRequests, dErrors, seconds > 0 ? dRequests / seconds : 0,
                p.p50Millis(), p.p99Millis());
        if (history.size() == HISTORY) history.removeFirst();
        history.addLast(s);
        return s;
    }

    /** The samples kept, oldest first. */
    public synchronized List<Sample> history() { return new ArrayList<>(history); }

    /** The newest sample, or null before the first. */
    public synchronized Sample lastSample() { return history.peekLast(); }

    /**
     * One sampling interval: when it ended, requests and 5xx responses in it, requests per second, and latency
     * percentiles of the requests that finished in it (0 when none did).
     */
    public record Sample(long epochMillis, long requests, long errors, double requestsPerSecond,
                         double p50Millis, double p99Millis) {}

    /** Latency percentiles in milliseconds, with the number of requests they are taken from. */
    public record Percentiles(long count, double p50Millis, double p90Millis, double p99Millis, double maxMillis) {
        static final Percentiles NONE = new Percentiles(0, 0, 0, 0, 0);

        static Percentiles of(long[] buckets) {
            long n = 0;
            int highest = -1;
            for (int i = 0; i < buckets.length; i++) {
                if (buckets[i] > 0) {
                    n += buckets[i];
                    highest = i;
                }
            }
            if (n == 0) return NONE;
            return new Percentiles(n, ms(at(buckets, n, 0.50)), ms(at(buckets, n, 0.90)), ms(at(buckets, n, 0.99)),
                    ms(middle(highest)));
        }

        /** The value below which {@code q} of the {@code n} samples fall (the middle of the bucket that holds it). */
        private static double at(long[] buckets, long n, double q) {
            long rank = Math.max(1, (long) Math.ceil(q * n));
            long seen = 0;
            for (int i = 0; i < buckets.length; i++) {
                seen += buckets[i];
                if (seen >= rank) return middle(i);
            }
            return 0;
        }

        private static double ms(double micros) { return Math.round(micros / 10.0) / 100.0; }
    }
}
