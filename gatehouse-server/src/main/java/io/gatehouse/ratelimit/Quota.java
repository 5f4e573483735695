package io.gatehouse.ratelimit;

import io.gatehouse.auth.Identity;
import io.gatehouse.config.QuotaConfig;
import io.gatehouse.config.RateLimitConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.gatehouse.redis.Redis;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * {@code quota}: daily and monthly counters per consumer in Redis, one round trip per request (a script that counts
 * only what it lets through, and expires each counter when its period ends, so nothing needs resetting).
 */
public final class Quota implements NamedFilter {

    /** KEYS: the counters; ARGV: their limits, then their expiry times (unix seconds). Counts only if every one has room. */
    static final Redis.Script SCRIPT = Redis.Script.of("""
            local n = #KEYS
            for i = 1, n do
              local v = tonumber(redis.call('GET', KEYS[i]) or '0')
              if v >= tonumber(ARGV[i]) then return {0, i, v} end
            end
            local first = 0
            for i = 1, n do
              local v = redis.call('INCR', KEYS[i])
              if i == 1 then first = v end
              redis.call('EXPIREAT', KEYS[i], ARGV[n + i])
            end
            return {1, 0, first}
            """);

    private final QuotaConfig config;
    private final Redis redis;
    private final io.gatehouse.clock.Clock clock;
    private final String prefix;
    private final RedisOutage outage;

    public Quota(QuotaConfig config, FilterContext context) {
        if (context.redis() == null) throw new IllegalArgumentException("route " + context.route() + ": quota needs a redis: section");
        this.config = config;
        this.redis = context.redis();
        this.clock = context.clock();
        this.prefix = "gatehouse:quota:" + context.listener() + ":" + context.route() + ":";
        this.outage = new RedisOutage(context.route(), "quotas", "quota_unavailable", config.onRedisFailure());
    }

    @Override
    public String name() {
        return "quota";
    }

    /**
     * Who, as the hash tag of its counters' keys: its day and month counters share a slot, as one script updates both
     * (Redis Cluster refuses a script over keys of different slots). A brace inside {@code who} ends the tag early,
     * at the same place in both keys, so they still share it; {@code who} starts with its kind, so the tag is never empty.
     */
    private static String tag(String who) {
        return "{" + who + "}";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        String who = keyOf(exchange);
        ZoneId zone = config.zone();
        ZonedDateTime now = Instant.ofEpochMilli(clock.currentTimeMillis()).atZone(zone);
        ZonedDateTime dayEnd = now.truncatedTo(ChronoUnit.DAYS).plusDays(1);
        ZonedDateTime monthEnd = now.withDayOfMonth(1).truncatedTo(ChronoUnit.DAYS).plusMonths(1);
        List<String> keys = new java.util.ArrayList<>(2);
        List<String> limits = new java.util.ArrayList<>(2);
        List<ZonedDateTime> ends = new java.util.ArrayList<>(2);
        if (config.perDay() != null) {
            keys.add(prefix + tag(who) + ":d:" + now.toLocalDate());
            limits.add(Long.toString(config.perDay()));
            ends.add(dayEnd);
        }
        if (config.perMonth() != null) {
            keys.add(prefix + tag(who) + ":m:" + now.getYear() + "-" + now.getMonthValue());
            limits.add(Long.toString(config.perMonth()));
            ends.add(monthEnd);
        }
        String[] args = new String[keys.size() * 2];
        for (int i = 0; i < keys.size(); i++) {
            args[i] = limits.get(i);
            args[keys.size() + i] = Long.toString(ends.get(i).toEpochSecond() + 3600); // an hour past the end: clocks differ
        }
        chain.later(exchange);
        redis.eval(SCRIPT, keys.toArray(String[]::new), args).whenComplete((r, e) -> exchange.eventLoop().execute(() -> {
            if (exchange.completed() || exchange.clientGone()) return;
            if (e != null) {
                outage.apply(exchange, chain, e);
                return;
            }
            outage.recovered();
            if (((Long) r.get(0)) == 1L) {
                chain.proceed(exchange);
                return;
            }
            int which = ((Long) r.get(1)).intValue() - 1;
            boolean daily = config.perDay() != null && which == 0;
            long retry = Math.max(1, java.time.Duration.between(now, ends.get(which)).toSeconds());
            FullHttpResponse answer = LocalResponse.problem(HttpResponseStatus.TOO_MANY_REQUESTS, "quota_exceeded",
                    "the " + (daily ? "daily" : "monthly") + " quota of " + limits.get(which) + " requests is used up");
            answer.headers().set(HttpHeaderNames.RETRY_AFTER, retry);
            exchange.failureReason("quota_exceeded");
            LocalResponse.send(exchange, answer);
        }));
    }

    /**
     * What {@code consumer} used of this quota today and this month, and what is left (one round trip, for the admin
     * API): {@code {route, per_day, used_today, left_today, per_month, used_this_month, left_this_month}}.
     */
    public java.util.concurrent.CompletableFuture<java.util.Map<String, Object>> usage(String route, String consumer) {
        ZonedDateTime now = Instant.ofEpochMilli(clock.currentTimeMillis()).atZone(config.zone());
        String day = prefix + tag("c:" + consumer) + ":d:" + now.toLocalDate();
        String month = prefix + tag("c:" + consumer) + ":m:" + now.getYear() + "-" + now.getMonthValue();
        return redis.call(c -> c.mget(day, month)).thenApply(values -> {
            java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("route", route);
            long usedDay = values.get(0).hasValue() ? Long.parseLong(values.get(0).getValue()) : 0;
            long usedMonth = values.get(1).hasValue() ? Long.parseLong(values.get(1).getValue()) : 0;
            if (config.perDay() != null) {
                m.put("per_day", config.perDay());
                m.put("used_today", usedDay);
                m.put("left_today", Math.max(0, config.perDay() - usedDay));
            }
            if (config.perMonth() != null) {
                m.put("per_month", config.perMonth());
                m.put("used_this_month", usedMonth);
                m.put("left_this_month", Math.max(0, config.perMonth() - usedMonth));
            }
            return m;
        });
    }

    public QuotaConfig config() {
        return config;
    }

    private String keyOf(HttpExchange exchange) {
        if (config.key() == io.gatehouse.config.QuotaConfig.Key.CONSUMER) {
            Identity id = exchange.attribute(Identity.KEY);
            if (id != null && id.consumer() != null) return "c:" + id.consumer();
        }
        java.net.InetAddress a = exchange.clientAddress();
        return "ip:" + (a == null ? "unknown" : a.getHostAddress());
    }
}
