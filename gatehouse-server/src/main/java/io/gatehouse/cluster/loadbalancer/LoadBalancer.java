package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ClusterConfig.LoadBalancerConfig;
import io.netty.util.concurrent.Ticker;

import java.util.List;

/**
 * Chooses one endpoint for a request. An instance is built over the endpoints available at that moment and is
 * replaced (cheaply) when the available set changes. Implementations are thread-safe: event loops pick concurrently.
 */
public interface LoadBalancer {

    /**
     * @return the endpoint for this request, or null when none can take it (the caller answers 503)
     */
    Endpoint pick(PickContext context);

    /** Builds the policy named in {@code config} over {@code endpoints} (all of them currently available). */
    static LoadBalancer create(LoadBalancerConfig config, List<Endpoint> endpoints, Ticker ticker) {
        return LoadBalancers.create(config, endpoints, ticker);
    }
}
