package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;

/**
 * The walk shared by ring_hash and maglev: a table of slots, each owned by an endpoint, a starting slot from the
 * request hash, and "the next slot" as the fallback sequence (the next point clockwise on the ring, the next entry
 * of the Maglev table). Both tables interleave owners pseudo-randomly by weight, so the walk reaches another
 * endpoint within a few slots.
 *
 * <p>Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, 2016; Google Cloud Pub/Sub, Envoy's
 * {@code hash_balance_factor}): with factor c, endpoint i may take the request only if
 * <pre>  inFlight(i) + 1 <= ceil(c × (totalInFlight + 1) × weight(i) / totalWeight)</pre>
 * (with equal weights: ceil(c × (T + 1) / n)), otherwise the walk moves on. The bounds add up to at least T + 1
 * while the in-flight counts add up to T, so some endpoint is always under its bound and a full walk finds it; if it
 * owns no slot (a tiny weight in a small Maglev table) a scan of the endpoints does. The check reads a snapshot of
 * the in-flight counters, which the caller increments after the pick: picks racing on k event loops can overshoot
 * a bound by at most k - 1.
 *
 * <p>Excluded endpoints are skipped the same way; if every endpoint under its bound is excluded, the first one met
 * is still used rather than break the bound.
 */
final class HashSlots {
    private final Endpoint[] endpoints;
    private final int[] owners;          // slot -> endpoint index
    private final int[] weights;         // snapshot, for the weighted bound
    private final long totalWeight;
    private final double c;              // bounded-load factor, or infinity
    private final boolean bounded;

    HashSlots(Endpoint[] endpoints, int[] owners, double boundedLoad) {
        this.endpoints = endpoints;
        this.owners = owners;
        this.weights = new int[endpoints.length];
        long total = 0;
        for (int i = 0; i < endpoints.length; i++) {
            weights[i] = Math.max(1, endpoints[i].weight());
            total += weights[i];
        }
        this.totalWeight = total;
        this.c = boundedLoad;
        this.bounded = !Double.isInfinite(boundedLoad);
    }

    int size() { return owners.length; }
    Endpoint owner(int slot) { return endpoints[owners[slot]]; }

    /** The endpoint for a request whose hash lands on {@code start}. */
    Endpoint pick(int start, PickContext context) {
        Endpoint first = endpoints[owners[start]];
        if (!bounded) {
            if (!context.excluded(first)) return first;
            return walkForNotExcluded(start, context, first);
        }
        long totalInFlight = 0;
        for (Endpoint e : endpoints) totalInFlight += e.inFlight();
        Endpoint underBoundButExcluded = null;
        int n = owners.length;
        for (int i = 0, slot = start; i < n; i++, slot = slot + 1 == n ? 0 : slot + 1) {
            int idx = owners[slot];
            Endpoint e = endpoints[idx];
            if (!underBound(e, idx, totalInFlight)) continue;
            if (!context.excluded(e)) return e;
            if (underBoundButExcluded == null) underBoundButExcluded = e;
        }
        if (underBoundButExcluded != null) return underBoundButExcluded;
        return scanEndpoints(context, totalInFlight);
    }

    boolean underBound(Endpoint e, int index, long totalInFlight) {
        return e.inFlight() + 1 <= bound(index, totalInFlight);
    }

    /** ceil(c × (T + 1) × w / W); the epsilon keeps 2.0000000000000004 from rounding up to 3. */
    long bound(int index, long totalInFlight) {
        return (long) Math.ceil(c * (totalInFlight + 1) * weights[index] / totalWeight - 1e-9);
    }

    private Endpoint walkForNotExcluded(int start, PickContext context, Endpoint fallback) {
        int n = owners.length;
        for (int i = 1, slot = start + 1 == n ? 0 : start + 1; i < n; i++, slot = slot + 1 == n ? 0 : slot + 1) {
            Endpoint e = endpoints[owners[slot]];
            if (!context.excluded(e)) return e;
        }
        return LoadBalancers.anyNotExcluded(endpoints, context, fallback);
    }

    /** No slot's owner was under its bound: an endpoint owning no slot, or counters that moved under the walk. */
    private Endpoint scanEndpoints(PickContext context, long totalInFlight) {
        Endpoint excluded = null;
        Endpoint lightest = endpoints[0];
        double lightestLoad = Double.MAX_VALUE;
        for (int i = 0; i < endpoints.length; i++) {
            Endpoint e = endpoints[i];
            if (underBound(e, i, totalInFlight)) {
                if (!context.excluded(e)) return e;
                if (excluded == null) excluded = e;
            }
            double load = (e.inFlight() + 1.0) / weights[i];
            if (load < lightestLoad) { lightestLoad = load; lightest = e; }
        }
        return excluded != null ? excluded : lightest;
    }
}
