package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.gatehouse.cluster.loadbalancer.TestEndpoints.counts;
import static io.gatehouse.cluster.loadbalancer.TestEndpoints.endpoint;
import static io.gatehouse.cluster.loadbalancer.TestEndpoints.endpoints;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RandomLoadBalancerTest {
    private final MockTicker ticker = Ticker.newMockTicker();

    // 100,000 picks: a share's standard deviation is below 0.0016, the tolerances are over 6 of them.
    @Test
    void sharesFollowWeights() {
        List<Endpoint> eps = endpoints(ticker, 1, 3, 6);
        Map<Endpoint, Integer> counts = counts(LoadBalancer.random(eps, ticker, null), 100_000);
        assertThat(counts.get(eps.get(0)) / 100_000.0).isCloseTo(0.1, within(0.01));
        assertThat(counts.get(eps.get(1)) / 100_000.0).isCloseTo(0.3, within(0.01));
        assertThat(counts.get(eps.get(2)) / 100_000.0).isCloseTo(0.6, within(0.01));
    }

    @Test
    void equalWeightsSpreadEvenly() {
        List<Endpoint> eps = endpoints(ticker, 2, 2, 2, 2);
        Map<Endpoint, Integer> counts = counts(LoadBalancer.random(eps, ticker, null), 100_000);
        for (Endpoint e : eps) assertThat(counts.get(e) / 100_000.0).isCloseTo(0.25, within(0.01));
    }

    @Test
    void slowStartRampsANewEndpoint() {
        Endpoint old = endpoint(1, 1, ticker);
        ticker.advance(5, TimeUnit.MINUTES);
        Endpoint fresh = endpoint(2, 1, ticker);
        LoadBalancer lb = LoadBalancer.random(List.of(old, fresh), ticker, Duration.ofSeconds(10));
        // weight 0.1 against 1: share 1/11
        assertThat(counts(lb, 100_000).get(fresh) / 100_000.0).isCloseTo(1 / 11.0, within(0.01));
        ticker.advance(10, TimeUnit.SECONDS);
        assertThat(counts(lb, 100_000).get(fresh) / 100_000.0).isCloseTo(0.5, within(0.01));
    }
}
