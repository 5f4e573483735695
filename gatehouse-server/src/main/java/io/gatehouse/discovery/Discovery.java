package io.gatehouse.discovery;

import io.gatehouse.clock.Clock;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.EndpointSpec;
import io.gatehouse.cluster.health.HealthEvents;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.transport.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds clusters with their source of endpoints attached: the file's list as is when it holds only IP addresses,
 * DNS re-resolution when it names hosts, or a registry ({@code discovery:}). Owns the one thread DNS lookups run on
 * (non-blocking, so one is plenty; the data plane's event loops never wait on DNS).
 */
public final class Discovery implements AutoCloseable {
    private final Clock clock;
    private EventLoopGroup dnsLoop;   // guarded by this; started on the first cluster that names a host
    private boolean closed;           // guarded by this

    public Discovery(Clock clock) {
        this.clock = clock;
    }

    /**
     * The cluster for {@code config}, replacing {@code previous} (null for a new one) as a reload does; its source,
     * if any, runs until the cluster closes. Blocks for the first lookup (bounded by the source's timeouts).
     */
    public Cluster cluster(ClusterConfig config, Transport transport, EventLoopGroup group, Cluster previous,
                           HealthEvents events) {
        EndpointSource source = source(config);
        if (source == null) return new Cluster(config, clock, transport, group, previous, events);
        List<EndpointSpec> fallback = previous == null ? List.of() : previous.endpointSpecs();
        Cluster cluster;
        try {
            List<EndpointSpec> initial = source.initial(fallback);
            cluster = new Cluster(config, clock, transport, group, previous, events, initial);
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
        cluster.source(source);
        source.start(cluster::updateEndpoints);
        return cluster;
    }

    /** The source for {@code config}, or null when the file's list is all IP addresses. */
    EndpointSource source(ClusterConfig config) {
        if (config.discovery() != null) {
            return config.discovery().zookeeper() != null
                    ? new ZooKeeperSource(config.name(), config.discovery().zookeeper())
                    : new KubernetesSource(config.name(), config.discovery().kubernetes());
        }
        boolean names = config.endpoints().stream().anyMatch(e -> !isIpLiteral(e.address()));
        return names ? new DnsSource(config.name(), config.endpoints(), config.dns(), dnsLoop(), clock) : null;
    }

    static boolean isIpLiteral(String address) {
        String host = io.gatehouse.config.HostPort.parse(address, false).host();
        return NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host);
    }

    private synchronized io.netty.channel.EventLoop dnsLoop() {
        if (closed) throw new IllegalStateException("stopped");
        if (dnsLoop == null) {
            dnsLoop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("gatehouse-dns", true), NioIoHandler.newFactory());
        }
        return dnsLoop.next();
    }

    @Override
    public void close() {
        EventLoopGroup g;
        synchronized (this) {
            closed = true;
            g = dnsLoop;
            dnsLoop = null;
        }
        if (g != null) g.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
