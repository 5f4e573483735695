package io.gatehouse.ratelimit;

import io.gatehouse.config.RateLimitConfig.LimitConfig;
import io.gatehouse.redis.Redis;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code mode: hybrid}: each edge leases tokens from the global bucket in Redis and spends them locally, so most
 * decisions need no round trip. A lease is at most {@code rate × sync_interval} tokens (and at most a quarter of the
 * burst, so edges share a burst); an exhausted lease is renewed with one round trip; tokens unused for a sync interval
 * go back. The limit is never exceeded (every token admitted was taken from the global bucket); what it can fall short
 * by is the tokens edges hold: at most edges × lease size, given back within a sync interval.
 */
final class Leases implements AutoCloseable {
    /** ARGV: now, ttl, want, give back, then per limit: capacity, tokens per ms. Returns {granted, ms to a token}. */
    static final Redis.Script LEASE = Redis.Script.of("""
            local now = tonumber(ARGV[1])
            local want = tonumber(ARGV[3])
            local back = tonumber(ARGV[4])
            local n = (#ARGV - 4) / 2
            local tokens = {}
            local stamps = {}
            local granted = want
            local wait = 0
            for i = 1, n do
              local cap = tonumber(ARGV[3 + 2 * i])
              local rate = tonumber(ARGV[4 + 2 * i])
              local v = redis.call('HMGET', KEYS[1], 't' .. i, 's' .. i)
              local t = tonumber(v[1])
              local ts = tonumber(v[2])
              if t == nil or ts == nil then t = cap; ts = now end
              -- time never goes back: an edge whose clock is behind must not make the next one refill a second time
              if now > ts then t = t + (now - ts) * rate; ts = now end
              t = math.min(cap, t + back)
              tokens[i] = t
              stamps[i] = ts
              local avail = math.floor(t)
              if avail < granted then granted = avail end
              if t < 1 then
                local w = math.ceil((1 - t) / rate)
                if w > wait then wait = w end
              end
            end
            if granted < 0 then granted = 0 end
            for i = 1, n do
              redis.call('HSET', KEYS[1], 't' .. i, tostring(tokens[i] - granted), 's' .. i, tostring(stamps[i]))
            end
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return {granted, wait}
            """);

    /** One key's lease on this edge. Guarded by itself: requests of one key may come on every event loop. */
    static final class Lease {
        long tokens;
        long lastUseNanos;
        long waitMillis;                       // from the last renewal that found the bucket empty
        CompletableFuture<Lease> renewing;     // the renewal under way, shared by everyone waiting for it
    }

    private final Redis redis;
    private final io.gatehouse.clock.Clock clock;
    private final long syncNanos;
    private final ConcurrentHashMap<String, Lease> leases = new ConcurrentHashMap<>();
    private final ScheduledFuture<?> giveBack;
    private final io.micrometer.core.instrument.Counter roundTrips;

    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gatehouse-ratelimit-sync");
        t.setDaemon(true);
        return t;
    });

    Leases(Redis redis, io.gatehouse.clock.Clock clock, java.time.Duration sync, io.micrometer.core.instrument.Counter roundTrips) {
        this.redis = redis;
        this.clock = clock;
        this.syncNanos = sync.toNanos();
        this.roundTrips = roundTrips;
        this.giveBack = TIMER.scheduleWithFixedDelay(() -> giveBack(false), sync.toMillis(), sync.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Tokens per lease for these limits: rate × sync interval, at most a quarter of the smallest burst, at least 1. */
    long leaseSize(List<LimitConfig> limits) {
        long size = Long.MAX_VALUE;
        for (LimitConfig l : limits) {
            long perSync = (long) Math.ceil((double) l.count() * syncNanos / l.window().toNanos());
            size = Math.min(size, Math.min(perSync, l.burst() / 4));
        }
        return Math.max(1, size);
    }

    Lease lease(String key) {
        return leases.computeIfAbsent(key, k -> new Lease());
    }

    /** Takes a token from the lease if it has one. */
    boolean tryLocal(Lease l) {
        synchronized (l) {
            if (l.tokens < 1) return false;
            l.tokens--;
            l.lastUseNanos = clock.nanoTime();
            return true;
        }
    }

    /** Renews {@code l} with up to {@code size} tokens (one renewal at a time per key); completes with the lease. */
    CompletableFuture<Lease> renew(String redisKey, Lease l, List<LimitConfig> limits, long size, long ttlMillis) {
        synchronized (l) {
            if (l.renewing != null && !l.renewing.isDone()) return l.renewing;
            roundTrips.increment();
            CompletableFuture<Lease> f = redis.eval(LEASE, new String[] {redisKey}, args(limits, size, 0, ttlMillis)).thenApply(r -> {
                synchronized (l) {
                    l.tokens += (Long) r.get(0);
                    l.waitMillis = (Long) r.get(1);
                    l.lastUseNanos = clock.nanoTime();
                }
                return l;
            });
            l.renewing = f;
            return f;
        }
    }

    private String[] args(List<LimitConfig> limits, long want, long back, long ttlMillis) {
        String[] a = new String[4 + 2 * limits.size()];
        a[0] = Long.toString(clock.currentTimeMillis());
        a[1] = Long.toString(ttlMillis);
        a[2] = Long.toString(want);
        a[3] = Long.toString(back);
        for (int i = 0; i < limits.size(); i++) {
            a[4 + 2 * i] = Long.toString(limits.get(i).burst());
            a[5 + 2 * i] = Double.toString((double) limits.get(i).count() / limits.get(i).window().toMillis());
        }
        return a;
    }

    /** What a lease held for a sync interval without using goes back to the global bucket. */
    private final ConcurrentHashMap<String, Object[]> keyInfo = new ConcurrentHashMap<>();   // key → {redisKey, limits, ttl}

    void remember(String key, String redisKey, List<LimitConfig> limits, long ttlMillis) {
        keyInfo.putIfAbsent(key, new Object[] {redisKey, limits, ttlMillis});
    }

    /** Gives back what leases held unused for a sync interval ({@code all}: everything); forgets long-idle keys. */
    @SuppressWarnings("unchecked")
    private void giveBack(boolean all) {
        long now = clock.nanoTime();
        for (var e : leases.entrySet()) {
            Lease l = e.getValue();
            long back;
            synchronized (l) {
                boolean renewing = l.renewing != null && !l.renewing.isDone();
                if (!all && (renewing || now - l.lastUseNanos < syncNanos)) continue;
                if (l.tokens < 1) {
                    if (!renewing && now - l.lastUseNanos > 10 * syncNanos) {
                        leases.remove(e.getKey(), l);
                        keyInfo.remove(e.getKey());
                    }
                    continue;
                }
                back = l.tokens;
                l.tokens = 0;
            }
            Object[] info = keyInfo.get(e.getKey());
            if (info == null) continue;
            roundTrips.increment();
            redis.eval(LEASE, new String[] {(String) info[0]}, args((List<LimitConfig>) info[1], 0, back, (Long) info[2]))
                    .exceptionally(err -> null);   // Redis away: the tokens are forfeited, never double-spent
        }
    }

    @Override
    public void close() {
        giveBack.cancel(false);
        giveBack(true);
    }
}
