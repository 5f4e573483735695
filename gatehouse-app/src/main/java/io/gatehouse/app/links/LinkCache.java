package io.gatehouse.app.links;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.gatehouse.app.cache.Redis;
import io.lettuce.core.ScriptOutputType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The redirect lookup's cache: a Caffeine near cache in this instance in front of Redis (shared by all instances).
 *
 * <p><b>Values in Redis</b> (key {@code link:<code>}), each with its link version:
 * {@code L|version|permanent|expiresMs|deltaMs|softExpiryMs|target} a cached link,
 * {@code N|softExpiryMs} a code known not to exist (negative entry, short TTL),
 * {@code T|version} a tombstone written after a commit that changed the link,
 * {@code D|version} a tombstone written after a commit that deleted it.
 *
 * <p><b>The race, and how it is closed.</b> Cache-aside with "commit, then delete the key" leaves a window: a
 * reader misses, reads the old row (from the primary just before the commit, or from a lagging replica just
 * after), the writer commits and deletes the key, and the reader then stores the old row, which stays until its
 * TTL. Here the writer does not delete: after the commit it writes a tombstone carrying the new version, and a
 * reader's fill is a compare-and-set in one Lua script that refuses anything older than what the key holds. The
 * stale fill finds the tombstone and is dropped. A negative fill is refused over a live link or a tombstone of
 * one, so a link created a moment ago is never hidden by an old "not found". What is left: if Redis is
 * unreachable at the moment of the write, the tombstone is queued in this instance and replayed when Redis is
 * back; if the instance dies meanwhile, the entry's TTL bounds the staleness.
 *
 * <p><b>The near cache</b> is kept coherent by a pub/sub message ({@code code|version}) sent after every
 * tombstone; each instance evicts the code and remembers the version, so a fill that raced with the message and
 * carries an older version is refused. Its TTL is short: pub/sub is at-most-once, and the TTL bounds a lost message.
 */
public final class LinkCache {
    static final String CHANNEL = "gatehouse:links:invalidate";
    private static final String FILL = """
            local cur = redis.call('GET', KEYS[1])
            local kind, ver = ARGV[1], tonumber(ARGV[2])
            if cur then
              local ck = string.sub(cur, 1, 1)
              if kind == 'N' then
                if ck == 'L' or ck == 'T' then return 0 end
              elseif ck ~= 'N' then
                local cv = tonumber(string.match(cur, '^%a|(%d+)'))
                if cv > ver or (kind == 'L' and ck == 'D' and cv >= ver) then return 0 end
              end
            end
            redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
            return 1
            """;

    /** A cache answer: a link, or "known not to exist". {@code softExpiryMs} and {@code deltaMs} drive XFetch. */
    public sealed interface Entry permits Found, Missing {}
    public record Found(Redirect redirect, long deltaMs, long softExpiryMs) implements Entry {}
    public record Missing(long softExpiryMs) implements Entry {}

    private final Redis redis;
    private final Clock clock;
    private final Duration ttl;
    private final Duration negativeTtl;
    private final Duration tombstoneTtl;
    private final Cache<String, Entry> near;
    private final Cache<String, Long> invalidatedVersions;
    private final Map<String, String[]> pendingTombstones = new ConcurrentHashMap<>();
    private final Counter fillsRefused;
    private final Counter nearInvalidations;

    public LinkCache(Redis redis, Clock clock, Duration ttl, Duration negativeTtl, Duration nearTtl, MeterRegistry meters) {
        this.redis = redis;
        this.clock = clock;
        this.ttl = ttl;
        this.negativeTtl = negativeTtl;
        // Longer than any read can take (statement timeout 5 s), so a stale fill always meets its tombstone.
        this.tombstoneTtl = Duration.ofSeconds(30);
        this.near = nearTtl.isZero() ? null
                : Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(nearTtl).recordStats().build();
        this.invalidatedVersions = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(tombstoneTtl).build();
        this.fillsRefused = Counter.builder("app.cache.fills.refused")
                .description("Cache fills refused because an invalidation of a newer version came first (the fill raced a write)")
                .register(meters);
        this.nearInvalidations = Counter.builder("app.cache.near.invalidations")
                .description("Invalidation messages from Redis pub/sub applied to this instance's near cache").register(meters);
        if (near != null) {
            Gauge.builder("app.cache.near.size", near, Cache::estimatedSize)
                    .description("Entries in this instance's near cache (Caffeine)").register(meters);
            FunctionCounter.builder("app.cache.near.evictions", near, c -> c.stats().evictionCount())
                    .description("Entries the near cache evicted for room").register(meters);
        }
        redis.subscribe(CHANNEL, (channel, message) -> onInvalidation(message));
        redis.onRecovery(this::replayTombstones);
    }

    /** The cached entry for a code, or null on a miss (absent, tombstone, or Redis down). */
    public Entry get(String code) {
        if (near != null) {
            Entry e = near.getIfPresent(code);
            if (e != null) return e;
        }
        String raw;
        try {
            raw = redis.await("GET", c -> c.get(key(code)));
        } catch (Redis.Unavailable e) {
            return null;
        }
        Entry e = parse(code, raw);
        if (e != null) nearPut(code, e);
        return e;
    }

    /** Whether only the near cache answered (for metrics): Redis was not asked. */
    public boolean nearHas(String code) {
        return near != null && near.getIfPresent(code) != null;
    }

    /** What became of a fill. REFUSED means the key holds a newer state: what was read is already stale. */
    public enum Fill { STORED, REFUSED, UNAVAILABLE }

    /** Fills after a database read. */
    public Fill putFound(Redirect r, long deltaMs) {
        long soft = clock.millis() + ttl.toMillis();
        String value = "L|" + r.version() + "|" + (r.permanent() ? 1 : 0) + "|"
                + (r.expiresAt() == null ? 0 : r.expiresAt().toEpochMilli()) + "|" + deltaMs + "|" + soft + "|" + r.target();
        Fill f = fill("L", r.version(), value, ttl, r.code());
        if (f == Fill.STORED) nearPut(r.code(), new Found(r, deltaMs, soft));
        return f;
    }

    public Fill putMissing(String code) {
        long soft = clock.millis() + negativeTtl.toMillis();
        Fill f = fill("N", 0, "N|" + soft, negativeTtl, code);
        if (f == Fill.STORED) nearPut(code, new Missing(soft));
        return f;
    }

    private Fill fill(String kind, long version, String value, Duration ttl, String code) {
        try {
            Long stored = redis.<Long>await("EVAL fill", c -> c.eval(FILL, ScriptOutputType.INTEGER, new String[]{key(code)},
                    kind, Long.toString(version), value, Long.toString(ttl.toMillis())));
            if (stored != null && stored == 1) return Fill.STORED;
            fillsRefused.increment();
            return Fill.REFUSED;
        } catch (Redis.Unavailable e) {
            return Fill.UNAVAILABLE;
        }
    }

    /**
     * Write-through, the per-entity alternative to {@link #invalidate}: after the commit, store the new version
     * itself (the same compare-and-set, so an older concurrent writer cannot overwrite it), then tell every
     * instance. The first read after a write is then a hit instead of a miss and a database read; the price is a
     * cache write per database write, and cache memory spent on links that may never be followed. If the store
     * is refused or Redis is away, it falls back to the tombstone.
     */
    public void writeThrough(Redirect r) {
        onInvalidation(r.code() + "|" + r.version());
        if (putFound(r, 1) != Fill.STORED) {
            invalidate(r.code(), r.version(), false);
            return;
        }
        try {
            redis.call("PUBLISH", c -> c.publish(CHANNEL, r.code() + "|" + r.version()));
        } catch (Redis.Unavailable e) {
            // near caches fall back on their short TTL
        }
    }

    /** After a commit that changed ({@code deleted} false) or removed a link: tombstone, then tell every instance. */
    public void invalidate(String code, long version, boolean deleted) {
        String kind = deleted ? "D" : "T";
        onInvalidation(code + "|" + version);
        if (!sendTombstone(code, kind, version)) pendingTombstones.merge(code, new String[]{kind, Long.toString(version)},
                (a, b) -> Long.parseLong(a[1]) >= Long.parseLong(b[1]) ? a : b);
    }

    private boolean sendTombstone(String code, String kind, long version) {
        try {
            redis.call("EVAL tombstone", c -> c.eval(FILL, ScriptOutputType.INTEGER, new String[]{key(code)},
                    kind, Long.toString(version), kind + "|" + version, Long.toString(tombstoneTtl.toMillis())));
            redis.call("PUBLISH", c -> c.publish(CHANNEL, code + "|" + version));
            return true;
        } catch (Redis.Unavailable e) {
            return false;
        }
    }

    private void replayTombstones() {
        for (var e : Map.copyOf(pendingTombstones).entrySet()) {
            if (sendTombstone(e.getKey(), e.getValue()[0], Long.parseLong(e.getValue()[1]))) {
                pendingTombstones.remove(e.getKey(), e.getValue());
            }
        }
    }

    private void onInvalidation(String message) {
        int bar = message.lastIndexOf('|');
        if (bar <= 0) return;
        String code = message.substring(0, bar);
        long version;
        try {
            version = Long.parseLong(message.substring(bar + 1));
        } catch (NumberFormatException e) {
            return;
        }
        invalidatedVersions.asMap().merge(code, version, Math::max);
        if (near != null) near.invalidate(code);
        nearInvalidations.increment();
    }

    private void nearPut(String code, Entry e) {
        if (near == null) return;
        Long invalidated = invalidatedVersions.getIfPresent(code);
        if (invalidated != null) {
            // After an invalidation only a version at least as new may be kept; "missing" cannot prove that.
            if (!(e instanceof Found f) || f.redirect().version() < invalidated) return;
        }
        near.put(code, e);
    }

    /** Whether a tombstone is waiting for Redis to come back (tests and /ready). */
    public int pendingTombstones() {
        return pendingTombstones.size();
    }

    static String key(String code) {
        return "link:" + code;
    }

    static Entry parse(String code, String raw) {
        if (raw == null || raw.isEmpty()) return null;
        switch (raw.charAt(0)) {
            case 'N' -> {
                return new Missing(Long.parseLong(raw.substring(2)));
            }
            case 'L' -> {
                // L|version|permanent|expiresMs|deltaMs|softExpiryMs|target, read in place (every Redis hit parses
                // one; a split made a list, an array and seven strings). The target is last and may hold '|'.
                int a = raw.indexOf('|', 2), b = raw.indexOf('|', a + 1), c = raw.indexOf('|', b + 1);
                int d = raw.indexOf('|', c + 1), e = raw.indexOf('|', d + 1);
                long expires = Long.parseLong(raw, b + 1, c, 10);
                Redirect r = new Redirect(code, raw.substring(e + 1), b == a + 2 && raw.charAt(a + 1) == '1',
                        expires == 0 ? null : Instant.ofEpochMilli(expires), Long.parseLong(raw, 2, a, 10));
                return new Found(r, Long.parseLong(raw, c + 1, d, 10), Long.parseLong(raw, d + 1, e, 10));
            }
            default -> {
                return null; // a tombstone reads as a miss
            }
        }
    }
}
