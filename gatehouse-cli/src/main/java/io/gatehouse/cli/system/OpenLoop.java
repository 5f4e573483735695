package io.gatehouse.cli.system;

import org.HdrHistogram.Histogram;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop load at a fixed rate: request i is due at start + i/rate whether or not earlier ones have answered,
 * and its latency is counted from when it was due, not from when it could be sent. A stalled server therefore
 * shows in the percentiles as the queue it would build for real users (coordinated omission corrected, as wrk2
 * does), instead of quietly slowing the generator down.
 *
 * <p>The correction also charges the generator's own hiccups (its GC, its JIT, a busy CPU) to the server, so the
 * generator's lateness is measured beside it: from when a request was due to when its virtual thread hands it to
 * the HTTP client. A p99 latency close to the p99 lateness is the generator's, not the server's.
 */
public final class OpenLoop {
    /**
     * The outcome: latencies in microseconds from the intended send time, and the generator's own lateness in
     * microseconds (due to handed to the HTTP client) for every request sent.
     */
    public record Result(Histogram latencyMicros, Histogram latenessMicros, long sent, long ok, long errors, long dropped,
                         Duration elapsed) {
        public double achievedRate() {
            return ok / Math.max(1e-9, elapsed.toNanos() / 1e9);
        }
    }

    private OpenLoop() {}

    /**
     * @param paths     what to request; picked by {@code pick} for each request
     * @param maxInFlight beyond this many outstanding requests, new ones are dropped and counted (bounded memory)
     */
    public static Result run(URI base, List<String> paths, Zipf pick, int rate, Duration duration, Duration timeout,
                             int maxInFlight, long seed) throws InterruptedException {
        try (HttpClient client = newClient()) {
            return run(client, base, paths, pick, rate, duration, timeout, maxInFlight, seed);
        }
    }

    /** The client {@link #run} uses: no redirects followed (a redirect is the answer measured), a connect timeout. */
    public static HttpClient newClient() {
        return HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(2)).build();
    }

    /**
     * As {@link #run(URI, List, Zipf, int, Duration, Duration, int, long)} on a client the caller keeps, so that a
     * warm-up and the measured run share its connections (the measured run then opens none).
     */
    public static Result run(HttpClient client, URI base, List<String> paths, Zipf pick, int rate, Duration duration,
                             Duration timeout, int maxInFlight, long seed) throws InterruptedException {
        Histogram histogram = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        Histogram lateness = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        AtomicLong ok = new AtomicLong(), errors = new AtomicLong();
        long dropped = 0, sent = 0;
        Semaphore inFlight = new Semaphore(maxInFlight);
        SplittableRandom random = new SplittableRandom(seed);
        long intervalNanos = 1_000_000_000L / rate;
        long total = duration.toNanos() / intervalNanos;
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (long i = 0; i < total; i++) {
                long due = start + i * intervalNanos;
                long wait = due - System.nanoTime();
                if (wait > 0) LockSupport.parkNanos(wait);
                if (!inFlight.tryAcquire()) {
                    dropped++;
                    continue;
                }
                sent++;
                HttpRequest req = HttpRequest.newBuilder(base.resolve(paths.get(pick.next(random)))).timeout(timeout).build();
                pool.execute(() -> {
                    long late = Math.max(0, (System.nanoTime() - due) / 1000);
                    synchronized (lateness) {
                        lateness.recordValue(Math.min(late, lateness.getHighestTrackableValue()));
                    }
                    try {
                        HttpResponse<Void> r = client.send(req, HttpResponse.BodyHandlers.discarding());
                        long micros = (System.nanoTime() - due) / 1000;
                        synchronized (histogram) {
                            histogram.recordValue(Math.min(micros, histogram.getHighestTrackableValue()));
                        }
                        (r.statusCode() < 400 ? ok : errors).incrementAndGet();
                    } catch (Exception e) {
                        errors.incrementAndGet();
                    } finally {
                        inFlight.release();
                    }
                });
            }
        }
        return new Result(histogram, lateness, sent, ok.get(), errors.get(), dropped, Duration.ofNanos(System.nanoTime() - start));
    }
}
