package io.gatehouse.cache;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The caching decision of a shared cache, as a pure function of (request, stored response, now), after OkHttp's
 * {@code CacheStrategy}: {@link #decide} says whether a stored response is served, validated, or fetched anew;
 * {@link #storable} whether a response may be stored; {@link #usableOnError} whether a stale one may stand in for a
 * failure. RFC 9111 for a shared cache, RFC 5861 ({@code stale-while-revalidate}, {@code stale-if-error}) and RFC 9213
 * (targeted fields). Time is wall milliseconds from the caller (the server's clock).
 */
public final class CacheStrategy {
    private CacheStrategy() {}

    public enum Action {
        /** Serve the stored response (fresh, or stale within what the request accepts). */
        SERVE,
        /** Serve the stored response although stale, and refresh it in the background once (stale-while-revalidate). */
        SERVE_STALE_REVALIDATE,
        /** Forward with the stored validators (a conditional request); a 304 updates the stored response. */
        VALIDATE,
        /** Forward as a miss: nothing usable is stored. */
        FETCH,
        /** {@code only-if-cached} and nothing usable: 504 (RFC 9111 §5.2.1.7). */
        UNSATISFIABLE
    }

    /**
     * @param action  what to do
     * @param stored  the stored response concerned (null for a plain miss)
     * @param ageSeconds its current age
     * @param ttlSeconds freshness left (negative: stale by that much)
     * @param fwd     the RFC 9211 {@code fwd} reason when forwarding ({@code uri-miss}, {@code stale}, {@code request}), else null
     */
    public record Decision(Action action, CachedResponse stored, long ageSeconds, long ttlSeconds, String fwd) {}

    /** Status codes this cache understands (RFC 9110's), for {@code must-understand}; 206 is not stored whole. */
    static final Set<Integer> UNDERSTOOD = Set.of(200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 304, 305, 307, 308,
            400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426,
            500, 501, 502, 503, 504, 505);
    /** Heuristically cacheable status codes (RFC 9110 §15.1), less 206 (partials are never stored whole). */
    static final Set<Integer> HEURISTIC = Set.of(200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501);

    // ---- the request ----

    /** The request's directives: {@code Cache-Control}, or {@code Pragma: no-cache} when it has none (RFC 9111 §5.4). */
    public static Directives requestDirectives(HttpHeaders request) {
        // most requests carry neither: no lists made for them (the hit path)
        if (!request.contains(HttpHeaderNames.CACHE_CONTROL) && !request.contains(HttpHeaderNames.PRAGMA)) return Directives.NONE;
        List<String> cc = request.getAll(HttpHeaderNames.CACHE_CONTROL);
        if (!cc.isEmpty()) return Directives.parse(cc);
        for (String p : request.getAll(HttpHeaderNames.PRAGMA)) {
            for (String t : Directives.splitList(p)) if (t.equalsIgnoreCase("no-cache")) return Directives.parse("no-cache");
        }
        return Directives.NONE;
    }

    // ---- the decision ----

    public static Decision decide(HttpHeaders request, CachedResponse stored, long now) {
        Directives req = requestDirectives(request);
        if (stored == null) return forward(req, null, 0, 0, "uri-miss");
        long ageMillis = currentAgeMillis(stored, now);
        long age = ageMillis / 1000;
        long ttlMillis = stored.lifetimeMillis - ageMillis;
        long ttl = Math.floorDiv(ttlMillis, 1000);
        Directives res = stored.directives;
        boolean fresh = ttlMillis > 0 && !stored.invalidated();
        if (res.noCache) return forward(req, stored, age, ttl, "stale");          // stored, but never used unvalidated
        if (req.noCache) return forward(req, stored, age, ttl, "request");
        if (req.maxAge != Directives.ABSENT && (req.maxAge == Directives.INVALID || ageMillis > req.maxAge * 1000)) {
            return forward(req, stored, age, ttl, fresh ? "request" : "stale");
        }
        if (req.minFresh >= 0 && ttlMillis < req.minFresh * 1000) return forward(req, stored, age, ttl, fresh ? "request" : "stale");
        if (fresh) return new Decision(Action.SERVE, stored, age, ttl, null);
        long staleMillis = -ttlMillis;
        if (!stored.invalidated() && !staleForbidden(stored)) {
            // a client's max-stale is no match for s-maxage, which implies proxy-revalidate (RFC 9111 §5.2.2.10)
            if (req.maxStale != Directives.ABSENT && req.maxStale != Directives.INVALID && res.sMaxAge == Directives.ABSENT
                    && (req.maxStale == Directives.ANY || staleMillis <= req.maxStale * 1000)) {
                return new Decision(Action.SERVE, stored, age, ttl, null);
            }
            if (res.staleWhileRevalidate >= 0 && staleMillis <= res.staleWhileRevalidate * 1000) {
                return new Decision(Action.SERVE_STALE_REVALIDATE, stored, age, ttl, null);
            }
        }
        return forward(req, stored, age, ttl, "stale");
    }

    private static Decision forward(Directives req, CachedResponse stored, long age, long ttl, String fwd) {
        if (req.onlyIfCached) return new Decision(Action.UNSATISFIABLE, stored, age, ttl, fwd);
        return new Decision(stored == null ? Action.FETCH : Action.VALIDATE, stored, age, ttl, fwd);
    }

    /** An explicit directive forbids serving this response stale at all (RFC 9111 §4.2.4). */
    static boolean staleForbidden(CachedResponse stored) {
        Directives d = stored.directives;
        return d.mustRevalidate || d.proxyRevalidate || d.noCache;
    }

    /**
     * Whether {@code stored}, stale, may answer instead of a failure of the origin ({@code failure}: {@code error},
     * {@code timeout} or {@code http_5xx}): within the response's {@code stale-if-error}, the request's, or the
     * operator's window for that kind of failure; never past {@code must-revalidate}, {@code proxy-revalidate},
     * {@code no-cache}, and the operator's window never past {@code s-maxage} either.
     */
    public static boolean usableOnError(HttpHeaders request, CachedResponse stored, long now, String failure, CachePolicy policy) {
        if (stored == null || staleForbidden(stored)) return false;
        long staleMillis = currentAgeMillis(stored, now) - stored.lifetimeMillis;
        if (staleMillis <= 0 && !stored.invalidated()) return true;   // still fresh: it was being validated for the client's sake
        staleMillis = Math.max(staleMillis, 0);
        Directives res = stored.directives;
        if (res.staleIfError >= 0 && staleMillis <= res.staleIfError * 1000) return true;
        Directives req = requestDirectives(request);
        if (req.staleIfError >= 0 && staleMillis <= req.staleIfError * 1000) return true;
        return policy.useStale().contains(failure) && res.sMaxAge == Directives.ABSENT
                && staleMillis <= policy.staleOnError().toMillis();
    }

    // ---- age and freshness (RFC 9111 §4.2) ----

    /** {@code current_age} (RFC 9111 §4.2.3), in milliseconds. */
    public static long currentAgeMillis(CachedResponse r, long now) {
        long apparentAge = Math.max(0, r.responseTime() - r.dateMillis);
        long responseDelay = Math.max(0, r.responseTime() - r.requestTime());
        long correctedAgeValue = r.ageValue * 1000 + responseDelay;
        long correctedInitialAge = Math.max(apparentAge, correctedAgeValue);
        long residentTime = Math.max(0, now - r.responseTime());
        return correctedInitialAge + residentTime;
    }

    /** The {@code Age} field in seconds: the first line's delta-seconds; invalid or absent is 0. */
    static long ageValue(HttpHeaders headers) {
        String age = headers.get(HttpHeaderNames.AGE);
        if (age == null) return 0;
        int comma = age.indexOf(',');
        long v = Directives.delta((comma < 0 ? age : age.substring(0, comma)).strip());
        return v < 0 ? 0 : v;
    }

    /**
     * The freshness lifetime for a shared cache (RFC 9111 §4.2.1): {@code s-maxage}, else {@code max-age}, else
     * {@code Expires - Date}, else the operator's TTL for the status, else the heuristic where allowed, else zero.
     * An invalid or duplicated value gives zero. With targeted directives, {@code Expires} is ignored (RFC 9213).
     */
    static long lifetimeMillis(int status, HttpHeaders headers, Directives d, boolean targeted, long dateMillis, CachePolicy policy) {
        java.time.Duration operator = policy.ttlByStatus().get(status);
        if (!policy.respectOrigin()) return operator == null ? 0 : operator.toMillis();
        if (d.sMaxAge != Directives.ABSENT) return d.sMaxAge < 0 ? 0 : d.sMaxAge * 1000;
        if (d.maxAge != Directives.ABSENT) return d.maxAge < 0 ? 0 : d.maxAge * 1000;
        if (!targeted) {
            List<String> expires = headers.getAll(HttpHeaderNames.EXPIRES);
            if (!expires.isEmpty()) {
                if (expires.stream().distinct().count() > 1) return 0;
                Long at = HttpDates.parse(expires.get(0));
                return at == null ? 0 : Math.max(0, at - dateMillis);
            }
        }
        if (operator != null) return operator.toMillis();
        if (HEURISTIC.contains(status) || d.isPublic) {
            Long lm = HttpDates.parse(headers.get(HttpHeaderNames.LAST_MODIFIED));
            if (lm != null && lm < dateMillis) {
                return Math.min((long) ((dateMillis - lm) * policy.heuristicFraction()), policy.heuristicMax().toMillis());
            }
        }
        return 0;
    }

    /** The first valid, non-empty targeted field of {@code headers} in the policy's order, or null (RFC 9213 §2.2). */
    static Directives targetedDirectives(HttpHeaders headers, CachePolicy policy) {
        if (!policy.respectOrigin()) return null;
        for (String target : policy.targets()) {
            List<String> lines = headers.getAll(target);
            if (lines.isEmpty()) continue;
            Directives d = Directives.parseTargeted(lines);
            if (d != null) return d;
        }
        return null;
    }

    // ---- storing (RFC 9111 §3) ----

    /**
     * @param store       whether the response may be stored
     * @param reason      why not (for {@code Cache-Status: detail} and logs), or null
     * @param stripFields fields to leave out when storing ({@code private="…"})
     */
    public record Storability(boolean store, String reason, List<String> stripFields) {
        static Storability no(String reason) { return new Storability(false, reason, List.of()); }
    }

    public static Storability storable(HttpMethod method, HttpHeaders request, int status, HttpHeaders response, CachePolicy policy) {
        if (!method.equals(HttpMethod.GET)) return Storability.no("method");
        if (status < 200 || status == 206 || status == 304) return Storability.no("status");
        if (requestDirectives(request).noStore) return Storability.no("request-no-store");
        if (response.getAll(HttpHeaderNames.VARY).stream().flatMap(v -> Directives.splitList(v).stream()).anyMatch("*"::equals)) {
            return Storability.no("vary-star");
        }
        boolean setCookie = response.contains(HttpHeaderNames.SET_COOKIE);
        if (!policy.respectOrigin()) {
            if (!policy.ttlByStatus().containsKey(status)) return Storability.no("no-ttl-for-status");
            if (setCookie && !policy.storeSetCookie()) return Storability.no("set-cookie");
            return new Storability(true, null, List.of());
        }
        Directives targeted = targetedDirectives(response, policy);
        Directives d = targeted != null ? targeted : Directives.parse(response.getAll(HttpHeaderNames.CACHE_CONTROL));
        if (d.mustUnderstand) {
            // must-understand stands in for no-store when the status is understood, and forbids storing otherwise
            if (!UNDERSTOOD.contains(status)) return Storability.no("must-understand");
        } else if (d.noStore) {
            return Storability.no("no-store");
        }
        if (d.isPrivate) return Storability.no("private");
        if (request.contains(HttpHeaderNames.AUTHORIZATION) && !(d.mustRevalidate || d.isPublic || d.sMaxAge != Directives.ABSENT)) {
            return Storability.no("authorization");
        }
        List<String> strip = new ArrayList<>(d.privateFields);
        if (setCookie && !policy.storeSetCookie() && !strip.contains("set-cookie")) return Storability.no("set-cookie");
        boolean explicit = d.isPublic || d.maxAge != Directives.ABSENT || d.sMaxAge != Directives.ABSENT
                || (targeted == null && response.contains(HttpHeaderNames.EXPIRES));
        if (!explicit && !policy.ttlByStatus().containsKey(status) && !HEURISTIC.contains(status)) return Storability.no("not-cacheable");
        return new Storability(true, null, List.copyOf(strip));
    }
}
