package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ClusterConfig.LoadBalancerConfig;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static io.gatehouse.cluster.loadbalancer.TestEndpoints.endpoints;
import static io.gatehouse.cluster.loadbalancer.TestEndpoints.excluding;
import static io.gatehouse.cluster.loadbalancer.TestEndpoints.hashed;
import static io.gatehouse.cluster.loadbalancer.TestEndpoints.key;
import static org.assertj.core.api.Assertions.assertThat;

/** What every policy promises: null only when empty, excluded endpoints avoided when possible. */
class PolicyContractTest {
    private final MockTicker ticker = Ticker.newMockTicker();

    static Stream<LoadBalancerConfig> configs() {
        Stream<LoadBalancerConfig> plain = LoadBalancerConfig.POLICIES.stream()
                .map(p -> new LoadBalancerConfig(p, null, null, null, null, null, null, null));
        return Stream.concat(plain, Stream.of(
                new LoadBalancerConfig("round_robin", null, null, null, null, null, Duration.ofSeconds(30), null),
                new LoadBalancerConfig("random", null, null, null, null, null, Duration.ofSeconds(30), null),
                new LoadBalancerConfig("least_request", null, null, null, null, null, Duration.ofSeconds(30), 3),
                new LoadBalancerConfig("ring_hash", null, 1.25, 64, null, null, null, null),
                new LoadBalancerConfig("maglev", null, 1.5, null, 251, null, null, null)));
    }

    @ParameterizedTest
    @MethodSource("configs")
    void returnsNullOnlyForAnEmptyList(LoadBalancerConfig config) {
        assertThat(LoadBalancer.create(config, List.of(), ticker).pick(PickContext.EMPTY)).isNull();
        List<Endpoint> one = endpoints(ticker, 1);
        assertThat(LoadBalancer.create(config, one, ticker).pick(PickContext.EMPTY)).isSameAs(one.get(0));
    }

    @ParameterizedTest
    @MethodSource("configs")
    void avoidsExcludedEndpointsWhenAnotherIsAvailable(LoadBalancerConfig config) {
        List<Endpoint> eps = endpoints(ticker, 1, 2, 1, 3);
        // the one left is not the least loaded (per weight), yet within the bounded-load bound (T = 7, bound 2)
        int[] inFlight = {1, 2, 1, 3};
        for (int i = 0; i < 4; i++) for (int k = 0; k < inFlight[i]; k++) eps.get(i).incrementInFlight();
        LoadBalancer lb = LoadBalancer.create(config, eps, ticker);
        List<Endpoint> tried = List.of(eps.get(0), eps.get(1), eps.get(3));
        for (int i = 0; i < 500; i++) {
            assertThat(lb.pick(excluding(tried))).isSameAs(eps.get(2));
            assertThat(lb.pick(hashed(key(i), tried))).isSameAs(eps.get(2));
        }
        // one excluded: the others share the load
        Set<Endpoint> seen = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            Endpoint e = lb.pick(hashed(key(i), List.of(eps.get(3))));
            assertThat(e).isNotSameAs(eps.get(3));
            seen.add(e);
        }
        assertThat(seen).isNotEmpty();
    }

    @ParameterizedTest
    @MethodSource("configs")
    void stillPicksWhenEveryEndpointIsExcluded(LoadBalancerConfig config) {
        List<Endpoint> eps = endpoints(ticker, 1, 1, 1);
        LoadBalancer lb = LoadBalancer.create(config, eps, ticker);
        for (int i = 0; i < 100; i++) assertThat(lb.pick(hashed(key(i), eps))).isIn(eps);
    }
}
