package io.gatehouse.cache;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

import java.util.List;
import java.util.Set;

/**
 * A stored response: status, header fields (hop-by-hop ones removed), the whole body, and the times RFC 9111's age
 * calculation needs ({@code request_time}, {@code response_time}, wall milliseconds). Immutable, except for a soft
 * purge, which marks it for validation: a 304 makes a new one ({@link #updatedBy}).
 *
 * <p>Memory: the body array, the header fields (about 2 × the bytes of their names and values, as Java strings, in
 * flat arrays), and about {@value #OVERHEAD} bytes of objects; {@link #weight()} counts all three, and the memory
 * tier is bounded by it.
 */
public final class CachedResponse {
    /**
     * Bytes of the objects of one entry besides its body and header strings: this object, the header map and its
     * entries, the Caffeine node, the key and the URL index (100,000 entries of 1 KiB with six fields measured 2,269
     * bytes of heap each; with this value the weigher counts 2,263).
     */
    public static final int OVERHEAD = 650;

    private final int status;
    private final HttpHeaders headers;
    private final byte[] body;
    private final long requestTime;
    private final long responseTime;
    private final String url;              // scheme://host/path?query: what unsafe methods and purges name
    private final List<String> vary;       // the Vary field names (lower case) this response was selected on
    private final String varyValues;       // the request's values of those fields, normalised
    private final Set<String> tags;        // Surrogate-Key / Cache-Tag
    private volatile boolean invalidated;  // a soft purge: stale from now on, validated before reuse

    // derived once from the headers and the route's policy
    final Directives directives;
    final boolean targeted;                // the directives came from a targeted field (RFC 9213)
    final long dateMillis;
    final long ageValue;                   // seconds
    final long lifetimeMillis;             // freshness lifetime
    final String etag;
    final String lastModified;
    private final int weight;

    public CachedResponse(int status, HttpHeaders headers, byte[] body, long requestTime, long responseTime, String url,
                          List<String> vary, String varyValues, Set<String> tags, CachePolicy policy) {
        this.status = status;
        // flat arrays: smaller than a hashed header map, and each hit copies them with two array copies
        this.headers = new io.gatehouse.http.FlatHttpHeaders(headers.size()).add(headers);
        this.body = body;
        this.requestTime = requestTime;
        this.responseTime = responseTime;
        this.url = url;
        this.vary = List.copyOf(vary);
        this.varyValues = varyValues;
        this.tags = Set.copyOf(tags);
        Directives t = CacheStrategy.targetedDirectives(headers, policy);
        this.targeted = t != null;
        // ignoring the origin means its directives too: only the operator's TTL decides
        this.directives = !policy.respectOrigin() ? Directives.NONE
                : t != null ? t : Directives.parse(headers.getAll(HttpHeaderNames.CACHE_CONTROL));
        Long date = HttpDates.parse(headers.get(HttpHeaderNames.DATE));
        this.dateMillis = date == null ? responseTime : date;
        this.ageValue = CacheStrategy.ageValue(headers);
        this.lifetimeMillis = CacheStrategy.lifetimeMillis(status, headers, directives, targeted, dateMillis, policy);
        this.etag = headers.get(HttpHeaderNames.ETAG);
        this.lastModified = headers.get(HttpHeaderNames.LAST_MODIFIED);
        long w = OVERHEAD + body.length;
        for (var e : headers) w += 2L * (e.getKey().length() + e.getValue().length()) + 32;
        this.weight = (int) Math.min(Integer.MAX_VALUE, w);
    }

    public int status() { return status; }
    /** The stored fields; callers copy before changing. */
    public HttpHeaders headers() { return headers; }
    public byte[] body() { return body; }
    public long requestTime() { return requestTime; }
    public long responseTime() { return responseTime; }
    public String url() { return url; }
    public List<String> vary() { return vary; }
    public String varyValues() { return varyValues; }
    public Set<String> tags() { return tags; }
    public Directives directives() { return directives; }
    public String etag() { return etag; }
    public String lastModified() { return lastModified; }
    /** Bytes this entry holds in memory (see the class comment). */
    public int weight() { return weight; }
    public long lifetimeMillis() { return lifetimeMillis; }

    public boolean invalidated() { return invalidated; }
    /** Soft purge: stale from now on; served again only after a successful validation. */
    public void invalidate() { invalidated = true; }

    /**
     * The stored response updated by a 304 (RFC 9111 §3.2, §4.3.4): its fields replace the stored ones, except the
     * hop-by-hop fields, {@code Content-Length}, and the proxy-specific ones; times are those of the validation.
     */
    public CachedResponse updatedBy(HttpHeaders notModified, long requestTime, long responseTime, CachePolicy policy) {
        HttpHeaders merged = new DefaultHttpHeaders().add(headers);
        merged.remove(HttpHeaderNames.AGE);   // the old Age belongs to the old response time; the 304's own Age stands
        java.util.Set<String> done = new java.util.HashSet<>();
        for (var e : notModified) {
            String name = e.getKey().toLowerCase(java.util.Locale.ROOT);
            if (HopByHop.excludedFromUpdate(name, notModified)) continue;
            if (done.add(name)) merged.remove(name);
            merged.add(name, e.getValue());
        }
        return new CachedResponse(status, merged, body, requestTime, responseTime, url, vary, varyValues, tags, policy);
    }
}
