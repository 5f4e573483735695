package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/**
 * The {@code rate_limit} filter: token buckets per key (the consumer, the client address, a header, a claim, or the
 * whole route). Several limits may apply at once (10/s with a burst of 20, and 1000/h): a request needs a token from
 * each. Over the limit: 429 with {@code Retry-After} and the IETF {@code RateLimit-Policy} and {@code RateLimit}
 * headers, which every answer of the route carries, so a consumer sees what its next decisions will be.
 *
 * <p>{@code mode: local} keeps the buckets in this process: each edge counts on its own. {@code mode: global} keeps
 * them in Redis (the {@code redis:} section): every edge shares them exactly, decided by an atomic script, the
 * decisions of an event loop batched into one round trip; when Redis cannot answer within its timeout,
 * {@code on_redis_failure} decides.
 *
 * @param key     {@code consumer} (default; the client address when there is no identity), {@code api_key} (a
 *                bucket per API key, named by its hash: a consumer's keys do not share one), {@code client_ip},
 *                {@code route}, {@code header:NAME}, {@code claim:NAME}
 * @param limits  at least one
 * @param maxKeys buckets kept (default 100000): the least recently used go first, and come back full
 * @param plans   limits for the consumers of a plan (the consumer's {@code plan}), instead of {@code limits}
 * @param mode    {@code local} (default) or {@code global}
 * @param onRedisFailure {@code open} (default: let requests through, counted and logged) or {@code closed} (503)
 * @param syncInterval {@code hybrid} only: how long an edge keeps tokens it leased and did not use (default 250ms)
 */
public record RateLimitConfig(String key, List<LimitConfig> limits, Integer maxKeys, List<PlanLimitsConfig> plans,
                              Mode mode, FailurePolicy onRedisFailure, java.time.Duration syncInterval) {
    public enum Mode { LOCAL, GLOBAL, HYBRID }

    public enum FailurePolicy { OPEN, CLOSED }

    public RateLimitConfig {
        key = key == null ? "consumer" : key;
        if (!(key.equals("consumer") || key.equals("api_key") || key.equals("client_ip") || key.equals("route")
                || (key.startsWith("header:") && key.length() > 7) || (key.startsWith("claim:") && key.length() > 6))) {
            throw new IllegalArgumentException("key: '" + key + "' is not one of consumer, api_key, client_ip, route, header:NAME, claim:NAME");
        }
        if (limits == null || limits.isEmpty()) throw new IllegalArgumentException("limits: at least one is required");
        limits = List.copyOf(limits);
        maxKeys = maxKeys == null ? 100_000 : maxKeys;
        if (maxKeys < 1) throw new IllegalArgumentException("max_keys: must be at least 1");
        java.util.Set<String> names = new java.util.HashSet<>();
        for (LimitConfig l : limits) {
            if (!names.add(l.name())) throw new IllegalArgumentException("limits: two limits are named " + l.name());
        }
        plans = plans == null ? List.of() : List.copyOf(plans);
        mode = mode == null ? Mode.LOCAL : mode;
        onRedisFailure = onRedisFailure == null ? FailurePolicy.OPEN : onRedisFailure;
        syncInterval = syncInterval == null ? java.time.Duration.ofMillis(250) : syncInterval;
        if (syncInterval.compareTo(java.time.Duration.ofMillis(10)) < 0 || syncInterval.compareTo(java.time.Duration.ofMinutes(1)) > 0) {
            throw new IllegalArgumentException("sync_interval: 10ms to 1m");
        }
        if (!plans.isEmpty() && !key.equals("consumer")) throw new IllegalArgumentException("plans: only with key: consumer");
        java.util.Set<String> planNames = new java.util.HashSet<>();
        for (PlanLimitsConfig p : plans) {
            if (!planNames.add(p.plan())) throw new IllegalArgumentException("plans: plan " + p.plan() + " is listed twice");
        }
    }

    /** The limits of one plan. */
    public record PlanLimitsConfig(String plan, List<LimitConfig> limits) {
        public PlanLimitsConfig {
            if (plan == null || plan.isBlank()) throw new IllegalArgumentException("plan: is required");
            if (limits == null || limits.isEmpty()) throw new IllegalArgumentException("limits: at least one is required");
            limits = List.copyOf(limits);
        }
    }

    /**
     * @param rate  {@code N/s}, {@code N/m}, {@code N/h} or {@code N/d}: tokens added per window
     * @param burst the most tokens a bucket holds (default N: a full window at once)
     * @param name  shown in {@code RateLimit-Policy} (default from the window: {@code per_second}, …)
     */
    public record LimitConfig(String rate, Long burst, String name) {
        public LimitConfig {
            if (rate == null) throw new IllegalArgumentException("rate: is required, e.g. 10/s");
            var m = java.util.regex.Pattern.compile("\\s*(\\d{1,12})\\s*/\\s*([smhd])\\s*").matcher(rate);
            if (!m.matches() || Long.parseLong(m.group(1)) < 1) {
                throw new IllegalArgumentException("rate: '" + rate + "' is not N/s, N/m, N/h or N/d with N >= 1");
            }
            long count = Long.parseLong(m.group(1));
            burst = burst == null ? count : burst;
            if (burst < 1) throw new IllegalArgumentException("burst: must be at least 1");
            name = name == null ? switch (m.group(2)) {
                case "s" -> "per_second";
                case "m" -> "per_minute";
                case "h" -> "per_hour";
                default -> "per_day";
            } : name;
            if (!name.matches("[a-z][a-z0-9_]*")) throw new IllegalArgumentException("name: lower-case letters, digits and _");
        }

        /** Tokens per {@link #window()}. */
        public long count() {
            return Long.parseLong(rate.strip().split("\\s*/\\s*")[0]);
        }

        public Duration window() {
            return switch (rate.strip().charAt(rate.strip().length() - 1)) {
                case 's' -> Duration.ofSeconds(1);
                case 'm' -> Duration.ofMinutes(1);
                case 'h' -> Duration.ofHours(1);
                default -> Duration.ofDays(1);
            };
        }
    }
}
