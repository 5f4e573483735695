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
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;

import java.util.concurrent.TimeUnit;

/**
 * {@code rate_limit}: token buckets (Bucket4j) per key, in this process. A request takes one token from every limit
 * or is answered 429; both answers carry the draft IETF headers ({@code RateLimit-Policy}, {@code RateLimit}) of
 * the key's bucket as the decision left it. Time is the server's clock, so tests move it.
 */
public final class RateLimit implements NamedFilter {
    static final AsciiString RATELIMIT_POLICY = AsciiString.cached("ratelimit-policy");
    static final AsciiString RATELIMIT = AsciiString.cached("ratelimit");

    private final RateLimitConfig config;
    private final Cache<String, Bucket> buckets;
    private final TimeMeter time;
    private final Limits defaults;
    private final java.util.Map<String, Limits> byPlan = new java.util.HashMap<>();   // plan → its limits
    private final java.util.Map<String, String> planOf = new java.util.HashMap<>();   // consumer → plan
    private final String routeName;
    private final Counter rejected;

    public RateLimit(RateLimitConfig config, FilterContext context) {
        this.config = config;
        this.routeName = context.route();
        io.gatehouse.clock.Clock clock = context.clock();
        this.time = new TimeMeter() {
            @Override public long currentTimeNanos() { return clock.nanoTime(); }
            @Override public boolean isWallClockBased() { return false; }
        };
        this.defaults = new Limits(config.limits());
        for (RateLimitConfig.PlanLimitsConfig p : config.plans()) byPlan.put(p.plan(), new Limits(p.limits()));
        for (io.gatehouse.config.ConsumerConfig c : context.config().consumers()) if (c.plan() != null) planOf.put(c.name(), c.plan());
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
        Bucket bucket = buckets.get(key, k -> limits.newBucket(time));
        ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
        String state = "\"" + limits.first + "\";r=" + probe.getRemainingTokens() + ";t="
                + seconds(probe.isConsumed() ? probe.getNanosToWaitForReset() : probe.getNanosToWaitForRefill());
        String policyHeader = limits.policy;
        if (!probe.isConsumed()) {
            if (rejected != null) rejected.increment();
            long retry = Math.max(1, seconds(probe.getNanosToWaitForRefill()));
            FullHttpResponse r = LocalResponse.problem(HttpResponseStatus.TOO_MANY_REQUESTS, "rate_limited",
                    "too many requests; retry in " + retry + " s");
            r.headers().set(HttpHeaderNames.RETRY_AFTER, retry);
            r.headers().set(RATELIMIT_POLICY, policyHeader);
            r.headers().set(RATELIMIT, state);
            exchange.failureReason("rate_limited");
            LocalResponse.send(exchange, r);
            return;
        }
        exchange.wrapResponse(next -> new ForwardingResponseSink(next) {
            @Override
            protected void head(HttpResponse head) {
                if (head.status().code() >= 200) stamp(head);
                next.write(head);
            }

            @Override
            protected void whole(FullHttpResponse whole) {
                if (whole.status().code() >= 200) stamp(whole);
                next.write(whole);
            }

            private void stamp(HttpResponse r) {
                r.headers().set(RATELIMIT_POLICY, policyHeader);
                r.headers().set(RATELIMIT, state);
            }
        });
        chain.proceed(exchange);
    }

    /** A consumer's plan's limits when it has some, else the filter's. */
    private Limits limitsOf(String key) {
        if (byPlan.isEmpty() || !key.startsWith("c:")) return defaults;
        String plan = planOf.get(key.substring(2));
        Limits l = plan == null ? null : byPlan.get(plan);
        return l == null ? defaults : l;
    }

    /** One set of limits: how to make its bucket, and its RateLimit-Policy. */
    private static final class Limits {
        final java.util.List<LimitConfig> limits;
        final String policy;
        final String first;

        Limits(java.util.List<LimitConfig> limits) {
            this.limits = limits;
            StringBuilder p = new StringBuilder();
            for (LimitConfig l : limits) {
                if (!p.isEmpty()) p.append(", ");
                p.append('"').append(l.name()).append("\";q=").append(l.burst()).append(";w=").append(l.window().toSeconds());
            }
            this.policy = p.toString();
            this.first = limits.get(0).name();
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
