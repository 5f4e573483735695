package io.gatehouse.discovery;

import io.gatehouse.cluster.EndpointSpec;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Where a cluster's endpoints come from when they can change at runtime: host names re-resolved by DNS TTL, a
 * ZooKeeper registry, a Kubernetes Service. (A list of IP addresses in the file needs no source.) A source tells its
 * cluster the whole current set each time it changes, from its own thread, never from a Netty event loop of the
 * data plane; the cluster keeps the state of the endpoints that stay (see {@code Cluster.updateEndpoints}).
 */
public interface EndpointSource extends AutoCloseable {

    /** {@code dns}, {@code zookeeper} or {@code kubernetes}. */
    String kind();

    /**
     * The endpoints to start with, waiting at most the source's own timeouts (it blocks: call it off the event
     * loops). What cannot be found now is taken from {@code fallback} (the endpoints of the cluster being replaced by
     * a reload; empty at start), so a registry or DNS server that is down keeps what was known.
     */
    List<EndpointSpec> initial(List<EndpointSpec> fallback);

    /** From now on, hands every changed set to {@code update}. */
    void start(Consumer<List<EndpointSpec>> update);

    /** What the admin API shows about the source: its settings, failures, last change. */
    Map<String, Object> status();

    /** Stops watching; the cluster keeps the endpoints it has. */
    @Override
    void close();
}
