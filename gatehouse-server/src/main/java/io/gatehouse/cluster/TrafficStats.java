package io.gatehouse.cluster;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Requests, responses by status class and latency of one cluster or one endpoint: what the admin API, the dashboard
 * and {@code ./gatehouse status} show. Recording is lock-free and cheap (a {@link LongAdder} and HdrHistogram's
 * wait-free {@link Recorder}), so it runs on the event loops on every request.
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
    // microseconds, 1 µs .. 10 min, 2 significant digits: about 13 KiB per histogram
    private static final long MAX_MICROS = 600_000_000L;

    private final LongAdder[] byClass = new LongAdder[6];   // [0] unused, [1..5] 1xx..5xx
    private final Recorder recorder = new Recorder(1, MAX_MICROS, 2);

    // sampler-owned state (one thread)
    private Histogram interval;
    private final Histogram window = new Histogram(1, MAX_MICROS, 2);
    private final ArrayDeque<Histogram> windowParts = new ArrayDeque<>(WINDOW_INTERVALS);
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
        recorder.recordValue(Math.min(MAX_MICROS, Math.max(1, latencyNanos / 1000)));
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
        interval = recorder.getIntervalHistogram(interval);
        Histogram part = interval.copy();
        window.add(part);
        windowParts.addLast(part);
        if (windowParts.size() > WINDOW_INTERVALS) window.subtract(windowParts.removeFirst());
        recent = Percentiles.of(window);

        long requests = requests();
        long errors = errors();
        double seconds = lastSampleNanos == Long.MIN_VALUE ? 0 : (nowNanos - lastSampleNanos) / 1e9;
        long dRequests = requests - lastRequests;
        long dErrors = errors - lastErrors;
        lastRequests = requests;
        lastErrors = errors;
        lastSampleNanos = nowNanos;
        Percentiles p = Percentiles.of(interval);
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

        static Percentiles of(Histogram h) {
            long n = h.getTotalCount();
            if (n == 0) return NONE;
            return new Percentiles(n, ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)),
                    ms(h.getValueAtPercentile(99)), ms(h.getMaxValue()));
        }

        private static double ms(long micros) { return Math.round(micros / 10.0) / 100.0; }
    }
}
