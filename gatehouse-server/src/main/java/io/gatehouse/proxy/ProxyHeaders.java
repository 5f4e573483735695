package io.gatehouse.proxy;

import io.gatehouse.config.ProxyHeadersConfig;
import io.gatehouse.http.Downstream;
import io.gatehouse.http.HttpExchange;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.AsciiString;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Proxy header semantics (RFC 9110 §7.6): hop-by-hop headers removed both ways, including those named in
 * {@code Connection}; {@code Via}; {@code X-Forwarded-For/-Proto/-Host} and optionally {@code Forwarded}, kept from
 * trusted proxies only; {@code X-Request-Id} propagated or generated.
 */
public final class ProxyHeaders {
    static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    static final AsciiString FORWARDED = AsciiString.cached("forwarded");
    static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");

    private final ProxyHeadersConfig config;
    private final TrustedProxies trusted;
    private final AsciiString via;

    public ProxyHeaders(ProxyHeadersConfig config) {
        this.config = config;
        this.trusted = new TrustedProxies(config.trustedProxies());
        this.via = new AsciiString("1.1 " + config.viaName());
    }

    /**
     * Rewrites the request headers in place for the upstream hop.
     *
     * @param upgrade keep {@code Upgrade} and send {@code Connection: upgrade} (WebSocket and other tunnels)
     */
    public void request(HttpExchange ex, HttpHeaders h, boolean upgrade) {
        String upgradeValue = upgrade ? h.get(HttpHeaderNames.UPGRADE) : null;
        boolean trailers = h.containsValue(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS, true);
        // the decoder accepts no other Transfer-Encoding; it is framing, not only a hop-by-hop header: a chunked body
        // sent upstream without it would be read there as the next request (smuggling)
        boolean chunked = h.contains(HttpHeaderNames.TRANSFER_ENCODING);
        removeHopByHop(h);
        h.remove(HttpHeaderNames.PROXY_AUTHORIZATION);
        if (chunked) h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        if (trailers) h.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        if (upgradeValue != null) {
            h.set(HttpHeaderNames.UPGRADE, upgradeValue);
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        }

        Downstream client = ex.downstream();
        InetSocketAddress clientAddress = client.remoteAddress();
        InetAddress clientIp = clientAddress == null ? null : clientAddress.getAddress();
        AsciiString ip = client.remoteIp(); // formatted once per connection
        boolean fromTrusted = !trusted.isEmpty() && trusted.trusts(clientIp);
        String scheme = client.scheme();

        if (fromTrusted) {
            String xff = h.get(X_FORWARDED_FOR);
            h.set(X_FORWARDED_FOR, xff == null || xff.isBlank() ? ip : xff + ", " + ip);
        } else {
            h.set(X_FORWARDED_FOR, ip);
        }
        if (!fromTrusted || !h.contains(X_FORWARDED_PROTO)) h.set(X_FORWARDED_PROTO, schemeValue(scheme));
        if (!fromTrusted || !h.contains(X_FORWARDED_HOST)) {
            CharSequence host = h.get(HttpHeaderNames.HOST);
            if (host != null) h.set(X_FORWARDED_HOST, host); else h.remove(X_FORWARDED_HOST);
        }
        if (config.forwarded()) {
            String host = h.get(HttpHeaderNames.HOST);
            String element = "for=" + forwardedNode(clientIp) + ";proto=" + scheme + (host != null ? ";host=\"" + host + "\"" : "");
            String prior = fromTrusted ? h.get(FORWARDED) : null;
            h.set(FORWARDED, prior == null ? element : prior + ", " + element);
        } else if (!fromTrusted) {
            h.remove(FORWARDED);
        }
        if (config.via()) appendVia(h);
        if (config.requestId()) {
            String id = h.get(X_REQUEST_ID);
            if (!validRequestId(id)) {
                AsciiString generated = newRequestId();
                h.set(X_REQUEST_ID, generated);
                id = generated.toString();
            }
            ex.requestId(id);
        }
    }

    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");

    private static CharSequence schemeValue(String scheme) {
        return "http".equals(scheme) ? HTTP : "https".equals(scheme) ? HTTPS : scheme;
    }

    /** Rewrites the response headers in place for the client hop. */
    public void response(HttpResponse response, String requestId, boolean upgrade) {
        HttpHeaders h = response.headers();
        if (upgrade) {
            // a 101 keeps its Upgrade/Connection: they are the switch itself
            if (config.via()) appendVia(h);
            return;
        }
        boolean chunked = h.containsValue(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED, true);
        removeHopByHop(h);
        if (chunked) h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED); // framing, re-applied by the encoder
        if (config.via()) appendVia(h);
        if (requestId != null && !h.contains(X_REQUEST_ID)) h.set(X_REQUEST_ID, requestId);
    }

    private void appendVia(HttpHeaders h) {
        String prior = h.get(HttpHeaderNames.VIA);
        if (prior == null) h.set(HttpHeaderNames.VIA, via); else h.set(HttpHeaderNames.VIA, prior + ", " + via);
    }

    /** Removes the fixed hop-by-hop headers and every header the Connection header names. */
    static void removeHopByHop(HttpHeaders h) {
        List<String> connection = h.contains(HttpHeaderNames.CONNECTION) ? h.getAll(HttpHeaderNames.CONNECTION) : List.of();
        for (String value : connection) {
            int start = 0;
            while (start < value.length()) {
                int comma = value.indexOf(',', start);
                int end = comma < 0 ? value.length() : comma;
                String name = value.substring(start, end).trim();
                if (!name.isEmpty()) h.remove(name);
                start = end + 1;
            }
        }
        h.remove(HttpHeaderNames.CONNECTION);
        h.remove(KEEP_ALIVE);
        h.remove(PROXY_CONNECTION);
        h.remove(HttpHeaderNames.TE);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        h.remove(HttpHeaderNames.UPGRADE);
        h.remove(HttpHeaderNames.PROXY_AUTHENTICATE);
    }

    private static String forwardedNode(InetAddress ip) {
        if (ip == null) return "unknown";
        String s = ip.getHostAddress();
        return s.indexOf(':') >= 0 ? "\"[" + s + "]\"" : s;
    }

    /** Accepts client-supplied ids of sane length and charset; anything else is replaced. */
    static boolean validRequestId(String id) {
        if (id == null || id.isEmpty() || id.length() > 128) return false;
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < 0x21 || c > 0x7e) return false;
        }
        return true;
    }

    /** 128 random bits as 32 hex characters, as ASCII bytes (no UUID formatting, no char[] → String copy). */
    static AsciiString newRequestId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long a = r.nextLong(), b = r.nextLong();
        byte[] out = new byte[32];
        for (int i = 0; i < 16; i++) {
            out[i] = HEX[(int) (a >>> (60 - 4 * i)) & 0xF];
            out[16 + i] = HEX[(int) (b >>> (60 - 4 * i)) & 0xF];
        }
        return new AsciiString(out, false);
    }

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
}
