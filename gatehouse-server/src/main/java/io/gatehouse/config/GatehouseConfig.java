package io.gatehouse.config;

import java.util.List;

/**
 * The whole configuration: one immutable snapshot. A reload builds a new one and swaps it in.
 * YAML keys are the snake_case of these component names.
 */
public record GatehouseConfig(
        List<ListenerConfig> listeners,
        List<ClusterConfig> clusters,
        AdminConfig admin,
        ServerConfig server,
        AccessLogConfig accessLog,
        TracingConfig tracing,
        LoggingConfig logging,
        List<ConsumerConfig> consumers,
        MeteringConfig metering,
        RedisConfig redis,
        String consumersFile) {

    public GatehouseConfig {
        consumers = consumers == null ? List.of() : List.copyOf(consumers);
        listeners = listeners == null ? List.of() : List.copyOf(listeners);
        clusters = clusters == null ? List.of() : List.copyOf(clusters);
        admin = admin == null ? AdminConfig.DEFAULT : admin;
        server = server == null ? ServerConfig.DEFAULT : server;
        // accessLog and tracing stay null when absent: off
        logging = logging == null ? LoggingConfig.DEFAULT : logging;
    }

    /** Without access log, tracing and logging settings (all off or default). */
    public GatehouseConfig(List<ListenerConfig> listeners, List<ClusterConfig> clusters, AdminConfig admin, ServerConfig server) {
        this(listeners, clusters, admin, server, null, null, null, null, null, null, null);
    }

    /** Without consumers (no API gateway credentials). */
    public GatehouseConfig(List<ListenerConfig> listeners, List<ClusterConfig> clusters, AdminConfig admin, ServerConfig server,
                           AccessLogConfig accessLog, TracingConfig tracing, LoggingConfig logging) {
        this(listeners, clusters, admin, server, accessLog, tracing, logging, null, null, null, null);
    }

    /** This configuration with {@code all} as its consumers (those of {@code consumers_file} merged in). */
    public GatehouseConfig withConsumers(List<ConsumerConfig> all) {
        return new GatehouseConfig(listeners, clusters, admin, server, accessLog, tracing, logging, all, metering, redis, consumersFile);
    }

    /** The cluster with this name, or null. */
    public ClusterConfig cluster(String name) {
        for (ClusterConfig c : clusters) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        return null;
    }
}
