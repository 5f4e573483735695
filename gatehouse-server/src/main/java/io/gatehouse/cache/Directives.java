package io.gatehouse.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Cache directives of a request or a response (RFC 9111 §5.2, RFC 5861), read from every {@code Cache-Control} line
 * together (a field may be split over several lines), or from one targeted field (RFC 9213, a Structured Fields
 * dictionary). Values follow the RFC's recipient rules:
 * <ul>
 *   <li>delta-seconds may be quoted ({@code max-age="60"}, §5.2: recipients accept both forms) and have leading zeros;
 *       a value too large for the cache is 2147483648 (§1.2.2);</li>
 *   <li>a value that is not delta-seconds, or a directive given twice with different values, is {@link #INVALID}:
 *       the freshness it sets is none (§4.2.1: "consider the response stale");</li>
 *   <li>directive names are case-insensitive; unknown ones are ignored.</li>
 * </ul>
 * The qualified forms {@code no-cache="field"} count as the unqualified one (the stricter reading RFC 9111 §5.2.2.4
 * allows); {@code private="field"} lists fields a shared cache stores without (§5.2.2.7).
 */
public final class Directives {
    /** The directive is absent. */
    public static final long ABSENT = -1;
    /** The directive is present with a value that is not delta-seconds, or with conflicting duplicates. */
    public static final long INVALID = -2;
    /** {@code max-stale} without a value: any staleness. */
    public static final long ANY = Long.MAX_VALUE;
    /** What delta-seconds beyond the representable become (RFC 9111 §1.2.2). */
    public static final long MAX_DELTA = 2147483648L;

    public static final Directives NONE = new Directives();

    long maxAge = ABSENT, sMaxAge = ABSENT, maxStale = ABSENT, minFresh = ABSENT;
    long staleWhileRevalidate = ABSENT, staleIfError = ABSENT;
    boolean noCache, noStore, isPrivate, isPublic, mustRevalidate, proxyRevalidate, mustUnderstand;
    boolean onlyIfCached, noTransform, immutable;
    List<String> privateFields = List.of();    // private="a, b": only these fields are private

    private Directives() {}

    public long maxAge() { return maxAge; }
    public long sMaxAge() { return sMaxAge; }
    public long maxStale() { return maxStale; }
    public long minFresh() { return minFresh; }
    public long staleWhileRevalidate() { return staleWhileRevalidate; }
    public long staleIfError() { return staleIfError; }
    public boolean noCache() { return noCache; }
    public boolean noStore() { return noStore; }
    /** Unqualified {@code private}: a shared cache stores nothing of it. */
    public boolean isPrivate() { return isPrivate; }
    public List<String> privateFields() { return privateFields; }
    public boolean isPublic() { return isPublic; }
    public boolean mustRevalidate() { return mustRevalidate; }
    public boolean proxyRevalidate() { return proxyRevalidate; }
    public boolean mustUnderstand() { return mustUnderstand; }
    public boolean onlyIfCached() { return onlyIfCached; }
    public boolean noTransform() { return noTransform; }
    public boolean immutable() { return immutable; }

    /** Parses every line of a {@code Cache-Control} field (null or empty: no directives). */
    public static Directives parse(List<String> lines) {
        if (lines == null || lines.isEmpty()) return NONE;
        Directives d = new Directives();
        for (String line : lines) {
            for (String member : splitList(line)) {
                int eq = member.indexOf('=');
                String name = (eq < 0 ? member : member.substring(0, eq)).strip().toLowerCase(Locale.ROOT);
                String value = eq < 0 ? null : unquote(member.substring(eq + 1).strip());
                d.apply(name, value, eq >= 0);
            }
        }
        return d;
    }

    public static Directives parse(String line) {
        return line == null ? NONE : parse(List.of(line));
    }

    private void apply(String name, String value, boolean hasValue) {
        switch (name) {
            case "max-age" -> maxAge = merge(maxAge, delta(value));
            case "s-maxage" -> sMaxAge = merge(sMaxAge, delta(value));
            case "max-stale" -> maxStale = merge(maxStale, hasValue ? delta(value) : ANY);
            case "min-fresh" -> minFresh = merge(minFresh, delta(value));
            case "stale-while-revalidate" -> staleWhileRevalidate = merge(staleWhileRevalidate, delta(value));
            case "stale-if-error" -> staleIfError = merge(staleIfError, delta(value));
            case "no-cache" -> noCache = true;
            case "no-store" -> noStore = true;
            case "private" -> {
                if (hasValue && value != null && !value.isBlank()) {
                    List<String> fields = new ArrayList<>(privateFields);
                    for (String f : value.split(",")) if (!f.isBlank()) fields.add(f.strip().toLowerCase(Locale.ROOT));
                    privateFields = List.copyOf(fields);
                } else {
                    isPrivate = true;
                }
            }
            case "public" -> isPublic = true;
            case "must-revalidate" -> mustRevalidate = true;
            case "proxy-revalidate" -> proxyRevalidate = true;
            case "must-understand" -> mustUnderstand = true;
            case "only-if-cached" -> onlyIfCached = true;
            case "no-transform" -> noTransform = true;
            case "immutable" -> immutable = true;
            default -> { }
        }
    }

    /** A directive seen again: the same value stands; a different one makes it invalid (RFC 9111 §4.2.1). */
    private static long merge(long before, long now) {
        if (before == ABSENT || before == now) return now;
        return INVALID;
    }

    /** delta-seconds: 1*DIGIT, any length; null or anything else is INVALID. */
    static long delta(String value) {
        if (value == null || value.isEmpty()) return INVALID;
        long v = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') return INVALID;
            if (v < MAX_DELTA) v = v * 10 + (c - '0');
        }
        return Math.min(v, MAX_DELTA);
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && v.charAt(0) == '"' && v.charAt(v.length() - 1) == '"') {
            StringBuilder b = new StringBuilder(v.length());
            for (int i = 1; i < v.length() - 1; i++) {
                char c = v.charAt(i);
                if (c == '\\' && i + 1 < v.length() - 1) c = v.charAt(++i);
                b.append(c);
            }
            return b.toString();
        }
        return v;
    }

    /** Splits a list-based field value on commas outside quoted strings, dropping empty members. */
    static List<String> splitList(String line) {
        List<String> out = new ArrayList<>(4);
        if (line == null) return out;
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted && c == '\\') {
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                add(out, line.substring(start, i));
                start = i + 1;
            }
        }
        add(out, line.substring(start));
        return out;
    }

    private static void add(List<String> out, String member) {
        String m = member.strip();
        if (!m.isEmpty()) out.add(m);
    }

    /**
     * Parses a targeted cache-control field (RFC 9213 §2.1): a Structured Fields dictionary (RFC 8941) whose members
     * carry the directives of Cache-Control; integer values for the delta-seconds ones, parameters ignored. Returns
     * null when the value is empty or does not parse as a dictionary: the field then counts as absent. A directive
     * whose value has the wrong type is ignored (RFC 9213 §2.1).
     */
    public static Directives parseTargeted(List<String> lines) {
        if (lines == null || lines.isEmpty()) return null;
        String value = String.join(",", lines);
        Directives d = new Directives();
        int[] pos = {0};
        int n = value.length();
        skipSp(value, pos);
        if (pos[0] >= n) return null;
        java.util.Map<String, Object> members = new java.util.LinkedHashMap<>();
        while (true) {
            String key = sfKey(value, pos);
            if (key == null) return null;
            Object item = Boolean.TRUE;
            if (pos[0] < n && value.charAt(pos[0]) == '=') {
                pos[0]++;
                item = sfBareItem(value, pos);
                if (item == null) return null;
            }
            if (!sfParams(value, pos)) return null;
            members.put(key, item);   // a later duplicate overrides (RFC 8941 §4.2.2)
            while (pos[0] < n && (value.charAt(pos[0]) == ' ' || value.charAt(pos[0]) == '\t')) pos[0]++;
            if (pos[0] >= n) break;
            if (value.charAt(pos[0]) != ',') return null;
            pos[0]++;
            while (pos[0] < n && (value.charAt(pos[0]) == ' ' || value.charAt(pos[0]) == '\t')) pos[0]++;
            if (pos[0] >= n) return null;   // trailing comma
        }
        for (var e : members.entrySet()) {
            Object v = e.getValue();
            switch (e.getKey()) {
                case "max-age", "s-maxage", "stale-while-revalidate", "stale-if-error", "max-stale", "min-fresh" -> {
                    if (v instanceof Long l && l >= 0) d.apply(e.getKey(), Long.toString(l), true);
                }
                case "private" -> {
                    if (v == Boolean.TRUE) d.isPrivate = true;
                }
                default -> {
                    if (v == Boolean.TRUE) d.apply(e.getKey(), null, false);
                }
            }
        }
        return d;
    }

    private static void skipSp(String s, int[] pos) {
        while (pos[0] < s.length() && s.charAt(pos[0]) == ' ') pos[0]++;
    }

    private static String sfKey(String s, int[] pos) {
        int i = pos[0];
        if (i >= s.length()) return null;
        char c = s.charAt(i);
        if (!((c >= 'a' && c <= 'z') || c == '*')) return null;
        int start = i++;
        while (i < s.length()) {
            c = s.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '*') i++;
            else break;
        }
        pos[0] = i;
        return s.substring(start, i);
    }

    /** An SF bare item: integer (Long), decimal (Double), string, token, boolean; byte sequences as a String. */
    private static Object sfBareItem(String s, int[] pos) {
        int i = pos[0];
        if (i >= s.length()) return null;
        char c = s.charAt(i);
        if (c == '-' || (c >= '0' && c <= '9')) {
            int start = i;
            if (c == '-') i++;
            int digitsStart = i;
            boolean decimal = false;
            while (i < s.length() && ((s.charAt(i) >= '0' && s.charAt(i) <= '9') || (s.charAt(i) == '.' && !decimal))) {
                if (s.charAt(i) == '.') decimal = true;
                i++;
            }
            if (i == digitsStart) return null;
            String num = s.substring(start, i);
            pos[0] = i;
            if (decimal) {
                if (num.endsWith(".") || num.length() > 16) return null;
                return Double.parseDouble(num);
            }
            if (i - digitsStart > 15) return null;
            return Long.parseLong(num);
        }
        if (c == '"') {
            StringBuilder b = new StringBuilder();
            i++;
            while (i < s.length()) {
                char ch = s.charAt(i++);
                if (ch == '\\') {
                    if (i >= s.length()) return null;
                    char esc = s.charAt(i++);
                    if (esc != '"' && esc != '\\') return null;
                    b.append(esc);
                } else if (ch == '"') {
                    pos[0] = i;
                    return b.toString();
                } else if (ch < 0x20 || ch > 0x7e) {
                    return null;
                } else {
                    b.append(ch);
                }
            }
            return null;
        }
        if (c == '?') {
            if (i + 1 >= s.length()) return null;
            char b = s.charAt(i + 1);
            if (b != '0' && b != '1') return null;
            pos[0] = i + 2;
            return b == '1' ? Boolean.TRUE : Boolean.FALSE;
        }
        if (c == ':') {
            int end = s.indexOf(':', i + 1);
            if (end < 0) return null;
            pos[0] = end + 1;
            return s.substring(i + 1, end);
        }
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '*') {
            int start = i++;
            while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || ":/!#$%&'*+-.^_`|~".indexOf(s.charAt(i)) >= 0)) i++;
            pos[0] = i;
            return "token:" + s.substring(start, i);
        }
        return null;
    }

    private static boolean sfParams(String s, int[] pos) {
        while (pos[0] < s.length() && s.charAt(pos[0]) == ';') {
            pos[0]++;
            skipSp(s, pos);
            if (sfKey(s, pos) == null) return false;
            if (pos[0] < s.length() && s.charAt(pos[0]) == '=') {
                pos[0]++;
                if (sfBareItem(s, pos) == null) return false;
            }
        }
        return true;
    }
}
