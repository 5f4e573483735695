package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.netty.util.concurrent.Ticker;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Weighted random. Equal weights: one {@code nextInt(n)}. Otherwise a draw in [0, total weight) and a binary
 * search over the cumulative weights precomputed in the constructor: O(log n), no allocation, no lock.
 *
 * <p>Slow start: while some endpoint is still inside its ramp window (known at construction, since an endpoint that
 * becomes available again rebuilds the balancer), each pick sums {@link Endpoint#effectiveWeight} live and scans:
 * O(n) only during the window.
 */
final class RandomLoadBalancer implements LoadBalancer {
    private final Endpoint[] endpoints;
    private final Ticker ticker;
    private final long slowStartNanos;
    private final long rampEndsNanos;      // after this instant no endpoint is ramping
    private final boolean rampsAtStart;
    private final long[] cumulative;       // cumulative[i] = sum of weights 0..i; null when all weights are equal

    RandomLoadBalancer(List<Endpoint> endpoints, Ticker ticker, long slowStartNanos) {
        this.endpoints = endpoints.toArray(new Endpoint[0]);
        this.ticker = ticker;
        this.slowStartNanos = slowStartNanos;
        long latest = Long.MIN_VALUE;
        boolean equal = true;
        long[] cum = new long[this.endpoints.length];
        long sum = 0;
        for (int i = 0; i < this.endpoints.length; i++) {
            Endpoint e = this.endpoints[i];
            latest = Math.max(latest, e.availableSinceNanos());
            equal &= e.weight() == this.endpoints[0].weight();
            sum += e.weight();
            cum[i] = sum;
        }
        this.cumulative = equal ? null : cum;
        this.rampEndsNanos = latest + slowStartNanos;
        this.rampsAtStart = slowStartNanos > 0 && ticker.nanoTime() - rampEndsNanos < 0;
    }

    @Override
    public Endpoint pick(PickContext context) {
        Endpoint e = rampsAtStart && ticker.nanoTime() - rampEndsNanos < 0 ? pickRamping() : pickStatic();
        return context.excluded(e) ? LoadBalancers.anyNotExcluded(endpoints, context, e) : e;
    }

    private Endpoint pickStatic() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long[] cum = cumulative;
        if (cum == null) return endpoints[random.nextInt(endpoints.length)];
        long r = random.nextLong(cum[cum.length - 1]);
        int lo = 0, hi = cum.length - 1;   // find the first i with cum[i] > r
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cum[mid] > r) hi = mid; else lo = mid + 1;
        }
        return endpoints[lo];
    }

    private Endpoint pickRamping() {
        long now = ticker.nanoTime();
        double total = 0;
        for (Endpoint e : endpoints) total += e.effectiveWeight(now, slowStartNanos);
        double r = ThreadLocalRandom.current().nextDouble(total);
        for (Endpoint e : endpoints) {
            r -= e.effectiveWeight(now, slowStartNanos);
            if (r < 0) return e;
        }
        return endpoints[endpoints.length - 1]; // rounding, or a weight that moved between the two passes
    }
}
