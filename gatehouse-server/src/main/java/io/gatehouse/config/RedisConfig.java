package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/**
 * The Redis that edges share state through (global rate limits, quotas, the deny list, runtime consumers). Commands
 * are asynchronous (Lettuce): a Redis call never blocks an event loop, and each has {@code timeout}; past it, or while
 * Redis is unreachable, each feature follows its own policy, and comes back to Redis by itself when it returns.
 *
 * @param address  {@code host:port} of one Redis; or leave it out and give {@code sentinel} or {@code cluster}
 * @param password for {@code AUTH}; null: none
 * @param timeout  per command (default 100ms)
 * @param sentinel Redis Sentinel: the master is found through the sentinels, and again after a failover
 * @param cluster  Redis Cluster: {@code host:port} of some of its nodes (the client learns the rest and follows
 *                 the slots as they move); every script's keys share one slot (hash tags)
 */
public record RedisConfig(String address, String password, Duration timeout, SentinelConfig sentinel, List<String> cluster) {
    public RedisConfig {
        int given = (address == null || address.isBlank() ? 0 : 1) + (sentinel == null ? 0 : 1) + (cluster == null ? 0 : 1);
        if (given != 1) {
            throw new IllegalArgumentException("address: give one of address (one Redis), sentinel (a master through its sentinels)"
                    + " or cluster (nodes of a Redis Cluster)");
        }
        if (address != null) HostPort.parse(address, false);
        if (cluster != null) {
            if (cluster.isEmpty()) throw new IllegalArgumentException("cluster: at least one node host:port");
            cluster = List.copyOf(cluster);
            for (String a : cluster) HostPort.parse(a, false);
        }
        timeout = timeout == null ? Duration.ofMillis(100) : timeout;
        if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new IllegalArgumentException("timeout: more than 0, at most 10s");
        }
    }

    public RedisConfig(String address, String password, Duration timeout) {
        this(address, password, timeout, null, null);
    }

    public RedisConfig(String address, String password, Duration timeout, SentinelConfig sentinel) {
        this(address, password, timeout, sentinel, null);
    }

    /** For logs: the address, the master's name and its sentinels, or the cluster's seed nodes. */
    public String describe() {
        if (address != null) return address;
        if (cluster != null) return "cluster " + String.join(",", cluster);
        return "sentinel " + sentinel.master() + "@" + String.join(",", sentinel.addresses());
    }

    /**
     * @param master    the master's name, as the sentinels know it ({@code sentinel monitor NAME ...})
     * @param addresses {@code host:port} of the sentinels (at least one; give them all)
     * @param password  for {@code AUTH} to the sentinels; null: none
     */
    public record SentinelConfig(String master, List<String> addresses, String password) {
        public SentinelConfig {
            if (master == null || master.isBlank()) throw new IllegalArgumentException("master: is required");
            if (addresses == null || addresses.isEmpty()) throw new IllegalArgumentException("addresses: at least one sentinel host:port");
            addresses = List.copyOf(addresses);
            for (String a : addresses) HostPort.parse(a, false);
        }
    }
}
