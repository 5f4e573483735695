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

/** least_request, least_connections and ewma. */
class LeastLoadedLoadBalancerTest {
    private final MockTicker ticker = Ticker.newMockTicker();

    private static void inFlight(Endpoint e, int n) {
        for (int i = 0; i < n; i++) e.incrementInFlight();
    }

    private static void connections(Endpoint e, int n) {
        for (int i = 0; i < n; i++) e.connectionOpened();
    }

    @Test
    void leastRequestAlwaysPicksTheIdleOfTwoEndpoints() {
        List<Endpoint> eps = endpoints(ticker, 1, 1);
        inFlight(eps.get(0), 10);
        LoadBalancer lb = LoadBalancer.leastRequest(eps, ticker, null, 2);
        for (int i = 0; i < 1000; i++) assertThat(lb.pick(PickContext.EMPTY)).isSameAs(eps.get(1));
    }

    @Test
    void leastRequestPrefersTheIdleEndpointAmongMany() {
        List<Endpoint> eps = endpoints(ticker, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        for (int i = 1; i < eps.size(); i++) inFlight(eps.get(i), 5);
        LoadBalancer lb = LoadBalancer.leastRequest(eps, ticker, null, 2);
        // P2C: the idle endpoint wins whenever it is sampled, 2 in 10 picks; random would give 1 in 10
        int idle = counts(lb, 100_000).get(eps.get(0));
        assertThat(idle / 100_000.0).isBetween(0.18, 0.22);
        // more choices find it more often: 1 - (9/10)^2 (the third sample may repeat) rises to about 0.27
        int idleWithThree = counts(LoadBalancer.leastRequest(eps, ticker, null, 3), 100_000).get(eps.get(0));
        assertThat(idleWithThree).isGreaterThan(idle);
    }

    @Test
    void leastRequestSettlesInFlightInProportionToWeights() {
        List<Endpoint> eps = endpoints(ticker, 3, 1);
        LoadBalancer lb = LoadBalancer.leastRequest(eps, ticker, null, 2);
        for (int i = 0; i < 400; i++) lb.pick(PickContext.EMPTY).incrementInFlight();
        assertThat(eps.get(0).inFlight()).isBetween(298, 302);
        assertThat(eps.get(1).inFlight()).isBetween(98, 102);
    }

    @Test
    void leastRequestAppliesSlowStart() {
        Endpoint old = endpoint(1, 1, ticker);
        ticker.advance(5, TimeUnit.MINUTES);
        Endpoint fresh = endpoint(2, 1, ticker);
        LoadBalancer lb = LoadBalancer.leastRequest(List.of(old, fresh), ticker, Duration.ofSeconds(10), 2);
        for (int i = 0; i < 220; i++) lb.pick(PickContext.EMPTY).incrementInFlight();
        // effective weights 1 and 0.1: the fresh endpoint holds about a tenth of the old one's requests
        assertThat(fresh.inFlight()).isBetween(18, 22);

        ticker.advance(10, TimeUnit.SECONDS);
        for (int i = 0; i < 180; i++) lb.pick(PickContext.EMPTY).incrementInFlight();
        assertThat(fresh.inFlight()).isBetween(195, 205);
        assertThat(old.inFlight()).isBetween(195, 205);
    }

    @Test
    void leastConnectionsPicksTheFewestConnectionsPerWeight() {
        List<Endpoint> eps = endpoints(ticker, 1, 1, 1);
        connections(eps.get(0), 5);
        connections(eps.get(1), 1);
        connections(eps.get(2), 3);
        LoadBalancer lb = LoadBalancer.leastConnections(eps);
        for (int i = 0; i < 100; i++) assertThat(lb.pick(PickContext.EMPTY)).isSameAs(eps.get(1));

        List<Endpoint> weighted = endpoints(ticker, 4, 1);
        connections(weighted.get(0), 6);   // (6 + 1) / 4 = 1.75
        connections(weighted.get(1), 1);   // (1 + 1) / 1 = 2
        assertThat(LoadBalancer.leastConnections(weighted).pick(PickContext.EMPTY)).isSameAs(weighted.get(0));
    }

    @Test
    void leastConnectionsBreaksTiesAtRandom() {
        List<Endpoint> eps = endpoints(ticker, 1, 1, 1);
        Map<Endpoint, Integer> counts = counts(LoadBalancer.leastConnections(eps), 30_000);
        for (Endpoint e : eps) assertThat(counts.get(e)).isBetween(9_000, 11_000);
    }

    @Test
    void ewmaPrefersTheFasterEndpoint() {
        List<Endpoint> eps = endpoints(ticker, 1, 1);
        eps.get(0).recordLatency(TimeUnit.MILLISECONDS.toNanos(20), ticker.nanoTime());
        eps.get(1).recordLatency(TimeUnit.MILLISECONDS.toNanos(2), ticker.nanoTime());
        LoadBalancer lb = LoadBalancer.ewma(eps);
        for (int i = 0; i < 100; i++) assertThat(lb.pick(PickContext.EMPTY)).isSameAs(eps.get(1));

        // the fast one gets queued up: 2 ms × 11 > 20 ms × 1, so the slow idle one is now cheaper
        inFlight(eps.get(1), 10);
        assertThat(lb.pick(PickContext.EMPTY)).isSameAs(eps.get(0));
    }

    @Test
    void ewmaSendsTrafficBackToAnEndpointThatWasSlowOnceAsTimePasses() {
        List<Endpoint> eps = endpoints(ticker, 1, 1);
        Endpoint once = eps.get(0), steady = eps.get(1);
        once.recordLatency(TimeUnit.SECONDS.toNanos(1), ticker.nanoTime());        // one slow answer
        steady.recordLatency(TimeUnit.MILLISECONDS.toNanos(10), ticker.nanoTime());
        LoadBalancer lb = LoadBalancer.ewma(eps);
        assertThat(lb.pick(PickContext.EMPTY)).isSameAs(steady);
        // a minute on, with the steady one still answering in 10 ms and nothing new from the other
        for (int s = 0; s < 60; s++) {
            ticker.advance(1, TimeUnit.SECONDS);
            steady.recordLatency(TimeUnit.MILLISECONDS.toNanos(10), ticker.nanoTime());
            if (s < 20) assertThat(lb.pick(PickContext.EMPTY)).as("after %d s", s + 1).isSameAs(steady);
        }
        assertThat(once.ewmaNanos()).isLessThan(TimeUnit.MILLISECONDS.toNanos(10));
        assertThat(lb.pick(PickContext.EMPTY)).isSameAs(once);
        // it answers fast now: its estimate stays low and it keeps its share as the other gets busy
        once.recordLatency(TimeUnit.MILLISECONDS.toNanos(5), ticker.nanoTime());
        inFlight(steady, 1);
        for (int i = 0; i < 100; i++) assertThat(lb.pick(PickContext.EMPTY)).isSameAs(once);
    }

    @Test
    void ewmaTriesAnUnsampledEndpointOnceButDoesNotFloodIt() {
        List<Endpoint> eps = endpoints(ticker, 1, 1);
        Endpoint sampled = eps.get(0), unknown = eps.get(1);
        sampled.recordLatency(TimeUnit.MILLISECONDS.toNanos(5), ticker.nanoTime());
        inFlight(sampled, 3);
        LoadBalancer lb = LoadBalancer.ewma(eps);
        assertThat(lb.pick(PickContext.EMPTY)).isSameAs(unknown);
        unknown.incrementInFlight();
        assertThat(lb.pick(PickContext.EMPTY)).isSameAs(sampled);
    }
}
