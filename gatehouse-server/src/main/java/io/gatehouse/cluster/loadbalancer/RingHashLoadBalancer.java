package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Consistent hashing on a ring of virtual nodes (Karger et al.; Ketama; Envoy's RING_HASH).
 *
 * <p>Ring: a target size R ({@code ring_size}, default 1024 per endpoint, at most 8M) is shared out by weight:
 * endpoint i gets {@code max(1, round(R × w(i) / W))} points at {@code mix64(id(i) ^ mix64(k))}, k = 0, 1, ….
 * A point depends only on the endpoint's own id, and with equal weights the per-endpoint count is 1024 whatever the
 * endpoint count, so adding an endpoint moves only the keys it takes over (about 1/n of them) and removing one moves
 * only its own keys. 1024 points per endpoint keep each share within a few percent of its weight.
 *
 * <p>Layout: one sorted {@code long[]}; the high 48 bits of each entry are the point and the low 16 bits the owner's
 * index (hence at most 65,536 endpoints). A request's hash with its low 16 bits cleared is binary-searched for the
 * first point at or after it (clockwise), wrapping to the start: O(log R), no allocation. The walk to the next point
 * (bounded loads, retries) is in {@link HashSlots}.
 *
 * <p>Requests without a hash key go to a random ring position, which keeps the weighted spread. Slow start is not
 * applied: ramping a weight would move keys between endpoints twice, defeating the point of consistent hashing.
 */
final class RingHashLoadBalancer implements LoadBalancer {
    static final int MAX_RING_SIZE = 8_388_608;
    static final int POINTS_PER_ENDPOINT = 1024;
    private static final long OWNER_MASK = 0xFFFF;

    private final long[] ring;
    private final HashSlots slots;

    RingHashLoadBalancer(List<Endpoint> endpointList, int ringSize, double boundedLoad) {
        Endpoint[] endpoints = endpointList.toArray(new Endpoint[0]);
        if (endpoints.length > OWNER_MASK + 1) {
            throw new IllegalArgumentException("ring_hash supports at most 65536 endpoints, got " + endpoints.length);
        }
        long target = ringSize > 0 ? ringSize : Math.min((long) POINTS_PER_ENDPOINT * endpoints.length, MAX_RING_SIZE);
        long totalWeight = 0;
        for (Endpoint e : endpoints) totalWeight += Math.max(1, e.weight());
        int[] points = new int[endpoints.length];
        long size = 0;
        for (int i = 0; i < endpoints.length; i++) {
            points[i] = (int) Math.max(1, Math.round((double) target * Math.max(1, endpoints[i].weight()) / totalWeight));
            size += points[i];
        }
        long[] entries = new long[Math.toIntExact(size)];
        int j = 0;
        for (int i = 0; i < endpoints.length; i++) {
            long id = endpoints[i].id();
            for (int k = 0; k < points[i]; k++) {
                long point = Endpoint.mix64(id ^ Endpoint.mix64(k + 0x632BE59BD9B4E019L));
                entries[j++] = (point & ~OWNER_MASK) | i;
            }
        }
        Arrays.sort(entries); // signed order: any total order works as the circle, as long as lookups use the same
        int[] owners = new int[entries.length];
        for (int i = 0; i < entries.length; i++) owners[i] = (int) (entries[i] & OWNER_MASK);
        this.ring = entries;
        this.slots = new HashSlots(endpoints, owners, boundedLoad);
    }

    @Override
    public Endpoint pick(PickContext context) {
        long hash = context.hasHash() ? context.hash() : ThreadLocalRandom.current().nextLong();
        return slots.pick(slotOf(hash), context);
    }

    /** The first ring point at or after {@code hash}, wrapping. */
    int slotOf(long hash) {
        int i = Arrays.binarySearch(ring, hash & ~OWNER_MASK);
        if (i < 0) i = -i - 1;
        return i == ring.length ? 0 : i;
    }

    int size() { return ring.length; }
}
