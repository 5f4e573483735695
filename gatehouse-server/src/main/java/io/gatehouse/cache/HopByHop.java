package io.gatehouse.cache;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

import java.util.Locale;
import java.util.Set;

/** Fields a cache never stores (RFC 9111 §3.1) and those a 304 never updates (§3.2). */
final class HopByHop {
    private static final Set<String> HOP = Set.of("connection", "proxy-connection", "keep-alive", "te", "transfer-encoding",
            "upgrade", "trailer", "proxy-authenticate", "proxy-authentication-info", "proxy-authorization");

    private HopByHop() {}

    /** Whether {@code name} (lower case) is hop-by-hop, proxy-specific, or listed in {@code Connection}. */
    static boolean isHopByHop(String name, HttpHeaders headers) {
        if (HOP.contains(name)) return true;
        for (String line : headers.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : line.split(",")) if (token.strip().equalsIgnoreCase(name)) return true;
        }
        return false;
    }

    /** Not updated from a 304: the above, Content-Length, and what a cache's own processing depends on. */
    static boolean excludedFromUpdate(String name, HttpHeaders notModified) {
        return isHopByHop(name, notModified) || name.equals("content-length") || name.equals("content-encoding")
                || name.equals("content-range");
    }

    /** A copy of {@code headers} fit for storing: no hop-by-hop fields, none of {@code strip} (private="…"). */
    static HttpHeaders storable(HttpHeaders headers, java.util.List<String> strip) {
        HttpHeaders out = new DefaultHttpHeaders();
        for (var e : headers) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (isHopByHop(name, headers) || strip.contains(name)) continue;
            out.add(name, e.getValue());
        }
        return out;
    }
}
