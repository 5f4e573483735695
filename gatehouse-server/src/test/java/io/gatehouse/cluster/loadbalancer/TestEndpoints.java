package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.netty.util.concurrent.Ticker;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Endpoints and pick contexts for load balancer tests. */
final class TestEndpoints {
    private TestEndpoints() {}

    static Endpoint endpoint(int n, int weight, Ticker ticker) {
        String address = "10.0.0." + n + ":80";
        return new Endpoint(address, InetSocketAddress.createUnresolved("10.0.0." + n, 80), weight, false, ticker);
    }

    /** Endpoints 10.0.0.1, 10.0.0.2, … with these weights. */
    static List<Endpoint> endpoints(Ticker ticker, int... weights) {
        List<Endpoint> list = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) list.add(endpoint(i + 1, weights[i], ticker));
        return list;
    }

    static PickContext excluding(Collection<Endpoint> excluded) {
        Set<Endpoint> set = Set.copyOf(excluded);
        return new PickContext() {
            @Override public long hash() { return 0; }
            @Override public boolean hasHash() { return false; }
            @Override public boolean excluded(Endpoint endpoint) { return set.contains(endpoint); }
        };
    }

    static PickContext hashed(long hash, Collection<Endpoint> excluded) {
        Set<Endpoint> set = Set.copyOf(excluded);
        return new PickContext() {
            @Override public long hash() { return hash; }
            @Override public boolean hasHash() { return true; }
            @Override public boolean excluded(Endpoint endpoint) { return set.contains(endpoint); }
        };
    }

    /** How many times each endpoint is picked in {@code picks} picks without a hash. */
    static Map<Endpoint, Integer> counts(LoadBalancer lb, int picks) {
        Map<Endpoint, Integer> counts = new HashMap<>();
        for (int i = 0; i < picks; i++) counts.merge(lb.pick(PickContext.EMPTY), 1, Integer::sum);
        return counts;
    }

    /** Request hashes as HashKey would produce them. */
    static long key(int i) {
        return Endpoint.mix64(i * 0x9E3779B97F4A7C15L + 7);
    }
}
