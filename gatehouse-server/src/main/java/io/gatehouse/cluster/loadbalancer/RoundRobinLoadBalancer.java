package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.netty.util.concurrent.Ticker;

import java.util.List;

/**
 * Smooth weighted round robin, exactly as nginx's {@code ngx_http_upstream_get_peer}
 * (ngx_http_upstream_round_robin.c):
 * <pre>
 *   for each endpoint e not yet tried by this request:
 *       current[e] += weight(e); total += weight(e)
 *       best = the e with the largest current (first one on ties)
 *   current[best] -= total
 * </pre>
 * Over any window of sum(weights) picks each endpoint gets exactly its weight, spread out evenly
 * (weights 5,1,1: a a b a c a a). The weight is {@link Endpoint#effectiveWeight(long, long)}, so slow start ramps a
 * new endpoint in. Weights are scaled by {@link #SCALE} into longs: integer weights keep nginx's exact sequence,
 * and a ramping weight (a fraction) keeps 1/1000 resolution.
 *
 * <p>Thread-safety: one uncontended lock around the O(n) pass. The algorithm updates all n counters as one step;
 * a lock-free version would have to copy the counter array on every pick (allocation) or keep per-thread counters
 * (losing the global smoothness and exact shares). An uncontended monitor costs one CAS, and event loops pick
 * from the same cluster rarely at the same instant.
 */
final class RoundRobinLoadBalancer implements LoadBalancer {
    private static final long SCALE = 1000;

    private final Endpoint[] endpoints;
    private final Ticker ticker;
    private final long slowStartNanos;
    /** After this instant no endpoint is ramping (an endpoint that becomes available again rebuilds the balancer). */
    private final long rampEndsNanos;
    private final long[] current;   // guarded by this

    RoundRobinLoadBalancer(List<Endpoint> endpoints, Ticker ticker, long slowStartNanos) {
        this.endpoints = endpoints.toArray(new Endpoint[0]);
        this.ticker = ticker;
        this.slowStartNanos = slowStartNanos;
        this.current = new long[this.endpoints.length];
        long latest = Long.MIN_VALUE;
        for (Endpoint e : this.endpoints) latest = Math.max(latest, e.availableSinceNanos());
        this.rampEndsNanos = latest + slowStartNanos;
    }

    @Override
    public Endpoint pick(PickContext context) {
        long now = slowStartNanos > 0 ? ticker.nanoTime() : 0;
        boolean ramping = slowStartNanos > 0 && now - rampEndsNanos < 0;
        synchronized (this) {
            int best = select(context, now, ramping, true);
            if (best < 0) best = select(context, now, ramping, false); // every endpoint tried already: go round again
            return endpoints[best];
        }
    }

    private int select(PickContext context, long now, boolean ramping, boolean honourExcluded) {
        Endpoint[] eps = endpoints;
        long[] cur = current;
        long total = 0;
        int best = -1;
        for (int i = 0; i < eps.length; i++) {
            Endpoint e = eps[i];
            if (honourExcluded && context.excluded(e)) continue;
            long w = ramping
                    ? Math.max(1, Math.round(e.effectiveWeight(now, slowStartNanos) * SCALE))
                    : e.weight() * SCALE;
            cur[i] += w;
            total += w;
            if (best < 0 || cur[i] > cur[best]) best = i;
        }
        if (best >= 0) cur[best] -= total;
        return best;
    }
}
