package io.gatehouse.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.gatehouse.auth.Identity;
import io.gatehouse.config.RateLimitConfig;
import io.gatehouse.config.RateLimitConfig.LimitConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.ForwardingResponseSink;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.local.LocalBucketBuilder;
import io.micrometer.core.instrument.Counter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;

import java.util.concurrent.TimeUnit;

/**
 * {@code rate_limit}: token buckets (Bucket4j) per key, in this process. A request takes one token from every limit
 * or is answered 429; both answers carry the draft IETF headers ({@code RateLimit-Policy}, {@code RateLimit}) of
 * the key's bucket as the decision left it. Time is the server's clock, so tests move it.
 */
public final class RateLimit implements NamedFilter, AutoCloseable {
    static final AsciiString RATELIMIT_POLICY = AsciiString.cached("ratelimit-policy");
    static final AsciiString RATELIMIT = AsciiString.cached("ratelimit");

    private final RateLimitConfig config;
    private final Cache<String, Bucket> buckets;
    private final TimeMeter time;
    private final Limits defaults;
    private final java.util.Map<String, Limits> byPlan = new java.util.HashMap<>();   // plan → its limits
    private final io.gatehouse.auth.ConsumerDirectory consumers;   // a consumer's plan; null without plans
    private final Counter rejected;
    private final io.gatehouse.redis.Redis redis;     // global mode only
    private final String redisPrefix;
    private final Counter redisFailures;
    private final io.gatehouse.clock.Clock clock;
    private final RedisOutage outage;
    private final Leases leases;                      // hybrid mode only
    private final Counter globalTrips;
    /*
     * Global mode: token buckets in Redis hashes, all of a key's limits decided at once, atomically, by a script,
     * requests batched per event loop. Why our own script: Bucket4j's Redis integration compares and swaps, two round
     * trips per decision, and cannot batch.
     */
    private final GlobalBuckets globalBuckets;

    public RateLimit(RateLimitConfig config, FilterContext context) {
        this.config = config;
        io.gatehouse.clock.Clock clock = context.clock();
        this.clock = clock;
        if (config.mode() != RateLimitConfig.Mode.LOCAL && context.redis() == null) {
            throw new IllegalArgumentException("route " + context.route() + ": rate_limit mode "
                    + config.mode().name().toLowerCase(java.util.Locale.ROOT) + " needs a redis: section");
        }
        this.redis = config.mode() != RateLimitConfig.Mode.LOCAL ? context.redis() : null;
        this.outage = new RedisOutage(context.route(), "rate limits", "rate_limit_unavailable", config.onRedisFailure());
        this.redisPrefix = "gatehouse:rl:" + context.listener() + ":" + context.route() + ":";
        this.redisFailures = context.meters() == null || redis == null ? null : Counter.builder("gatehouse.ratelimit.redis.failures")
                .description("Global rate-limit decisions Redis could not make (the limit's on_redis_failure applied)")
                .tag("listener", context.listener()).tag("route", context.route()).register(context.meters());
        io.micrometer.core.instrument.Counter trips = context.meters() == null
                ? io.micrometer.core.instrument.Counter.builder("unregistered").register(new io.micrometer.core.instrument.simple.SimpleMeterRegistry())
                : Counter.builder("gatehouse.ratelimit.redis.calls").description("Round trips to Redis for rate-limit decisions")
                        .tag("listener", context.listener()).tag("route", context.route()).register(context.meters());
        this.leases = config.mode() == RateLimitConfig.Mode.HYBRID ? new Leases(redis, clock, config.syncInterval(), trips) : null;
        this.globalTrips = trips;
        this.globalBuckets = config.mode() == RateLimitConfig.Mode.GLOBAL ? GlobalBuckets.of(redis) : null;
        this.time = new TimeMeter() {
            @Override public long currentTimeNanos() { return clock.nanoTime(); }
            @Override public boolean isWallClockBased() { return false; }
        };
        this.defaults = new Limits(config.limits());
        for (RateLimitConfig.PlanLimitsConfig p : config.plans()) byPlan.put(p.plan(), new Limits(p.limits()));
        this.consumers = byPlan.isEmpty() ? null : io.gatehouse.auth.ConsumerDirectory.of(context);
        long longest = java.util.stream.Stream.concat(config.limits().stream(), config.plans().stream().flatMap(p -> p.limits().stream()))
                .mapToLong(l -> l.window().toNanos()).max().orElse(0);
        this.buckets = Caffeine.newBuilder().maximumSize(config.maxKeys())
                .ticker(clock::nanoTime)
                // an idle bucket refills completely within its longest window: after that it is as good as new
                .expireAfterAccess(longest, TimeUnit.NANOSECONDS)
                .build();
        this.rejected = context.meters() == null ? null : Counter.builder("gatehouse.ratelimit.rejected")
                .description("Requests answered 429 by a rate limit").tag("listener", context.listener()).tag("route", context.route())
                .register(context.meters());
    }

    @Override
    public String name() {
        return "rate_limit";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        String key = keyOf(exchange);
        Limits limits = limitsOf(key);
        if (leases != null) {
            hybrid(exchange, chain, key, limits);
            return;
        }
        if (redis != null) {
            global(exchange, chain, key, limits);
            return;
        }
        Bucket bucket = buckets.get(key, k -> limits.newBucket(time));
        ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
        decide(exchange, chain, limits, probe.isConsumed(), probe.getRemainingTokens(),
                probe.isConsumed() ? probe.getNanosToWaitForReset() : probe.getNanosToWaitForRefill(), probe.getNanosToWaitForRefill());
    }

    /** A token from this edge's lease, or a renewed lease (one round trip), or 429 when the global bucket is empty. */
    private void hybrid(HttpExchange exchange, FilterChain chain, String key, Limits limits) {
        Leases.Lease lease = leases.lease(key);
        if (leases.tryLocal(lease)) {
            decide(exchange, chain, limits, true, lease.tokens, 0, 0);
            return;
        }
        chain.later(exchange);
        String redisKey = redisKey(key);
        leases.remember(key, redisKey, limits.limits, limits.longestMillis);
        leases.renew(redisKey, lease, limits.limits, leases.leaseSize(limits.limits), limits.longestMillis)
                .whenComplete((l, e) -> exchange.eventLoop().execute(() -> {
                    if (exchange.completed() || exchange.clientGone()) return;
                    if (e != null) {
                        redisFailed(exchange, chain, e);
                        return;
                    }
                    outage.recovered();
                    if (leases.tryLocal(lease)) {
                        decide(exchange, chain, limits, true, lease.tokens, 0, 0);
                    } else {
                        long wait = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(Math.max(1, lease.waitMillis));
                        decide(exchange, chain, limits, false, 0, wait, wait);
                    }
                }));
    }

    private String redisKey(String key) {
        return redisPrefix + (key.length() > 200 ? java.util.HexFormat.of().formatHex(sha256(key)) : key);
    }

    @Override
    public void close() {
        if (leases != null) leases.close();
    }

    /**
     * The decision in Redis, batched with the other requests of this event loop ({@link GlobalBuckets}): the chain
     * waits for it (later), and goes on on the exchange's event loop.
     */
    private void global(HttpExchange exchange, FilterChain chain, String key, Limits limits) {
        chain.later(exchange);
        String[] args = limits.globalArgs.clone();
        args[0] = Long.toString(clock.currentTimeMillis());
        globalBuckets.decide(exchange.eventLoop(), redisKey(key), args, globalTrips, (allowed, remaining, waitMillis, fullMillis, e) -> {
            if (exchange.completed() || exchange.clientGone()) return;
            if (e != null) {
                redisFailed(exchange, chain, e);
                return;
            }
            outage.recovered();
            long waitNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(waitMillis);
            long fullNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(fullMillis);
            decide(exchange, chain, limits, allowed, remaining, allowed ? fullNanos : waitNanos, waitNanos);
        });
    }

    private void redisFailed(HttpExchange exchange, FilterChain chain, Throwable e) {
        if (redisFailures != null) redisFailures.increment();
        outage.apply(exchange, chain, e);
    }

    private static byte[] sha256(String s) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Answers 429, or stamps the headers on the response to come and proceeds. */
    private void decide(HttpExchange exchange, FilterChain chain, Limits limits, boolean allowed, long remaining,
                        long resetNanos, long refillNanos) {
        String state = "\"" + limits.first + "\";r=" + remaining + ";t=" + seconds(resetNanos);
        String policyHeader = limits.policy;
        if (!allowed) {
            if (rejected != null) rejected.increment();
            long retry = Math.max(1, seconds(refillNanos));
            FullHttpResponse r = LocalResponse.problem(HttpResponseStatus.TOO_MANY_REQUESTS, "rate_limited",
                    "too many requests; retry in " + retry + " s");
            r.headers().set(HttpHeaderNames.RETRY_AFTER, retry);
            r.headers().set(RATELIMIT_POLICY, policyHeader);
            r.headers().set(RATELIMIT, state);
            exchange.failureReason("rate_limited");
            LocalResponse.send(exchange, r);
            return;
        }
        exchange.wrapResponse(next -> ForwardingResponseSink.finalHeaders(next, h -> {
            h.set(RATELIMIT_POLICY, policyHeader);
            h.set(RATELIMIT, state);
        }));
        chain.proceed(exchange);
    }

    /** A consumer's plan's limits when it has some, else the filter's. */
    private Limits limitsOf(String key) {
        if (byPlan.isEmpty() || !key.startsWith("c:")) return defaults;
        io.gatehouse.config.ConsumerConfig c = consumers.byName(key.substring(2));
        String plan = c == null ? null : c.plan();
        Limits l = plan == null ? null : byPlan.get(plan);
        return l == null ? defaults : l;
    }

    /** One set of limits: how to make its bucket, and its RateLimit-Policy. */
    private static final class Limits {
        final java.util.List<LimitConfig> limits;
        final String policy;
        final String first;
        final long longestMillis;   // a Redis bucket left alone this long is full again: it may expire
        final String[] globalArgs;  // GlobalBuckets' ARGV for one key, now (index 0) left to fill

        Limits(java.util.List<LimitConfig> limits) {
            this.limits = limits;
            this.longestMillis = limits.stream().mapToLong(l -> l.window().toMillis() * Math.max(1, l.burst() / l.count() + 1)).max().orElse(1000);
            StringBuilder p = new StringBuilder();
            for (LimitConfig l : limits) {
                if (!p.isEmpty()) p.append(", ");
                p.append('"').append(l.name()).append("\";q=").append(l.burst()).append(";w=").append(l.window().toSeconds());
            }
            this.policy = p.toString();
            this.first = limits.get(0).name();
            this.globalArgs = new String[3 + 2 * limits.size()];
            globalArgs[1] = Long.toString(longestMillis);
            globalArgs[2] = Integer.toString(limits.size());
            for (int i = 0; i < limits.size(); i++) {
                LimitConfig l = limits.get(i);
                globalArgs[3 + 2 * i] = Long.toString(l.burst());
                globalArgs[4 + 2 * i] = Double.toString((double) l.count() / l.window().toMillis());
            }
        }

        Bucket newBucket(TimeMeter time) {
            LocalBucketBuilder b = Bucket.builder().withCustomTimePrecision(time);
            for (LimitConfig l : limits) {
                b.addLimit(Bandwidth.builder().capacity(l.burst()).refillGreedy(l.count(), l.window()).id(l.name()).build());
            }
            return b.build();
        }
    }

    /** The bucket's key: prefixed by kind, so a header value can never collide with a consumer's name. */
    private String keyOf(HttpExchange exchange) {
        String k = config.key();
        if (k.equals("route")) return "route";
        if (k.equals("consumer")) {
            Identity id = exchange.attribute(Identity.KEY);
            if (id != null && id.consumer() != null) return "c:" + id.consumer();
            return "ip:" + ip(exchange);
        }
        if (k.equals("client_ip")) return "ip:" + ip(exchange);
        if (k.equals("api_key")) {
            String keyId = exchange.attribute(io.gatehouse.auth.ApiKeyAuth.KEY_ID);
            return keyId == null ? "ip:" + ip(exchange) : "k:" + keyId;
        }
        if (k.startsWith("header:")) {
            String v = exchange.request().headers().get(k.substring(7));
            return v == null ? "ip:" + ip(exchange) : "h:" + v;
        }
        Identity id = exchange.attribute(Identity.KEY);
        Object v = id == null ? null : id.claims().get(k.substring(6));
        return v == null ? "ip:" + ip(exchange) : "cl:" + v;
    }

    private static String ip(HttpExchange exchange) {
        java.net.InetAddress a = exchange.clientAddress();
        return a == null ? "unknown" : a.getHostAddress();
    }

    private static long seconds(long nanos) {
        return (nanos + 999_999_999L) / 1_000_000_000L;
    }
}
