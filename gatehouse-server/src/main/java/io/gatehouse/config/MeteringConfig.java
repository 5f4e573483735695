package io.gatehouse.config;

import java.time.Duration;

/**
 * Metering: what each consumer used, per route, for billing and quotas. Counted on every exchange's completion,
 * exported as Prometheus metrics ({@code gatehouse_consumer_*}, labels bounded by the configured consumers and
 * routes: an unknown token subject counts as {@code unknown}, no identity as {@code anonymous}), and appended to
 * {@code path} as JSON lines aggregated per {@code interval}, written off the event loops. A reload keeps the running
 * aggregation; a shutdown writes what is open.
 *
 * @param path     the metering log, appended to
 * @param interval the aggregation window (default 1m; 1s to 1h)
 */
public record MeteringConfig(String path, Duration interval) {
    public MeteringConfig {
        if (path == null || path.isBlank()) throw new IllegalArgumentException("path: is required");
        interval = interval == null ? Duration.ofMinutes(1) : interval;
        if (interval.compareTo(Duration.ofSeconds(1)) < 0 || interval.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("interval: 1s to 1h");
        }
    }
}
