package io.gatehouse.config;

import java.time.Duration;

/**
 * The Redis that edges share state through (global rate limits). Commands are asynchronous (Lettuce): a Redis call
 * never blocks an event loop, and each has {@code timeout}; past it, or while Redis is unreachable, each limit
 * follows its own {@code on_redis_failure} policy, and decisions come back to Redis by themselves when it returns.
 *
 * @param address  {@code host:port}
 * @param password for {@code AUTH}; null: none
 * @param timeout  per command (default 100ms)
 */
public record RedisConfig(String address, String password, Duration timeout) {
    public RedisConfig {
        if (address == null || address.isBlank()) throw new IllegalArgumentException("address: is required");
        HostPort.parse(address, false);
        timeout = timeout == null ? Duration.ofMillis(100) : timeout;
        if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new IllegalArgumentException("timeout: more than 0, at most 10s");
        }
    }
}
