package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ClusterConfig.LoadBalancerConfig;
import io.netty.util.concurrent.Ticker;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Builds the policy a {@link LoadBalancerConfig} names, and the helpers the policies share. */
final class LoadBalancers {
    private LoadBalancers() {}

    /** The balancer over no endpoints: the caller answers 503. */
    static final LoadBalancer NONE = context -> null;

    static LoadBalancer create(LoadBalancerConfig config, List<Endpoint> endpoints, Ticker ticker) {
        double bounded = config.boundedLoad() == null ? LoadBalancer.UNBOUNDED : config.boundedLoad();
        return switch (config.policy()) {
            case ROUND_ROBIN -> LoadBalancer.roundRobin(endpoints, ticker, config.slowStart());
            case RANDOM -> LoadBalancer.random(endpoints, ticker, config.slowStart());
            case LEAST_REQUEST -> LoadBalancer.leastRequest(endpoints, ticker, config.slowStart(), config.choices());
            case LEAST_CONNECTIONS -> LoadBalancer.leastConnections(endpoints);
            case EWMA -> LoadBalancer.ewma(endpoints);
            case RING_HASH -> LoadBalancer.ringHash(endpoints, config.ringSize() == null ? 0 : config.ringSize(), bounded);
            case MAGLEV -> LoadBalancer.maglev(endpoints,
                    config.tableSize() == null ? LoadBalancer.DEFAULT_MAGLEV_TABLE_SIZE : config.tableSize(), bounded);
        };
    }

    static double checkBoundedLoad(double c) {
        if (!(c >= 1.0)) throw new IllegalArgumentException("bounded_load: must be >= 1.0, got " + c);
        return c;
    }

    /**
     * Any endpoint not excluded, starting at a random index (so retries spread), else {@code fallback}. Used when a
     * policy's own choice is excluded; O(n), but only on retries.
     */
    static Endpoint anyNotExcluded(Endpoint[] endpoints, PickContext context, Endpoint fallback) {
        int n = endpoints.length;
        int start = ThreadLocalRandom.current().nextInt(n);
        for (int i = 0; i < n; i++) {
            Endpoint e = endpoints[(start + i) % n];
            if (!context.excluded(e)) return e;
        }
        return fallback;
    }
}
