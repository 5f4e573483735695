package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Least connections (nginx {@code least_conn}, HAProxy {@code leastconn}): the endpoint with the fewest open
 * connections per unit of weight, {@code (connections + 1) / weight}, over a full O(n) scan. The {@code + 1} counts
 * the connection about to be used, so among idle endpoints the heavier one wins (as HAProxy does). Ties are broken
 * uniformly at random by reservoir sampling (the k-th tie replaces the choice with probability 1/k), so a burst
 * onto a cold cluster spreads instead of piling onto endpoint 0. Lock-free, allocation-free.
 */
final class LeastConnectionsLoadBalancer implements LoadBalancer {
    private final Endpoint[] endpoints;

    LeastConnectionsLoadBalancer(List<Endpoint> endpoints) {
        this.endpoints = endpoints.toArray(new Endpoint[0]);
    }

    @Override
    public Endpoint pick(PickContext context) {
        Endpoint e = scan(context, true);
        return e != null ? e : scan(context, false);
    }

    private Endpoint scan(PickContext context, boolean honourExcluded) {
        Endpoint best = null;
        long bestLoad = 0, bestWeight = 1;
        int ties = 0;
        ThreadLocalRandom random = null;
        for (Endpoint e : endpoints) {
            if (honourExcluded && context.excluded(e)) continue;
            long load = e.connections() + 1L;
            long weight = e.weight();
            if (best == null) {
                best = e; bestLoad = load; bestWeight = weight; ties = 1;
                continue;
            }
            long cmp = load * bestWeight - bestLoad * weight;  // sign of load/weight - bestLoad/bestWeight
            if (cmp < 0) {
                best = e; bestLoad = load; bestWeight = weight; ties = 1;
            } else if (cmp == 0) {
                if (random == null) random = ThreadLocalRandom.current();
                if (random.nextInt(++ties) == 0) { best = e; bestLoad = load; bestWeight = weight; }
            }
        }
        return best;
    }
}
