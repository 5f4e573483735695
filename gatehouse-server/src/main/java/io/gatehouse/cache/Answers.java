package io.gatehouse.cache;

import io.gatehouse.http.ByteRanges;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Responses made from a stored one (RFC 9110): the whole of it, a 304 when the client's own {@code If-None-Match}
 * (weak comparison) or {@code If-Modified-Since} matches, a 206 for a {@code Range} of a stored 200 (one range, or
 * several as {@code multipart/byteranges}; {@code If-Range} compared strongly), and 416 when no range is satisfiable.
 * The body is the stored array, wrapped (not copied).
 */
final class Answers {
    /** More ranges than this in one request are answered with the whole response (RFC 9110 §14.2 allows ignoring). */
    /** Fields a 304 carries from the stored response (RFC 9110 §15.4.5). */
    private static final List<String> NOT_MODIFIED_FIELDS = List.of("cache-control", "content-location", "date", "etag",
            "expires", "vary");

    private Answers() {}

    static FullHttpResponse from(CachedResponse r, boolean head, String inm, String ims, String range, String ifRange) {
        boolean success = r.status() >= 200 && r.status() < 300;
        if (success && inm != null) {
            if (noneMatchFails(inm, r.etag())) return notModified(r);
        } else if (success && ims != null && r.lastModified() != null) {
            Long since = HttpDates.parse(ims), modified = HttpDates.parse(r.lastModified());
            if (since != null && modified != null && modified <= since) return notModified(r);
        }
        if (!head && r.status() == 200 && range != null && ifRangeHolds(ifRange, r)) {
            FullHttpResponse ranged = ranged(r, range);
            if (ranged != null) return ranged;
        }
        return whole(r, head);
    }

    static FullHttpResponse whole(CachedResponse r, boolean head) {
        HttpHeaders h = r.headers().copy();   // flat: two array copies, with room for the fields a hit adds
        h.set(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
        ByteBuf body = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(r.body());
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(r.status()), body, h,
                new DefaultHttpHeaders());
    }

    private static FullHttpResponse notModified(CachedResponse r) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (String name : NOT_MODIFIED_FIELDS) for (String v : r.headers().getAll(name)) h.add(name, v);
        // without an ETag, Last-Modified is what lets the client's cache update (RFC 9110 §15.4.5)
        if (r.etag() == null && r.lastModified() != null) h.set(HttpHeaderNames.LAST_MODIFIED, r.lastModified());
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED, Unpooled.EMPTY_BUFFER, h,
                new DefaultHttpHeaders());
    }

    /** If-None-Match evaluates to false (the answer is 304) when any listed tag matches weakly, or it is {@code *}. */
    static boolean noneMatchFails(String ifNoneMatch, String etag) {
        if (ifNoneMatch.strip().equals("*")) return true;
        if (etag == null) return false;
        String mine = opaque(etag);
        for (String t : Directives.splitList(ifNoneMatch)) if (opaque(t).equals(mine)) return true;
        return false;
    }

    private static String opaque(String tag) {
        String t = tag.strip();
        return t.startsWith("W/") ? t.substring(2) : t;
    }

    /** If-Range (RFC 9110 §13.1.5): absent, or a strong match of the ETag, or exactly the Last-Modified of a strong date. */
    static boolean ifRangeHolds(String ifRange, CachedResponse r) {
        if (ifRange == null) return true;
        String v = ifRange.strip();
        if (v.startsWith("\"") || v.startsWith("W/")) {
            return r.etag() != null && !v.startsWith("W/") && !r.etag().strip().startsWith("W/") && v.equals(r.etag().strip());
        }
        Long at = HttpDates.parse(v), modified = HttpDates.parse(r.lastModified());
        // a Last-Modified is strong only when at least a second older than the response's Date (RFC 9110 §8.8.2.2)
        return at != null && modified != null && at.equals(modified) && r.dateMillis - modified >= 1000;
    }

    /** 206 or 416 for a valid bytes range set; null to answer with the whole (not bytes, unparsable, too many). */
    static FullHttpResponse ranged(CachedResponse r, String range) {
        long length = r.body().length;
        List<long[]> ranges = ByteRanges.parse(range, length);
        if (ranges == null) return null;
        HttpHeaders h = new DefaultHttpHeaders().add(r.headers());
        if (ranges.isEmpty()) {
            HttpHeaders e = new DefaultHttpHeaders();
            e.set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + length);
            e.set(HttpHeaderNames.CONTENT_LENGTH, 0);
            for (String name : List.of("date", "etag", "last-modified", "cache-control")) {
                for (String val : r.headers().getAll(name)) e.add(name, val);
            }
            return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                    Unpooled.EMPTY_BUFFER, e, new DefaultHttpHeaders());
        }
        ByteBuf body;
        if (ranges.size() == 1) {
            long[] one = ranges.get(0);
            body = Unpooled.wrappedBuffer(r.body(), (int) one[0], (int) (one[1] - one[0] + 1));
            h.set(HttpHeaderNames.CONTENT_RANGE, "bytes " + one[0] + "-" + one[1] + "/" + length);
        } else {
            String boundary = "gatehouse-" + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong());
            String type = r.headers().get(HttpHeaderNames.CONTENT_TYPE);
            var parts = Unpooled.compositeBuffer(ranges.size() * 2 + 1);
            for (long[] one : ranges) {
                String partHead = "\r\n--" + boundary + "\r\n" + (type == null ? "" : "Content-Type: " + type + "\r\n")
                        + "Content-Range: bytes " + one[0] + "-" + one[1] + "/" + length + "\r\n\r\n";
                parts.addComponent(true, Unpooled.wrappedBuffer(partHead.getBytes(StandardCharsets.ISO_8859_1)));
                parts.addComponent(true, Unpooled.wrappedBuffer(r.body(), (int) one[0], (int) (one[1] - one[0] + 1)));
            }
            parts.addComponent(true, Unpooled.wrappedBuffer(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1)));
            body = parts;
            h.set(HttpHeaderNames.CONTENT_TYPE, "multipart/byteranges; boundary=" + boundary);
        }
        h.set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.PARTIAL_CONTENT, body, h, new DefaultHttpHeaders());
    }
}
