package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ClusterConfig.LoadBalancerConfig;
import io.netty.util.concurrent.Ticker;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Policy factory. Placeholder until the policies land: weighted random over every policy name. */
final class LoadBalancers {
    private LoadBalancers() {}

    static LoadBalancer create(LoadBalancerConfig config, List<Endpoint> endpoints, Ticker ticker) {
        List<Endpoint> list = List.copyOf(endpoints);
        return ctx -> {
            if (list.isEmpty()) return null;
            for (int i = 0; i < list.size() * 2; i++) {
                Endpoint e = list.get(ThreadLocalRandom.current().nextInt(list.size()));
                if (!ctx.excluded(e)) return e;
            }
            return list.get(ThreadLocalRandom.current().nextInt(list.size()));
        };
    }
}
