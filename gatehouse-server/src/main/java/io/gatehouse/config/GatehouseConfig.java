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
        ServerConfig server) {

    public GatehouseConfig {
        listeners = listeners == null ? List.of() : List.copyOf(listeners);
        clusters = clusters == null ? List.of() : List.copyOf(clusters);
        admin = admin == null ? AdminConfig.DEFAULT : admin;
        server = server == null ? ServerConfig.DEFAULT : server;
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
