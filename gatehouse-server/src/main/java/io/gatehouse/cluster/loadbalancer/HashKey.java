package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ClusterConfig.HashConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Iterator;

/**
 * The 64-bit request hash for ring_hash and maglev, from the source a {@link HashConfig} names: a header's value, a
 * cookie's value, the client IP or the path. {@link #NO_KEY} means the source was absent (the policies then pick at
 * random); a real key never hashes to it.
 *
 * <p>Hand-written on the hot path (one call per request): the hash is an xxHash64-style loop over the chars, four
 * per 64-bit lane, with a SplitMix64 finalizer, and the cookie is found by a small scanner over the header value
 * instead of Netty's {@code ServerCookieDecoder}, which builds a {@code Set<Cookie>} per request. An IPv4 client
 * costs no allocation at all.
 */
public final class HashKey {
    /** Returned when the request has no key. */
    public static final long NO_KEY = 0;

    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;

    private final String header;
    private final String cookie;
    private final boolean clientIp;

    public HashKey(HashConfig config) {
        this.header = config.header();
        this.cookie = config.cookie();
        this.clientIp = config.clientIp();
    }

    /**
     * @param path          the request path without its query
     * @param clientAddress the client's address (after trusted proxy headers, if the caller resolves them)
     * @return the key's hash, or {@link #NO_KEY} when the source is absent from this request
     */
    public long hash(HttpHeaders headers, String path, InetAddress clientAddress) {
        if (header != null) {
            String value = headers.get(header);
            return value == null ? NO_KEY : present(hash(value, 0, value.length()));
        }
        if (cookie != null) {
            Iterator<? extends CharSequence> it = headers.valueCharSequenceIterator(HttpHeaderNames.COOKIE);
            while (it.hasNext()) {
                CharSequence line = it.next();
                long range = cookieValue(line, cookie);
                if (range >= 0) return present(hash(line, (int) (range >>> 32), (int) range));
            }
            return NO_KEY;
        }
        if (clientIp) return clientAddress == null ? NO_KEY : present(hash(clientAddress));
        return path == null ? NO_KEY : present(hash(path, 0, path.length()));
    }

    private static long present(long h) {
        return h == NO_KEY ? 1 : h;
    }

    static long hash(InetAddress address) {
        // Inet4Address.hashCode() is the address itself; getAddress() would clone a byte[]
        if (address instanceof Inet4Address) return Endpoint.mix64((address.hashCode() & 0xFFFFFFFFL) * P1 + 4);
        byte[] bytes = address.getAddress();
        long h = P3 + bytes.length;
        for (int i = 0; i + 8 <= bytes.length; i += 8) {
            long lane = 0;
            for (int b = 0; b < 8; b++) lane |= (bytes[i + b] & 0xFFL) << (8 * b);
            h = round(h, lane);
        }
        return Endpoint.mix64(h);
    }

    /** xxHash64-style hash of chars {@code [from, to)} of {@code s}. */
    static long hash(CharSequence s, int from, int to) {
        long h = P3 + (to - from);
        int i = from;
        for (; i + 4 <= to; i += 4) {
            long lane = s.charAt(i) | (long) s.charAt(i + 1) << 16 | (long) s.charAt(i + 2) << 32 | (long) s.charAt(i + 3) << 48;
            h = round(h, lane);
        }
        long tail = 0;
        for (int shift = 0; i < to; i++, shift += 16) tail |= (long) s.charAt(i) << shift;
        return Endpoint.mix64(round(h, tail));
    }

    private static long round(long h, long lane) {
        long k = Long.rotateLeft(lane * P2, 31) * P1;
        return Long.rotateLeft(h ^ k, 27) * P1 + P2;
    }

    /**
     * Finds cookie {@code name} in one {@code Cookie} header value ({@code a=1; b="2"}), RFC 6265 syntax, quotes
     * stripped.
     *
     * @return {@code start << 32 | end} of the value, or -1 when absent
     */
    static long cookieValue(CharSequence line, String name) {
        int len = line.length();
        int i = 0;
        while (i < len) {
            while (i < len && (line.charAt(i) == ' ' || line.charAt(i) == '\t' || line.charAt(i) == ';')) i++;
            int nameStart = i;
            while (i < len && line.charAt(i) != '=' && line.charAt(i) != ';') i++;
            int nameEnd = i;
            while (nameEnd > nameStart && line.charAt(nameEnd - 1) == ' ') nameEnd--;
            if (i >= len || line.charAt(i) == ';') continue; // a pair without '=': skip
            int valueStart = ++i;
            while (i < len && line.charAt(i) != ';') i++;
            int valueEnd = i;
            while (valueStart < valueEnd && line.charAt(valueStart) == ' ') valueStart++;
            while (valueEnd > valueStart && line.charAt(valueEnd - 1) == ' ') valueEnd--;
            if (valueEnd - valueStart >= 2 && line.charAt(valueStart) == '"' && line.charAt(valueEnd - 1) == '"') {
                valueStart++;
                valueEnd--;
            }
            if (regionEquals(line, nameStart, nameEnd, name)) return (long) valueStart << 32 | valueEnd;
        }
        return -1;
    }

    /** The value of cookie {@code name} in the request, or null. */
    static String cookieValue(HttpHeaders headers, String name) {
        Iterator<? extends CharSequence> it = headers.valueCharSequenceIterator(HttpHeaderNames.COOKIE);
        while (it.hasNext()) {
            CharSequence line = it.next();
            long range = cookieValue(line, name);
            if (range >= 0) return line.subSequence((int) (range >>> 32), (int) range).toString();
        }
        return null;
    }

    private static boolean regionEquals(CharSequence line, int start, int end, String name) {
        if (end - start != name.length()) return false;
        for (int i = 0; i < name.length(); i++) if (line.charAt(start + i) != name.charAt(i)) return false;
        return true;
    }
}
