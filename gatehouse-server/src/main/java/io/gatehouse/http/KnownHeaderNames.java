package io.gatehouse.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;

/**
 * Interned lower-case names of the request headers browsers and proxies actually send, and of the response headers
 * origin servers send, so decoding them allocates nothing and the decoders can recognise framing headers by identity.
 */
final class KnownHeaderNames {
    private static final AsciiString[][] BY_LENGTH;

    static {
        AsciiString[] names = {
            HttpHeaderNames.HOST, HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.TRANSFER_ENCODING,
            HttpHeaderNames.CONNECTION, HttpHeaderNames.UPGRADE, HttpHeaderNames.USER_AGENT, HttpHeaderNames.ACCEPT,
            HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderNames.ACCEPT_LANGUAGE, HttpHeaderNames.ACCEPT_CHARSET,
            HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.CONTENT_ENCODING, HttpHeaderNames.COOKIE,
            HttpHeaderNames.REFERER, HttpHeaderNames.ORIGIN, HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.PRAGMA,
            HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.IF_MODIFIED_SINCE,
            HttpHeaderNames.IF_NONE_MATCH, HttpHeaderNames.IF_MATCH, HttpHeaderNames.RANGE, HttpHeaderNames.TE,
            HttpHeaderNames.EXPECT, HttpHeaderNames.KEEP_ALIVE, AsciiString.cached("x-forwarded-for"),
            AsciiString.cached("x-forwarded-proto"), AsciiString.cached("x-forwarded-host"), HttpHeaderNames.X_REQUESTED_WITH,
            HttpHeaderNames.UPGRADE_INSECURE_REQUESTS, HttpHeaderNames.SEC_WEBSOCKET_KEY,
            HttpHeaderNames.SEC_WEBSOCKET_VERSION, HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS,
            HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, HttpHeaderNames.VIA, HttpHeaderNames.DATE,
            AsciiString.cached("forwarded"), AsciiString.cached("x-request-id"), AsciiString.cached("x-real-ip"),
            AsciiString.cached("dnt"), AsciiString.cached("priority"), AsciiString.cached("traceparent"),
            AsciiString.cached("sec-fetch-site"), AsciiString.cached("sec-fetch-mode"),
            AsciiString.cached("sec-fetch-dest"), AsciiString.cached("sec-fetch-user"),
            AsciiString.cached("sec-ch-ua"), AsciiString.cached("sec-ch-ua-mobile"),
            AsciiString.cached("sec-ch-ua-platform"), AsciiString.cached("http2-settings"),
            // response headers
            HttpHeaderNames.SERVER, HttpHeaderNames.LAST_MODIFIED, HttpHeaderNames.ETAG, HttpHeaderNames.ACCEPT_RANGES,
            HttpHeaderNames.EXPIRES, HttpHeaderNames.VARY, HttpHeaderNames.SET_COOKIE, HttpHeaderNames.LOCATION,
            HttpHeaderNames.AGE, HttpHeaderNames.CONTENT_RANGE, HttpHeaderNames.CONTENT_LANGUAGE,
            HttpHeaderNames.CONTENT_DISPOSITION, HttpHeaderNames.CONTENT_SECURITY_POLICY,
            HttpHeaderNames.WWW_AUTHENTICATE, HttpHeaderNames.RETRY_AFTER, HttpHeaderNames.ALT_SVC,
            AsciiString.cached("strict-transport-security"), HttpHeaderNames.X_FRAME_OPTIONS,
            AsciiString.cached("x-content-type-options"), HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN,
            HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS,
            HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS,
            HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, HttpHeaderNames.TRAILER, HttpHeaderNames.PROXY_AUTHENTICATE,
            AsciiString.cached("x-powered-by"), AsciiString.cached("x-cache"), AsciiString.cached("referrer-policy"),
            AsciiString.cached("server-timing"), AsciiString.cached("x-xss-protection"),
        };
        int max = 0;
        for (AsciiString n : names) {
            max = Math.max(max, n.length());
        }
        AsciiString[][] table = new AsciiString[max + 1][];
        for (AsciiString n : names) {
            AsciiString[] old = table[n.length()];
            AsciiString[] grown = old == null ? new AsciiString[1] : java.util.Arrays.copyOf(old, old.length + 1);
            grown[grown.length - 1] = n;
            table[n.length()] = grown;
        }
        BY_LENGTH = table;
    }

    private KnownHeaderNames() {
    }

    /** The interned name equal (ignoring ASCII case) to {@code b[start, start+len)}, or {@code null}. */
    static AsciiString find(byte[] b, int start, int len) {
        if (len >= BY_LENGTH.length) {
            return null;
        }
        AsciiString[] candidates = BY_LENGTH[len];
        if (candidates == null) {
            return null;
        }
        for (AsciiString candidate : candidates) {
            if (equalsLowerCase(candidate, b, start, len)) {
                return candidate;
            }
        }
        return null;
    }

    private static boolean equalsLowerCase(AsciiString lower, byte[] b, int start, int len) {
        byte[] a = lower.array();
        int offset = lower.arrayOffset();
        // names of one length mostly differ in their last byte: compare it first (len >= 1 here)
        int last = b[start + len - 1];
        if (last >= 'A' && last <= 'Z') {
            last += 'a' - 'A';
        }
        if (last != a[offset + len - 1]) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            int c = b[start + i];
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != a[offset + i]) {
                return false;
            }
        }
        return true;
    }
}
