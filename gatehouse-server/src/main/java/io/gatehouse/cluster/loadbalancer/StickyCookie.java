package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ClusterConfig.StickyCookieConfig;
import io.netty.handler.codec.http.HttpHeaders;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Sticky sessions by cookie: the first response carries {@code Set-Cookie: NAME=<token>}, and later requests
 * bearing that cookie go to the same endpoint while it is available (otherwise the policy picks and the cookie is
 * reset).
 *
 * <p>The token is 16 hex digits of a keyed hash of the endpoint's {@link Endpoint#id()}: opaque (it does not reveal
 * the address), stable across restarts and across Gatehouse instances that share the key, and checked in O(n)
 * without a lookup table that would need rebuilding. With the default key (derived from the cookie name) tokens are
 * stable but guessable; pass a secret to make them unforgeable in practice.
 */
public final class StickyCookie {
    private final String name;
    private final long maxAgeSeconds;   // -1: session cookie
    private final long k0;
    private final long k1;

    public StickyCookie(StickyCookieConfig config) {
        this(config, HashKey.hash(config.name(), 0, config.name().length()));
    }

    /** @param secret a key shared by every Gatehouse instance serving this cluster */
    public StickyCookie(StickyCookieConfig config, long secret) {
        this.name = config.name();
        this.maxAgeSeconds = config.ttl() == null ? -1 : Math.max(0, config.ttl().toSeconds());
        this.k0 = Endpoint.mix64(secret ^ 0x243F6A8885A308D3L);
        this.k1 = Endpoint.mix64(secret ^ 0x13198A2E03707344L);
    }

    public String name() { return name; }

    /** The cookie value naming {@code endpoint}. */
    public String valueFor(Endpoint endpoint) {
        long token = token(endpoint);
        byte[] hex = new byte[16];
        for (int i = 15; i >= 0; i--, token >>>= 4) hex[i] = (byte) "0123456789abcdef".charAt((int) (token & 0xF));
        return new String(hex, StandardCharsets.US_ASCII);
    }

    /** The endpoint {@code cookieValue} names if it is among {@code available}, else null (also for a bad value). */
    public Endpoint find(List<Endpoint> available, String cookieValue) {
        if (cookieValue == null || cookieValue.length() != 16) return null;
        long token = 0;
        for (int i = 0; i < 16; i++) {
            int d = Character.digit(cookieValue.charAt(i), 16);
            if (d < 0) return null;
            token = token << 4 | d;
        }
        for (int i = 0, n = available.size(); i < n; i++) {
            Endpoint e = available.get(i);
            if (token(e) == token) return e;
        }
        return null;
    }

    /** The endpoint the request's cookie names if it is among {@code available}, else null. */
    public Endpoint find(List<Endpoint> available, HttpHeaders requestHeaders) {
        String value = HashKey.cookieValue(requestHeaders, name);
        return value == null ? null : find(available, value);
    }

    /** The {@code Set-Cookie} header value that pins the client to {@code endpoint}. */
    public String setCookie(Endpoint endpoint) {
        StringBuilder sb = new StringBuilder(name.length() + 48)
                .append(name).append('=').append(valueFor(endpoint)).append("; Path=/; HttpOnly");
        if (maxAgeSeconds >= 0) sb.append("; Max-Age=").append(maxAgeSeconds);
        return sb.toString();
    }

    private long token(Endpoint endpoint) {
        return Endpoint.mix64(Endpoint.mix64(endpoint.id() ^ k0) + k1);
    }
}
