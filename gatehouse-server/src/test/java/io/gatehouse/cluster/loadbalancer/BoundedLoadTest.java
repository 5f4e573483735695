package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static io.gatehouse.cluster.loadbalancer.TestEndpoints.endpoints;
import static io.gatehouse.cluster.loadbalancer.TestEndpoints.key;
import static org.assertj.core.api.Assertions.assertThat;

/** Consistent hashing with bounded loads, c = 1.25, for ring_hash and maglev. */
class BoundedLoadTest {
    private final MockTicker ticker = Ticker.newMockTicker();

    private static LoadBalancer build(String policy, List<Endpoint> eps) {
        return policy.equals("ring_hash")
                ? LoadBalancer.ringHash(eps, 0, 1.25)
                : LoadBalancer.maglev(eps, LoadBalancer.DEFAULT_MAGLEV_TABLE_SIZE, 1.25);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ring_hash", "maglev"})
    void noEndpointEverExceedsItsBoundUnderSkewedKeys(String policy) {
        check(policy, endpoints(ticker, 1, 1, 1, 1, 1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ring_hash", "maglev"})
    void noEndpointEverExceedsItsWeightedBound(String policy) {
        check(policy, endpoints(ticker, 1, 2, 3, 4, 10));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ring_hash", "maglev"})
    void theBoundWinsOverARetryExclusion(String policy) {
        List<Endpoint> eps = endpoints(ticker, 1, 1, 1);
        for (int i = 0; i < 3; i++) eps.get(2).incrementInFlight();   // T = 3, bound ceil(1.25 × 4 / 3) = 2
        LoadBalancer lb = build(policy, eps);
        for (int i = 0; i < 200; i++) {
            // endpoint 2 is the only one not yet tried, but it is over its bound: a tried one under it is used
            assertThat(lb.pick(TestEndpoints.hashed(key(i), eps.subList(0, 2)))).isNotSameAs(eps.get(2));
        }
        eps.get(2).decrementInFlight();
        eps.get(2).decrementInFlight();   // T = 1, bound 1: endpoint 2 now holds 1, still at its bound
        assertThat(lb.pick(TestEndpoints.hashed(key(7), eps.subList(0, 2)))).isNotSameAs(eps.get(2));
        eps.get(2).decrementInFlight();   // idle everywhere: the exclusion is honoured
        assertThat(lb.pick(TestEndpoints.hashed(key(7), eps.subList(0, 2)))).isSameAs(eps.get(2));
    }

    /**
     * 70% of requests carry one hot key; requests complete at random while about 60 are in flight. Every pick is
     * checked against ceil(5/4 × (T + 1) × w / W) in exact integer arithmetic.
     */
    private void check(String policy, List<Endpoint> eps) {
        LoadBalancer lb = build(policy, eps);
        long totalWeight = eps.stream().mapToInt(Endpoint::weight).sum();
        Random random = new Random(1234);
        List<Endpoint> outstanding = new ArrayList<>();
        Endpoint hotHome = lb.pick(PickContext.of(key(0), true));
        int hotPicks = 0, hotDiverted = 0;
        for (int step = 0; step < 50_000; step++) {
            if (outstanding.size() >= 60 || (!outstanding.isEmpty() && random.nextInt(3) == 0)) {
                outstanding.remove(random.nextInt(outstanding.size())).decrementInFlight();
                continue;
            }
            boolean hot = random.nextInt(10) < 7;
            Endpoint e = lb.pick(PickContext.of(hot ? key(0) : key(1 + random.nextInt(1_000_000)), true));
            long total = eps.stream().mapToLong(Endpoint::inFlight).sum();
            long numerator = 5 * (total + 1) * e.weight(), denominator = 4 * totalWeight;
            long bound = (numerator + denominator - 1) / denominator;
            assertThat(e.inFlight() + 1L).as("%s at step %d", e, step).isLessThanOrEqualTo(bound);
            if (hot) {
                hotPicks++;
                if (e != hotHome) hotDiverted++;
            }
            e.incrementInFlight();
            outstanding.add(e);
        }
        // the bound did bite: the hot key overflowed to other endpoints, but most of it stayed home
        assertThat(hotDiverted).isPositive();
        assertThat(hotPicks - hotDiverted).isGreaterThan(hotPicks / 10);
    }
}
