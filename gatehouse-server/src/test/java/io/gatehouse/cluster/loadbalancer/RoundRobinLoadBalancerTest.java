package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.gatehouse.cluster.loadbalancer.TestEndpoints.counts;
import static io.gatehouse.cluster.loadbalancer.TestEndpoints.endpoint;
import static io.gatehouse.cluster.loadbalancer.TestEndpoints.endpoints;
import static org.assertj.core.api.Assertions.assertThat;

class RoundRobinLoadBalancerTest {
    private final MockTicker ticker = Ticker.newMockTicker();

    @Test
    void followsNginxSmoothSequenceForWeightsFiveOneOne() {
        List<Endpoint> eps = endpoints(ticker, 5, 1, 1);
        LoadBalancer lb = LoadBalancer.roundRobin(eps, ticker, null);
        StringBuilder sequence = new StringBuilder();
        for (int i = 0; i < 21; i++) sequence.append((char) ('a' + eps.indexOf(lb.pick(PickContext.EMPTY))));
        assertThat(sequence).hasToString("aabacaa" + "aabacaa" + "aabacaa");
    }

    @Test
    void givesEachEndpointExactlyItsWeightPerCycle() {
        int[] weights = {3, 2, 7, 1, 10};
        List<Endpoint> eps = endpoints(ticker, weights);
        LoadBalancer lb = LoadBalancer.roundRobin(eps, ticker, Duration.ZERO);
        Map<Endpoint, Integer> counts = counts(lb, 23 * 100);
        for (int i = 0; i < weights.length; i++) assertThat(counts.get(eps.get(i))).isEqualTo(weights[i] * 100);
    }

    @Test
    void equalWeightsAlternateStrictly() {
        List<Endpoint> eps = endpoints(ticker, 1, 1, 1);
        LoadBalancer lb = LoadBalancer.roundRobin(eps, ticker, null);
        for (int i = 0; i < 30; i++) assertThat(lb.pick(PickContext.EMPTY)).isSameAs(eps.get(i % 3));
    }

    @Test
    void slowStartGivesANewEndpointATenthOfItsShareThenItsFullShare() {
        Duration window = Duration.ofSeconds(60);
        Endpoint a = endpoint(1, 1, ticker), b = endpoint(2, 1, ticker);
        ticker.advance(10, TimeUnit.MINUTES);
        Endpoint fresh = endpoint(3, 1, ticker);  // became available just now
        LoadBalancer lb = LoadBalancer.roundRobin(List.of(a, b, fresh), ticker, window);

        // Scaled weights 1000, 1000, 100: exactly 100 of every 2100 picks go to the fresh endpoint at t = 0.
        assertThat(counts(lb, 2100).get(fresh)).isEqualTo(100);

        ticker.advance(30, TimeUnit.SECONDS);   // half way: weight 0.5
        LoadBalancer half = LoadBalancer.roundRobin(List.of(a, b, fresh), ticker, window);
        assertThat(counts(half, 2500).get(fresh)).isEqualTo(500);

        ticker.advance(30, TimeUnit.SECONDS);
        Map<Endpoint, Integer> after = counts(lb, 3000);
        assertThat(after.get(fresh)).isBetween(999, 1001);  // counters carried from the ramp: off by one at most
        assertThat(counts(lb, 3000).get(fresh)).isBetween(999, 1001);
    }

    @Test
    void concurrentPickersKeepExactTotals() throws Exception {
        List<Endpoint> eps = endpoints(ticker, 5, 3, 2);
        LoadBalancer lb = LoadBalancer.roundRobin(eps, ticker, null);
        int perThread = 100_000;  // 2 × 100,000 is a whole number of cycles of 10
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CountDownLatch start = new CountDownLatch(1);
            Future<int[]> f1 = pool.submit(() -> pickMany(lb, eps, start, perThread));
            Future<int[]> f2 = pool.submit(() -> pickMany(lb, eps, start, perThread));
            start.countDown();
            int[] c1 = f1.get(60, TimeUnit.SECONDS), c2 = f2.get(60, TimeUnit.SECONDS);
            assertThat(c1[0] + c2[0]).isEqualTo(100_000);
            assertThat(c1[1] + c2[1]).isEqualTo(60_000);
            assertThat(c1[2] + c2[2]).isEqualTo(40_000);
        } finally {
            pool.shutdownNow();
        }
    }

    private static int[] pickMany(LoadBalancer lb, List<Endpoint> eps, CountDownLatch start, int picks) throws InterruptedException {
        start.await();
        int[] counts = new int[eps.size()];
        for (int i = 0; i < picks; i++) counts[eps.indexOf(lb.pick(PickContext.EMPTY))]++;
        return counts;
    }
}
