package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ClusterConfig.LoadBalancerConfig;
import io.netty.util.concurrent.Ticker;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Cost of one {@link LoadBalancer#pick} per policy, over mixed weights and a spread of in-flight counts, connection
 * counts and latencies (so least_* and ewma compare real numbers). Hashing policies get a different key each call;
 * {@code *_bounded} adds bounded loads (c = 1.25), {@code round_robin_slow_start} a slow-start window that is still
 * open.
 *
 * <p>Build and run (from the repository root):
 * <pre>
 * ./mvnw -B -q -ntp -pl gatehouse-benchmarks -am package -DskipTests
 * java -jar gatehouse-benchmarks/target/benchmarks.jar LoadBalancerBenchmark
 * java -jar gatehouse-benchmarks/target/benchmarks.jar LoadBalancerBenchmark -f 1 -wi 1 -i 1 -w 1s -r 1s -p endpoints=3
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class LoadBalancerBenchmark {

    @Param({"round_robin", "round_robin_slow_start", "random", "least_request", "least_connections", "ewma",
            "ring_hash", "ring_hash_bounded", "maglev", "maglev_bounded"})
    public String policy;

    @Param({"3", "100"})
    public int endpoints;

    private LoadBalancer lb;
    private PickContext[] contexts;
    private int next;

    @Setup
    public void setUp() {
        Ticker ticker = Ticker.systemTicker();
        SplittableRandom random = new SplittableRandom(42);
        List<Endpoint> list = new ArrayList<>();
        for (int i = 0; i < endpoints; i++) {
            String host = "10.0." + (i / 250) + "." + (i % 250 + 1);
            Endpoint e = new Endpoint(host + ":8080", InetSocketAddress.createUnresolved(host, 8080),
                    1 + random.nextInt(5), false, ticker);
            for (int k = random.nextInt(20); k > 0; k--) e.incrementInFlight();
            for (int k = random.nextInt(10); k > 0; k--) e.connectionOpened();
            e.recordLatency(TimeUnit.MICROSECONDS.toNanos(200 + random.nextInt(5_000)), ticker.nanoTime());
            list.add(e);
        }
        String name = policy.replace("_bounded", "").replace("_slow_start", "");
        boolean hashing = name.equals("ring_hash") || name.equals("maglev");
        Double bounded = policy.endsWith("_bounded") ? 1.25 : null;
        Duration slowStart = policy.endsWith("_slow_start") ? Duration.ofHours(1) : null;
        lb = LoadBalancer.create(new LoadBalancerConfig(name, null, bounded, null, null, null, slowStart, null), list, ticker);
        contexts = new PickContext[1024];
        for (int i = 0; i < contexts.length; i++) contexts[i] = PickContext.of(random.nextLong(), hashing);
    }

    @Benchmark
    public Endpoint pick() {
        PickContext context = contexts[next++ & 1023];
        return lb.pick(context);
    }
}
