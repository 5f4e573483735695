package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Peak-EWMA (Finagle's {@code PeakEwma}, linkerd): cost = {@code ewmaNanos × (inFlight + 1) / weight}, where
 * {@link Endpoint#ewmaNanos()} jumps up on a slow response and decays over time; power of two choices over that
 * cost. A slow or queueing endpoint is avoided quickly and tried again once its estimate decays.
 *
 * <p>An endpoint with no latency sample yet costs 0 while idle, so it gets tried at once; while it has requests
 * in flight it costs {@link #PENALTY} + inFlight (Finagle's rule), so a new endpoint whose speed is unknown gets
 * probed rather than flooded. Lock-free, allocation-free.
 */
final class EwmaLoadBalancer implements LoadBalancer {
    /** Cost of an unsampled, busy endpoint: above any real latency × load (Finagle uses Long.MaxValue >> 16 ns). */
    static final double PENALTY = (double) (Long.MAX_VALUE >> 16);

    private final Endpoint[] endpoints;

    EwmaLoadBalancer(List<Endpoint> endpoints) {
        this.endpoints = endpoints.toArray(new Endpoint[0]);
    }

    @Override
    public Endpoint pick(PickContext context) {
        Endpoint[] eps = endpoints;
        int n = eps.length;
        if (n == 1) return eps[0];
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int a = random.nextInt(n);
        int b = random.nextInt(n - 1);
        if (b >= a) b++;
        Endpoint x = eps[a], y = eps[b];
        boolean xOut = context.excluded(x), yOut = context.excluded(y);
        if (xOut && yOut) {
            return LoadBalancers.anyNotExcluded(eps, context, cost(x) <= cost(y) ? x : y);
        }
        if (xOut) return y;
        if (yOut) return x;
        return cost(x) <= cost(y) ? x : y;  // a tie goes to x, itself a random sample
    }

    static double cost(Endpoint e) {
        double ewma = e.ewmaNanos();
        int inFlight = e.inFlight();
        if (ewma == 0) return inFlight == 0 ? 0 : PENALTY + inFlight;
        return ewma * (inFlight + 1) / e.weight();
    }
}
