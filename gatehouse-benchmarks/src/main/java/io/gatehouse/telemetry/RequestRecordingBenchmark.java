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
 * What recording one finished request costs: a Prometheus timer with the latency buckets /metrics exposes, and the
 * TrafficStats the admin API and dashboard read. Both run once (or twice: cluster and endpoint) per request.
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
    private long latency = 1_234_567;

    @Setup
    public void setUp() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        timer = Timer.builder("bench.requests").tag("route", "r").serviceLevelObjectives(Metrics.LATENCY_BUCKETS).register(registry);
        traffic = new TrafficStats();
    }

    @Benchmark
    public void prometheusTimer() {
        timer.record(latency, TimeUnit.NANOSECONDS);
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
