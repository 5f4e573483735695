package io.gatehouse.config;

import java.time.ZoneId;

/**
 * The {@code quota} filter: requests per day and per month for each consumer, counted in Redis (so they are shared
 * by every edge and survive restarts) and reset by the wall clock at midnight and on the first of the month in
 * {@code time_zone}. Over a quota: 429 with {@code Retry-After} until the period ends.
 *
 * @param key            {@code consumer} (default; the client address without an identity) or {@code client_ip}
 * @param perDay         requests per calendar day; null: no daily quota
 * @param perMonth       requests per calendar month; null: no monthly quota
 * @param timeZone       where days and months begin (default UTC), e.g. {@code Europe/Paris}
 * @param onRedisFailure {@code open} (default) or {@code closed} (503) while Redis cannot count
 */
public record QuotaConfig(Key key, Long perDay, Long perMonth, String timeZone, RateLimitConfig.FailurePolicy onRedisFailure) {
    /** Whose requests are counted together. */
    public enum Key {
        CONSUMER, CLIENT_IP;

        /** The file's spelling. */
        @com.fasterxml.jackson.annotation.JsonValue
        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public QuotaConfig {
        key = key == null ? Key.CONSUMER : key;
        if (perDay == null && perMonth == null) throw new IllegalArgumentException("quota needs per_day or per_month");
        if (perDay != null && perDay < 1) throw new IllegalArgumentException("per_day: at least 1");
        if (perMonth != null && perMonth < 1) throw new IllegalArgumentException("per_month: at least 1");
        timeZone = timeZone == null ? "UTC" : timeZone;
        try {
            ZoneId.of(timeZone);
        } catch (java.time.DateTimeException e) {
            throw new IllegalArgumentException("time_zone: '" + timeZone + "' is not a time zone such as UTC or Europe/Paris");
        }
        onRedisFailure = onRedisFailure == null ? RateLimitConfig.FailurePolicy.OPEN : onRedisFailure;
    }

    public ZoneId zone() {
        return ZoneId.of(timeZone);
    }
}
