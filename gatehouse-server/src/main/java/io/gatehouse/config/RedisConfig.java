package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/**
 * The Redis that edges share state through (global rate limits, quotas, the deny list, runtime consumers). Commands
 * are asynchronous (Lettuce): a Redis call never blocks an event loop, and each has {@code timeout}; past it, or while
 * Redis is unreachable, each feature follows its own policy, and comes back to Redis by itself when it returns.
 *
 * @param address  {@code host:port} of one Redis; or leave it out and give {@code sentinel}
 * @param password for {@code AUTH}; null: none
 * @param timeout  per command (default 100ms)
 * @param sentinel Redis Sentinel: the master is found through the sentinels, and again after a failover
 */
public record RedisConfig(String address, String password, Duration timeout, SentinelConfig sentinel) {
    public RedisConfig {
        if ((address == null || address.isBlank()) == (sentinel == null)) {
            throw new IllegalArgumentException("address: give either address (one Redis) or sentinel (a master through its sentinels)");
        }
        if (address != null) HostPort.parse(address, false);
        timeout = timeout == null ? Duration.ofMillis(100) : timeout;
        if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new IllegalArgumentException("timeout: more than 0, at most 10s");
        }
    }

    public RedisConfig(String address, String password, Duration timeout) {
        this(address, password, timeout, null);
    }

    /** For logs: the address, or the master's name and its sentinels. */
    public String describe() {
        return address != null ? address : "sentinel " + sentinel.master() + "@" + String.join(",", sentinel.addresses());
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
