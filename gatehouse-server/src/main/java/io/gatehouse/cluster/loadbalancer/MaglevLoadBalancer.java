package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016, section 3.4), weighted as in Envoy's
 * {@code MaglevTable}.
 *
 * <p>Each endpoint has a permutation of the M table slots (M prime): {@code offset = h1(id) mod M},
 * {@code skip = h2(id) mod (M - 1) + 1}, slot_j = (offset + j × skip) mod M; a prime M makes it visit every slot.
 * Population: in rounds, each endpoint takes its next still-empty preferred slot; weights thin the rounds, an
 * endpoint of weight w taking a turn only when {@code round × w >= target}, its target then growing by the largest
 * weight. The table ends up with slot counts proportional to weight (within about one slot) and, because every
 * endpoint keeps its own preference order, removing an endpoint mostly moves only the slots it held (the paper
 * measures a few percent extra churn; our test documents the figure).
 *
 * <p>Lookup: {@code table[hash mod M]}, O(1), no allocation. The walk for bounded loads and retries takes the
 * following table slots ({@link HashSlots}): a deterministic, weight-proportional sequence per key. Requests without
 * a key go to a random slot. Slow start is not applied (see {@link RingHashLoadBalancer}).
 */
final class MaglevLoadBalancer implements LoadBalancer {
    private final int tableSize;
    private final HashSlots slots;

    MaglevLoadBalancer(List<Endpoint> endpointList, int tableSize, double boundedLoad) {
        if (tableSize < 2 || !isPrime(tableSize)) throw new IllegalArgumentException("table_size: must be a prime, got " + tableSize);
        Endpoint[] endpoints = endpointList.toArray(new Endpoint[0]);
        int n = endpoints.length;
        long m = tableSize;
        long[] position = new long[n];
        long[] skip = new long[n];
        long[] weight = new long[n];
        long[] target = new long[n];
        long maxWeight = 1;
        for (int i = 0; i < n; i++) {
            long id = endpoints[i].id();
            position[i] = Long.remainderUnsigned(Endpoint.mix64(id ^ 0x2545F4914F6CDD1DL), m);
            skip[i] = Long.remainderUnsigned(Endpoint.mix64(id ^ 0x9E3779B97F4A7C15L), m - 1) + 1;
            weight[i] = Math.max(1, endpoints[i].weight());
            maxWeight = Math.max(maxWeight, weight[i]);
        }
        int[] table = new int[tableSize];
        Arrays.fill(table, -1);
        int filled = 0;
        for (long round = 1; filled < tableSize; round++) {
            for (int i = 0; i < n && filled < tableSize; i++) {
                if (round * weight[i] < target[i]) continue;
                target[i] += maxWeight;
                long c = position[i];
                while (table[(int) c] >= 0) c = (c + skip[i]) % m;
                table[(int) c] = i;
                position[i] = (c + skip[i]) % m;
                filled++;
            }
        }
        this.tableSize = tableSize;
        this.slots = new HashSlots(endpoints, table, boundedLoad);
    }

    @Override
    public Endpoint pick(PickContext context) {
        int slot = context.hasHash()
                ? (int) Long.remainderUnsigned(context.hash(), tableSize)
                : ThreadLocalRandom.current().nextInt(tableSize);
        return slots.pick(slot, context);
    }

    HashSlots slots() { return slots; }

    private static boolean isPrime(int n) {
        for (int i = 2; (long) i * i <= n; i++) if (n % i == 0) return false;
        return true;
    }
}
