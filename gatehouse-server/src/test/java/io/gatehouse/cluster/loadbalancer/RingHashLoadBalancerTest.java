package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.gatehouse.cluster.loadbalancer.TestEndpoints.endpoints;
import static io.gatehouse.cluster.loadbalancer.TestEndpoints.key;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RingHashLoadBalancerTest {
    private static final int KEYS = 100_000;
    private final MockTicker ticker = Ticker.newMockTicker();

    private static Endpoint[] assign(LoadBalancer lb) {
        Endpoint[] owners = new Endpoint[KEYS];
        for (int i = 0; i < KEYS; i++) owners[i] = lb.pick(PickContext.of(key(i), true));
        return owners;
    }

    private static Map<Endpoint, Integer> spread(Endpoint[] owners) {
        Map<Endpoint, Integer> counts = new HashMap<>();
        for (Endpoint e : owners) counts.merge(e, 1, Integer::sum);
        return counts;
    }

    @Test
    void sameKeyAlwaysGoesToTheSameEndpoint() {
        LoadBalancer lb = LoadBalancer.ringHash(endpoints(ticker, 1, 1, 1), 0, LoadBalancer.UNBOUNDED);
        Endpoint first = lb.pick(PickContext.of(42, true));
        for (int i = 0; i < 100; i++) assertThat(lb.pick(PickContext.of(42, true))).isSameAs(first);
        // a ring built anew over equal endpoints agrees: placement depends on addresses only
        assertThat(LoadBalancer.ringHash(endpoints(ticker, 1, 1, 1), 0, LoadBalancer.UNBOUNDED)
                .pick(PickContext.of(42, true)).address()).isEqualTo(first.address());
    }

    @Test
    void spreadsKeysEvenlyAndByWeight() {
        List<Endpoint> eps = endpoints(ticker, 1, 1, 1, 1);
        Map<Endpoint, Integer> counts = spread(assign(LoadBalancer.ringHash(eps, 0, LoadBalancer.UNBOUNDED)));
        for (Endpoint e : eps) assertThat(counts.get(e) / (double) KEYS).isCloseTo(0.25, within(0.03));

        List<Endpoint> weighted = endpoints(ticker, 1, 2, 3, 4);
        Map<Endpoint, Integer> wcounts = spread(assign(LoadBalancer.ringHash(weighted, 0, LoadBalancer.UNBOUNDED)));
        for (int i = 0; i < 4; i++) {
            assertThat(wcounts.get(weighted.get(i)) / (double) KEYS).isCloseTo((i + 1) / 10.0, within(0.02));
        }
    }

    @Test
    void addingAFifthEndpointMovesAboutAFifthOfTheKeysAllToIt() {
        List<Endpoint> four = endpoints(ticker, 1, 1, 1, 1, 1).subList(0, 4);
        List<Endpoint> five = endpoints(ticker, 1, 1, 1, 1, 1);
        Endpoint[] before = assign(LoadBalancer.ringHash(four, 0, LoadBalancer.UNBOUNDED));
        Endpoint[] after = assign(LoadBalancer.ringHash(five, 0, LoadBalancer.UNBOUNDED));
        int moved = 0;
        for (int i = 0; i < KEYS; i++) {
            if (!before[i].address().equals(after[i].address())) {
                moved++;
                assertThat(after[i].address()).isEqualTo(five.get(4).address());  // only to the newcomer
            }
        }
        assertThat(moved / (double) KEYS).isBetween(0.17, 0.22);
    }

    @Test
    void removingAnEndpointRemapsOnlyItsKeys() {
        List<Endpoint> eps = endpoints(ticker, 1, 1, 1, 1, 1);
        Endpoint[] before = assign(LoadBalancer.ringHash(eps, 0, LoadBalancer.UNBOUNDED));
        List<Endpoint> remaining = new ArrayList<>(eps);
        Endpoint removed = remaining.remove(2);
        Endpoint[] after = assign(LoadBalancer.ringHash(remaining, 0, LoadBalancer.UNBOUNDED));
        int moved = 0;
        for (int i = 0; i < KEYS; i++) {
            if (before[i] != removed) assertThat(after[i]).isSameAs(before[i]);
            else moved++;
        }
        assertThat(moved).isPositive();
    }

    @Test
    void ringSizeScalesWithEndpointsAndHonoursTheOverride() {
        assertThat(new RingHashLoadBalancer(endpoints(ticker, 1, 1, 1), 0, LoadBalancer.UNBOUNDED).size())
                .isEqualTo(3 * 1024);
        assertThat(new RingHashLoadBalancer(endpoints(ticker, 1, 1, 2), 0, LoadBalancer.UNBOUNDED).size())
                .isEqualTo(768 + 768 + 1536);
        assertThat(new RingHashLoadBalancer(endpoints(ticker, 1, 1), 100, LoadBalancer.UNBOUNDED).size())
                .isEqualTo(100);
    }

    @Test
    void requestsWithoutAKeySpreadAtRandom() {
        List<Endpoint> eps = endpoints(ticker, 1, 1);
        Map<Endpoint, Integer> counts = TestEndpoints.counts(LoadBalancer.ringHash(eps, 0, LoadBalancer.UNBOUNDED), 20_000);
        for (Endpoint e : eps) assertThat(counts.get(e)).isBetween(9_000, 11_000);
    }
}
