package io.gatehouse.cache;

import io.gatehouse.config.CacheConfig.KeyConfig;
import io.gatehouse.http.HttpExchange;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * The cache key of a request and its variant. The primary key is what the route's {@code key:} names (scheme, host,
 * path, the query as configured, chosen headers and cookies); the variant is the request's values of the fields the
 * stored response {@code Vary}s on, normalised only where that is safe: lines joined, spaces around commas dropped,
 * and {@code Accept-Encoding} as the set of codings it accepts (order, case, and q-values other than 0 do not change
 * which coding an origin may choose). Kept as plain functions so a fleet can shard by the same key later.
 */
public final class CacheKeys {
    private CacheKeys() {}

    /**
     * The member of a fleet of edges that owns {@code key} (for sharding the cache across edges): rendezvous hashing
     * (highest random weight) of the key's and each member's 64-bit hashes, mixed as the ring-hash balancer mixes
     * its points ({@link io.gatehouse.cluster.Endpoint#mix64}). Every edge computes the same owner from the same
     * member list in any order; adding a member moves only the keys it takes over (about 1/n), removing one only its
     * own. O(members) per call: fleets are tens of edges, not thousands. The ring-hash balancer itself is not used
     * because it is built on a cluster's endpoints, not on names.
     *
     * @param key     a primary cache key ({@link #primary})
     * @param members the edges' names (addresses or ids), at least one
     */
    public static String owner(String key, java.util.Collection<String> members) {
        if (members.isEmpty()) throw new IllegalArgumentException("no members");
        long k = hash64(key);
        String best = null;
        long bestWeight = 0;
        for (String m : members) {
            long w = io.gatehouse.cluster.Endpoint.mix64(k ^ io.gatehouse.cluster.Endpoint.mix64(hash64(m)));
            // ties (vanishingly rare) go to the smaller name, so the order of members never matters
            if (best == null || Long.compareUnsigned(w, bestWeight) > 0 || (w == bestWeight && m.compareTo(best) < 0)) {
                best = m;
                bestWeight = w;
            }
        }
        return best;
    }

    /** FNV-1a over the UTF-16 chars, then mixed: stable across JVMs (unlike identity hashes). */
    static long hash64(String s) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < s.length(); i++) {
            h ^= s.charAt(i);
            h *= 0x100000001b3L;
        }
        return io.gatehouse.cluster.Endpoint.mix64(h);
    }

    /** The primary cache key of a request: what the route's {@code key:} names; the same at every tier of a fleet. */
    public static String primary(HttpExchange ex, KeyConfig key) {
        StringBuilder b = new StringBuilder(64);
        if (key.scheme()) b.append(ex.connection().scheme()).append("://");
        if (key.host()) b.append(ex.host());
        b.append(ex.path());
        String q = query(ex.query(), key);
        if (q != null) b.append('?').append(q);
        for (String h : key.headers()) {
            b.append('\n').append(h).append(':');
            List<String> values = ex.request().headers().getAll(h);
            if (!values.isEmpty()) b.append(String.join(",", values));
        }
        for (String c : key.cookies()) {
            String v = cookie(ex.request().headers(), c);
            b.append("\ncookie ").append(c).append('=').append(v == null ? "" : v);
        }
        return b.toString();
    }

    /** The URL purges and invalidations name: scheme, host, path and the query as the key normalises it. */
    static String url(HttpExchange ex, KeyConfig key) {
        String q = query(ex.query(), key);
        return origin(ex) + ex.path() + (q == null ? "" : "?" + q);
    }

    static String origin(HttpExchange ex) {
        return ex.connection().scheme() + "://" + ex.host();
    }

    static String query(String query, KeyConfig key) {
        if (query == null || key.query().equals("ignore")) return null;
        if (key.queryAllow().isEmpty()) {
            if (key.query().equals("as_is")) return query;
            // one parameter is already sorted: no split, list or join per request (the hit path)
            if (query.indexOf('&') < 0) return query.isEmpty() ? null : query;
        }
        List<String> parts = new ArrayList<>();
        for (String p : query.split("&")) {
            if (p.isEmpty()) continue;
            int eq = p.indexOf('=');
            String name = eq < 0 ? p : p.substring(0, eq);
            if (!key.queryAllow().isEmpty() && !key.queryAllow().contains(name)) continue;
            parts.add(p);
        }
        if (key.query().equals("sorted")) parts.sort(null);
        return parts.isEmpty() ? null : String.join("&", parts);
    }

    static String variant(List<String> vary, HttpHeaders request) {
        if (vary.isEmpty()) return "";
        StringBuilder b = new StringBuilder();
        for (String name : vary) {
            b.append(name).append('=');
            List<String> values = request.getAll(name);
            if (!values.isEmpty()) {
                b.append(name.equals("accept-encoding") ? acceptEncodingOf(values) : normalise(values));
            } else {
                b.append('\u0001');   // absent differs from empty
            }
            b.append('\n');
        }
        return b.toString();
    }

    /** The Vary field names of a response, lower case, sorted, without duplicates. */
    static List<String> varyNames(HttpHeaders response) {
        TreeSet<String> names = new TreeSet<>();
        for (String line : response.getAll(HttpHeaderNames.VARY)) {
            for (String n : Directives.splitList(line)) names.add(n.toLowerCase(Locale.ROOT));
        }
        return List.copyOf(names);
    }

    private static String normalise(List<String> values) {
        List<String> members = new ArrayList<>();
        for (String v : values) for (String m : v.split(",")) if (!m.isBlank()) members.add(m.strip().replaceAll("\\s+", " "));
        return String.join(",", members);
    }

    /** Normalised single-line Accept-Encoding values, remembered: clients send few distinct ones (the hit path). */
    private static final java.util.concurrent.ConcurrentHashMap<String, String> ACCEPT_ENCODINGS = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int ACCEPT_ENCODINGS_MAX = 1024;

    private static String acceptEncodingOf(List<String> values) {
        if (values.size() != 1) return acceptEncoding(values);
        String raw = values.get(0);
        String v = ACCEPT_ENCODINGS.get(raw);
        if (v != null) return v;
        v = acceptEncoding(values);
        if (ACCEPT_ENCODINGS.size() >= ACCEPT_ENCODINGS_MAX) ACCEPT_ENCODINGS.clear();   // crude bound: odd values churn it, common ones come back
        ACCEPT_ENCODINGS.put(raw, v);
        return v;
    }

    static String acceptEncoding(List<String> values) {
        TreeSet<String> codings = new TreeSet<>();
        for (String v : values) {
            for (String m : v.split(",")) {
                String[] parts = m.split(";");
                String coding = parts[0].strip().toLowerCase(Locale.ROOT);
                if (coding.isEmpty()) continue;
                boolean refused = false;
                for (int i = 1; i < parts.length; i++) {
                    String p = parts[i].strip().toLowerCase(Locale.ROOT);
                    if (p.startsWith("q=") && p.substring(2).strip().matches("0(\\.0{0,3})?")) refused = true;
                }
                if (!refused) codings.add(coding);
            }
        }
        return String.join(",", codings);
    }

    /** The value of cookie {@code name} in the request, or null. */
    static String cookie(HttpHeaders request, String name) {
        for (String line : request.getAll(HttpHeaderNames.COOKIE)) {
            for (String pair : line.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).strip().equals(name)) return pair.substring(eq + 1).strip();
            }
        }
        return null;
    }
}
