package io.gatehouse.app.links;

import io.gatehouse.app.cache.Redis;
import io.gatehouse.app.cache.SingleFlight;
import io.gatehouse.app.cache.XFetch;
import io.gatehouse.app.db.Database;
import io.gatehouse.app.db.Lsn;
import io.gatehouse.app.http.ProblemException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** The use cases of links: create, resolve (the hot path), read, change, delete, list. */
public final class LinkService {
    private static final Duration MAX_LIFETIME = Duration.ofDays(3650);
    private static final int LIST_LIMIT = 100;

    private final Database db;
    private final LinkStore store;
    private final LinkCache cache; // null: the system runs without the cache block
    private final Redis redis;
    private final HitCounter hitCounter;
    private final TargetPolicy policy;
    private final CodeGenerator codes = new CodeGenerator();
    private final SingleFlight<String, LinkCache.Entry> flights = new SingleFlight<>();
    private final XFetch xfetch = new XFetch(1.0);
    private final Clock clock;
    private boolean writeThrough;
    private final Counter hits, misses, negativeHits, bypass, suppressed, earlyRefreshes, dbLoads;

    public LinkService(Database db, LinkStore store, LinkCache cache, Redis redis, HitCounter hitCounter, TargetPolicy policy,
                       Clock clock, MeterRegistry meters) {
        this.db = db;
        this.store = store;
        this.cache = cache;
        this.redis = redis;
        this.hitCounter = hitCounter;
        this.policy = policy;
        this.clock = clock;
        this.hits = lookup(meters, "hit");
        this.misses = lookup(meters, "miss");
        this.negativeHits = lookup(meters, "negative_hit");
        this.bypass = lookup(meters, "bypass");
        this.suppressed = Counter.builder("app.cache.loads.suppressed")
                .description("Cache misses that waited for another request's database load of the same code instead of making one (single flight)")
                .register(meters);
        this.earlyRefreshes = Counter.builder("app.cache.early_refreshes")
                .description("Cache entries reloaded before they expired (XFetch's probabilistic early refresh)").register(meters);
        this.dbLoads = Counter.builder("app.cache.loads").description("Database loads made to fill the cache").register(meters);
    }

    private static Counter lookup(MeterRegistry meters, String result) {
        return Counter.builder("app.cache.requests")
                .description("Redirect lookups by the cache's answer: hit, miss (loaded from the database), negative_hit "
                        + "(a code cached as unknown), bypass (no Redis: straight to the database)")
                .tag("result", result).register(meters);
    }

    /** Links written through to the cache instead of invalidated (see {@link LinkCache#writeThrough}). */
    public LinkService writeThrough(boolean on) {
        this.writeThrough = on;
        return this;
    }

    private void written(Link l) {
        if (cache == null) return;
        if (writeThrough) cache.writeThrough(Redirect.of(l));
        else cache.invalidate(l.code(), l.version(), false);
    }

    // ---- the hot path ----

    /**
     * The link behind a code, or null if there is none. {@code atLeast} is the caller's last commit position
     * (read-your-writes), or null.
     */
    public Redirect resolve(String code, Lsn atLeast) {
        if (!plausibleCode(code)) return null; // junk never reaches the cache or the database
        if (cache == null) {
            bypass.increment();
            return flights.run(code, () -> load(code, atLeast, false)).value() instanceof LinkCache.Found f ? f.redirect() : null;
        }
        LinkCache.Entry e = cache.get(code);
        if (e != null) {
            if (e instanceof LinkCache.Found f) {
                hits.increment();
                long now = clock.millis();
                if (xfetch.shouldRefresh(now, f.deltaMs(), f.softExpiryMs(), 1.0 - ThreadLocalRandom.current().nextDouble())) {
                    earlyRefreshes.increment();
                    flights.refreshInBackground(code, () -> load(code, null, true));
                }
                return f.redirect();
            }
            negativeHits.increment();
            return null;
        }
        misses.increment();
        SingleFlight.Outcome<LinkCache.Entry> o = flights.run(code, () -> {
            // A caller who missed just before the previous flight filled the cache lands here: look again first.
            LinkCache.Entry again = cache.get(code);
            return again != null ? again : load(code, atLeast, true);
        });
        if (!o.loaded()) suppressed.increment();
        return o.value() instanceof LinkCache.Found f ? f.redirect() : null;
    }

    /**
     * The shape of every code and alias, {@code [A-Za-z0-9][A-Za-z0-9_-]{2,31}}, checked by hand: this runs on every
     * redirect, and a regex match there allocated a Matcher (with its group arrays) per request.
     */
    static boolean plausibleCode(String code) {
        int n = code.length();
        if (n < 3 || n > 32) return false;
        for (int i = 0; i < n; i++) {
            char ch = code.charAt(i);
            boolean alnum = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
            if (!alnum && (i == 0 || (ch != '_' && ch != '-'))) return false;
        }
        return true;
    }

    private LinkCache.Entry load(String code, Lsn atLeast, boolean fill) {
        dbLoads.increment();
        long started = System.nanoTime();
        Database.Read<Link> read = db.read(atLeast, c -> store.find(c, code));
        Link link = read.value();
        boolean fromReplica = !read.source().equals("primary");
        if (link == null && fromReplica) {
            // A lagging replica may not have the link yet; "not found" is only cached on the primary's word.
            link = db.onPrimary(c -> store.find(c, code));
            fromReplica = false;
        }
        long deltaMs = Math.max(1, (System.nanoTime() - started) / 1_000_000);
        if (link == null) {
            if (fill) cache.putMissing(code);
            return new LinkCache.Missing(clock.millis());
        }
        Redirect r = Redirect.of(link);
        if (fill && cache.putFound(r, deltaMs) == LinkCache.Fill.REFUSED && fromReplica) {
            // The cache already holds a newer state than the replica had (a change committed a moment ago and
            // tombstoned): the replica is behind, so the primary answers, and its answer may fill the cache.
            Link fresh = db.onPrimary(c -> store.find(c, code));
            if (fresh == null) {
                cache.putMissing(code);
                return new LinkCache.Missing(clock.millis());
            }
            r = Redirect.of(fresh);
            cache.putFound(r, deltaMs);
        }
        return new LinkCache.Found(r, deltaMs, clock.millis());
    }

    /**
     * Counts a followed redirect in memory; {@link HitCounter} sends the counts in one batch per interval, so a
     * near-cache hit is a redirect with no network call (never a write per hit, to Redis or the database).
     */
    public void countHit(String code) {
        hitCounter.hit(code);
    }

    public HitCounter hits() {
        return hitCounter;
    }

    // ---- management ----

    public Database.Written<Link> create(String owner, String target, String alias, Instant expiresAt, boolean permanent) {
        String checkedTarget = policy.checkTarget(target);
        if (expiresAt != null) {
            Instant now = clock.instant();
            if (!expiresAt.isAfter(now)) throw ProblemException.badRequest("invalid-expiry", "'expiresAt' must be in the future");
            if (expiresAt.isAfter(now.plus(MAX_LIFETIME))) throw ProblemException.badRequest("invalid-expiry", "'expiresAt' is more than ten years away");
        }
        Database.Written<Link> w;
        if (alias != null) {
            String a = policy.checkAlias(alias);
            w = db.write(c -> store.insert(c, a, checkedTarget, owner, permanent, expiresAt));
            if (w.value() == null) throw new ProblemException(409, "alias-taken", "Alias taken", "'" + alias + "' is already in use");
        } else {
            w = null;
            for (int attempt = 0; attempt < 5 && (w == null || w.value() == null); attempt++) {
                String code = codes.next();
                w = db.write(c -> store.insert(c, code, checkedTarget, owner, permanent, expiresAt));
            }
            if (w.value() == null) throw new IllegalStateException("five random codes in a row collided");
        }
        written(w.value());
        return w;
    }

    /**
     * Metadata and stats of an owner's link (null value if there is none): hits rolled up in PostgreSQL plus those
     * flushed to Redis and not yet rolled up. Counts still in an instance's memory show after its next flush.
     */
    public Database.Read<Link> get(String owner, String code, Lsn atLeast) {
        Database.Read<Link> r = db.read(atLeast, c -> store.findOwned(c, code, owner));
        if (r.value() == null) return r; // the caller says who answered, then 404s
        long pending = 0;
        if (redis != null) {
            try {
                for (String key : List.of(HitCounter.HITS_KEY, HitCounter.HITS_KEY + ":rolling")) { // counted, or being rolled up right now
                    String v = redis.call("HGET", c -> c.hget(key, code));
                    pending += v == null ? 0 : Long.parseLong(v);
                }
            } catch (Redis.Unavailable e) {
                // stats are a little behind while Redis is away
            }
        }
        Link l = r.value();
        return new Database.Read<>(new Link(l.code(), l.target(), l.owner(), l.permanent(), l.expiresAt(), l.createdAt(),
                l.updatedAt(), l.version(), l.hits() + pending), r.source());
    }

    public Database.Written<Link> updateTarget(String owner, String code, String target) {
        String checked = policy.checkTarget(target);
        Database.Written<Link> w = db.write(c -> store.updateTarget(c, code, owner, checked));
        if (w.value() == null) throw ProblemException.notFound("no link '" + code + "' of yours");
        // Only after the commit: a tombstone written before it could be overwritten by a reader of the old row.
        written(w.value());
        return w;
    }

    public Database.Written<Long> delete(String owner, String code) {
        Database.Written<Long> w = db.write(c -> store.delete(c, code, owner));
        if (w.value() == null) throw ProblemException.notFound("no link '" + code + "' of yours");
        if (cache != null) cache.invalidate(code, w.value(), true);
        return w;
    }

    public Database.Read<List<Link>> list(String owner, Lsn atLeast) {
        return db.read(atLeast, c -> store.listByOwner(c, owner, LIST_LIMIT));
    }

    public LinkStore store() {
        return store;
    }

    public LinkCache cache() {
        return cache;
    }
}
