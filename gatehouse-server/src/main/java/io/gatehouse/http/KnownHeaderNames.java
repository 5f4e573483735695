package io.gatehouse.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;

/**
 * Interned lower-case names of the request headers browsers and proxies actually send, and of the response headers
 * origin servers send, so decoding them allocates nothing and the decoders can recognise framing headers by identity.
 */
final class KnownHeaderNames {
    private static final int SLOT_BITS = 9;
    private static final int SLOTS = 1 << SLOT_BITS; // about 6 slots per name: a miss (an unknown name) ends fast
    private static final AsciiString[] TABLE;

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
        AsciiString[] table = new AsciiString[SLOTS];
        for (AsciiString n : names) {
            for (int k = 0; k < n.length(); k++) {
                char c = n.charAt(k);
                if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')) {
                    throw new AssertionError("the lookup compares bytes OR 0x20: lower-case letters, digits and '-' only: " + n);
                }
            }
            int i = slot(n.length(), n.byteAt(0), n.byteAt(n.length() - 1));
            while (table[i] != null) {
                if (table[i].contentEquals(n)) throw new AssertionError("listed twice: " + n);
                i = (i + 1) & (SLOTS - 1);
            }
            table[i] = n;
        }
        TABLE = table;
    }

    private KnownHeaderNames() {
    }

    /**
     * The interned name equal (ignoring ASCII case) to {@code b[start, start+len)}, or {@code null}. The bytes must
     * be a token (RFC 9110 tchar only, as the decoders check before they ask) of at least one byte: for those,
     * {@code c | 0x20} equals a lower-case letter, digit or '-' exactly when {@code c} is that character in either
     * case, so one OR per byte replaces a case test.
     */
    static AsciiString find(byte[] b, int start, int len) {
        int i = slot(len, b[start] | 0x20, b[start + len - 1] | 0x20);
        for (;;) {
            AsciiString candidate = TABLE[i];
            if (candidate == null) {
                return null;
            }
            if (candidate.length() == len && equalsLowerCase(candidate, b, start, len)) {
                return candidate;
            }
            i = (i + 1) & (SLOTS - 1);
        }
    }

    /** Open addressing on length, first and last byte: names mostly differ in one of those (about one probe). */
    private static int slot(int len, int first, int last) {
        return ((first * 31 + last) * 31 + len) * 0x9E3779B9 >>> (32 - SLOT_BITS);
    }

    private static boolean equalsLowerCase(AsciiString lower, byte[] b, int start, int len) {
        byte[] a = lower.array();
        int offset = lower.arrayOffset();
        for (int i = 0; i < len; i++) {
            if ((b[start + i] | 0x20) != a[offset + i]) {
                return false;
            }
        }
        return true;
    }
}
