package io.gatehouse.telemetry;

import io.gatehouse.cluster.TrafficStats;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What recording one finished request costs: the LatencyHistogram behind /metrics (and, for comparison, the Micrometer
 * timer it replaced, with the same buckets), and the TrafficStats the admin API and dashboard read. Both run once (or twice: cluster and endpoint) per request.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class RequestRecordingBenchmark {
    private Timer timer;
    private TrafficStats traffic;
    private LatencyHistogram histogram;
    private long latency = 1_234_567;

    @Setup
    public void setUp() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        java.time.Duration[] slos = java.util.Arrays.stream(LatencyHistogram.BOUNDS_NANOS).mapToObj(java.time.Duration::ofNanos)
                .toArray(java.time.Duration[]::new);
        timer = Timer.builder("bench.requests").tag("route", "r").serviceLevelObjectives(slos).register(registry);
        histogram = new LatencyHistogram(io.prometheus.metrics.model.snapshots.Labels.of("route", "r"));
        traffic = new TrafficStats();
    }

    @Benchmark
    public void prometheusTimer() {
        timer.record(latency, TimeUnit.NANOSECONDS);
        latency ^= 0x5555;
    }

    /** What /metrics records per request instead of a Micrometer timer. */
    @Benchmark
    public void latencyHistogram() {
        histogram.record(latency);
        latency ^= 0x5555;
    }

    @Benchmark
    public void trafficStats() {
        traffic.record(200, latency);
        latency ^= 0x5555;
    }

    @Benchmark
    public long nanoTime() {
        return System.nanoTime();
    }
}
