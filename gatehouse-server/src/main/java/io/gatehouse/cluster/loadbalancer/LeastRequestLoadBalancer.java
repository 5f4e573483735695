package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.netty.util.concurrent.Ticker;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Least request by the power of d choices (Mitzenmacher; Envoy's LEAST_REQUEST): sample {@code choices} endpoints
 * at random and take the one with the lowest {@code (inFlight + 1) / weight}. The first two samples are distinct,
 * so with two endpoints the less loaded one always wins; further samples are with replacement, as in Envoy.
 *
 * <p>Why {@code inFlight + 1}: with plain {@code inFlight / weight} every idle endpoint costs 0 and weights would
 * not matter until load builds up; the {@code + 1} is the request being placed, so an idle heavier endpoint wins
 * and in-flight counts settle in proportion to weights. With equal weights the order is the same as by in-flight,
 * i.e. Envoy's P2C. Ties go to the earlier sample, which is itself random.
 *
 * <p>The weight is {@link Endpoint#effectiveWeight}, so slow start applies. Lock-free, allocation-free: costs are
 * compared by cross-multiplication.
 */
final class LeastRequestLoadBalancer implements LoadBalancer {
    private final Endpoint[] endpoints;
    private final Ticker ticker;
    private final long slowStartNanos;
    private final int choices;

    LeastRequestLoadBalancer(List<Endpoint> endpoints, Ticker ticker, long slowStartNanos, int choices) {
        this.endpoints = endpoints.toArray(new Endpoint[0]);
        this.ticker = ticker;
        this.slowStartNanos = slowStartNanos;
        this.choices = choices;
    }

    @Override
    public Endpoint pick(PickContext context) {
        Endpoint[] eps = endpoints;
        int n = eps.length;
        if (n == 1) return eps[0];
        long now = slowStartNanos > 0 ? ticker.nanoTime() : 0;
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int a = random.nextInt(n);
        int b = random.nextInt(n - 1);
        if (b >= a) b++;
        Endpoint best = null;
        Endpoint bestExcluded = null;
        for (int k = 0; k < choices; k++) {
            Endpoint e = eps[k == 0 ? a : k == 1 ? b : random.nextInt(n)];
            if (context.excluded(e)) {
                if (bestExcluded == null || lighter(e, bestExcluded, now)) bestExcluded = e;
            } else if (best == null || lighter(e, best, now)) {
                best = e;
            }
        }
        return best != null ? best : LoadBalancers.anyNotExcluded(eps, context, bestExcluded);
    }

    /** (inFlight(x) + 1) / w(x) < (inFlight(y) + 1) / w(y), without dividing. */
    private boolean lighter(Endpoint x, Endpoint y, long now) {
        double wx = weight(x, now), wy = weight(y, now);
        return (x.inFlight() + 1.0) * wy < (y.inFlight() + 1.0) * wx;
    }

    private double weight(Endpoint e, long now) {
        return slowStartNanos > 0 ? e.effectiveWeight(now, slowStartNanos) : e.weight();
    }
}
