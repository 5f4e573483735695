package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ClusterConfig.LoadBalancerConfig;
import io.netty.util.concurrent.Ticker;

import java.time.Duration;
import java.util.List;

/**
 * Chooses one endpoint for a request. An instance is built over the endpoints available at that moment and is
 * replaced (cheaply) when the available set changes. Implementations are thread-safe: event loops pick concurrently.
 *
 * <p>Every policy reads live load ({@link Endpoint#inFlight()}, {@link Endpoint#connections()},
 * {@link Endpoint#ewmaNanos()}) at pick time. Policies that precompute tables from weights (random, ring_hash,
 * maglev) snapshot {@link Endpoint#weight()} when built, so a weight change must rebuild the balancer; the others
 * read weights live.
 *
 * <p>{@link PickContext#excluded(Endpoint)} is honoured whenever another endpoint exists; {@code pick} returns null
 * only for an empty endpoint list.
 */
public interface LoadBalancer {

    /** {@code boundedLoad} meaning "no bound" for {@link #ringHash} and {@link #maglev}. */
    double UNBOUNDED = Double.POSITIVE_INFINITY;

    /** Maglev's default lookup table size (a prime, as Google's paper and Envoy use). */
    int DEFAULT_MAGLEV_TABLE_SIZE = 65_537;

    /**
     * @return the endpoint for this request, or null when none can take it (the caller answers 503)
     */
    Endpoint pick(PickContext context);

    /** Builds the policy named in {@code config} over {@code endpoints} (all of them currently available). */
    static LoadBalancer create(LoadBalancerConfig config, List<Endpoint> endpoints, Ticker ticker) {
        return LoadBalancers.create(config, endpoints, ticker);
    }

    /**
     * Smooth weighted round robin, exactly nginx's: a stable, evenly interleaved sequence (weights 5,1,1 give
     * a a b a c a a).
     *
     * @param slowStart ramp window of a newly available endpoint's weight; null or zero: off
     */
    static LoadBalancer roundRobin(List<Endpoint> endpoints, Ticker ticker, Duration slowStart) {
        return endpoints.isEmpty() ? LoadBalancers.NONE : new RoundRobinLoadBalancer(endpoints, ticker, nanos(slowStart));
    }

    /** Weighted random; {@code slowStart} as in {@link #roundRobin}. */
    static LoadBalancer random(List<Endpoint> endpoints, Ticker ticker, Duration slowStart) {
        return endpoints.isEmpty() ? LoadBalancers.NONE : new RandomLoadBalancer(endpoints, ticker, nanos(slowStart));
    }

    /**
     * Power of {@code choices} random choices over weighted in-flight requests (Envoy's P2C when weights are
     * equal); {@code slowStart} as in {@link #roundRobin}.
     */
    static LoadBalancer leastRequest(List<Endpoint> endpoints, Ticker ticker, Duration slowStart, int choices) {
        if (choices < 2) throw new IllegalArgumentException("choices: must be >= 2");
        return endpoints.isEmpty() ? LoadBalancers.NONE
                : new LeastRequestLoadBalancer(endpoints, ticker, nanos(slowStart), choices);
    }

    /** Fewest open connections per unit of weight, random among ties. */
    static LoadBalancer leastConnections(List<Endpoint> endpoints) {
        return endpoints.isEmpty() ? LoadBalancers.NONE : new LeastConnectionsLoadBalancer(endpoints);
    }

    /** Peak-EWMA latency × outstanding requests (Finagle/linkerd), power of two choices. */
    static LoadBalancer ewma(List<Endpoint> endpoints) {
        return endpoints.isEmpty() ? LoadBalancers.NONE : new EwmaLoadBalancer(endpoints);
    }

    /**
     * Consistent hashing ring (Ketama-style virtual nodes) keyed by {@link PickContext#hash()}.
     *
     * @param ringSize    virtual nodes in the ring; 0: 1024 per endpoint (at most 8M), shared out by weight
     * @param boundedLoad consistent hashing with bounded loads factor c >= 1, or {@link #UNBOUNDED}
     */
    static LoadBalancer ringHash(List<Endpoint> endpoints, int ringSize, double boundedLoad) {
        return endpoints.isEmpty() ? LoadBalancers.NONE
                : new RingHashLoadBalancer(endpoints, ringSize, LoadBalancers.checkBoundedLoad(boundedLoad));
    }

    /**
     * Google's Maglev lookup table, weighted, keyed by {@link PickContext#hash()}.
     *
     * @param tableSize   a prime well above the endpoint count, e.g. {@link #DEFAULT_MAGLEV_TABLE_SIZE}
     * @param boundedLoad consistent hashing with bounded loads factor c >= 1, or {@link #UNBOUNDED}
     */
    static LoadBalancer maglev(List<Endpoint> endpoints, int tableSize, double boundedLoad) {
        return endpoints.isEmpty() ? LoadBalancers.NONE
                : new MaglevLoadBalancer(endpoints, tableSize, LoadBalancers.checkBoundedLoad(boundedLoad));
    }

    private static long nanos(Duration d) {
        return d == null || d.isNegative() ? 0 : d.toNanos();
    }
}
