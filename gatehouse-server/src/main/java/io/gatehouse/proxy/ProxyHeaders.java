package io.gatehouse.proxy;

import io.gatehouse.config.ProxyHeadersConfig;
import io.gatehouse.http.HttpExchange;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.AsciiString;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Proxy header semantics (RFC 9110 §7.6): hop-by-hop headers removed both ways, including those named in
 * {@code Connection}; {@code Via}; {@code X-Forwarded-For/-Proto/-Host} and optionally {@code Forwarded}, kept from
 * trusted proxies only; {@code X-Request-Id} propagated or generated; the verified client certificate in
 * {@code X-Client-Cert-Subject} and {@code X-Client-Cert-SAN} (never taken from the client).
 */
public final class ProxyHeaders {
    static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    static final AsciiString FORWARDED = AsciiString.cached("forwarded");
    static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    /** The verified client certificate (mTLS), set by the proxy only: a client's own copies are always removed. */
    public static final AsciiString X_CLIENT_CERT_SUBJECT = AsciiString.cached("x-client-cert-subject");
    public static final AsciiString X_CLIENT_CERT_SAN = AsciiString.cached("x-client-cert-san");
    static final AsciiString X_FORWARDED_CLIENT_CERT = AsciiString.cached("x-forwarded-client-cert");

    private final ProxyHeadersConfig config;
    private final io.gatehouse.http.Cidrs trusted;
    private final AsciiString via;

    public ProxyHeaders(ProxyHeadersConfig config) {
        this.config = config;
        this.trusted = new io.gatehouse.http.Cidrs(config.trustedProxies());
        this.via = new AsciiString("1.1 " + config.viaName());
    }

    /**
     * Rewrites the request headers in place for the upstream hop.
     *
     * @param upgrade keep {@code Upgrade} and send {@code Connection: upgrade} (WebSocket and other tunnels)
     */
    public void request(HttpExchange ex, HttpHeaders h, boolean upgrade) {
        request(ex, h, upgrade, scan(h));
    }

    /**
     * As {@link #request(HttpExchange, HttpHeaders, boolean)}, with {@code found} = {@link #scan}{@code (h)} of the
     * headers as they are now (the caller scanned them already).
     */
    public void request(HttpExchange ex, HttpHeaders h, boolean upgrade, int found) {
        String upgradeValue = upgrade && (found & UPGRADE_H) != 0 ? h.get(HttpHeaderNames.UPGRADE) : null;
        boolean trailers = (found & TE_H) != 0 && h.containsValue(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS, true);
        // Transfer-Encoding stays: the decoder accepts only "chunked", and it is framing, not only a hop-by-hop
        // header (a chunked body sent upstream without it would be read there as the next request)
        removeHopByHop(h, found);
        if ((found & PROXY_AUTHORIZATION_H) != 0) h.remove(HttpHeaderNames.PROXY_AUTHORIZATION);
        if (trailers) h.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        if ((found & COOKIE_CRUMBS_H) != 0) {
            // HTTP/2 clients may split Cookie into one field per pair (RFC 9113 §8.2.3); HTTP/1.1 allows only one
            h.set(HttpHeaderNames.COOKIE, String.join("; ", h.getAll(HttpHeaderNames.COOKIE)));
        }
        if (upgradeValue != null) {
            h.set(HttpHeaderNames.UPGRADE, upgradeValue);
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        }

        io.gatehouse.http.ConnectionInfo client = ex.connection();
        InetSocketAddress clientAddress = client.remoteAddress();
        InetAddress clientIp = clientAddress == null ? null : clientAddress.getAddress();
        AsciiString ip = client.remoteIp(); // formatted once per connection
        boolean fromTrusted = !trusted.isEmpty() && trusted.contains(clientIp);
        String scheme = client.scheme();

        if (config.xForwarded()) {
            if (fromTrusted && (found & X_FORWARDED_FOR_H) != 0) {
                String xff = h.get(X_FORWARDED_FOR);
                h.set(X_FORWARDED_FOR, xff == null || xff.isBlank() ? ip : xff + ", " + ip);
            } else {
                put(h, X_FORWARDED_FOR, ip, (found & X_FORWARDED_FOR_H) != 0);
            }
            if (!fromTrusted || (found & X_FORWARDED_PROTO_H) == 0) {
                put(h, X_FORWARDED_PROTO, schemeValue(scheme), (found & X_FORWARDED_PROTO_H) != 0);
            }
            if (!fromTrusted || (found & X_FORWARDED_HOST_H) == 0) {
                CharSequence host = first(h, HttpHeaderNames.HOST); // as decoded: an AsciiString is copied, not re-encoded
                if (host != null) put(h, X_FORWARDED_HOST, host, (found & X_FORWARDED_HOST_H) != 0);
                else if ((found & X_FORWARDED_HOST_H) != 0) h.remove(X_FORWARDED_HOST);
            }
        } else if (!fromTrusted) {
            // not adding our hop does not make a client's claims about itself true
            if ((found & X_FORWARDED_FOR_H) != 0) h.remove(X_FORWARDED_FOR);
            if ((found & X_FORWARDED_PROTO_H) != 0) h.remove(X_FORWARDED_PROTO);
            if ((found & X_FORWARDED_HOST_H) != 0) h.remove(X_FORWARDED_HOST);
        }
        if (config.forwarded()) {
            String host = h.get(HttpHeaderNames.HOST);
            String element = "for=" + forwardedNode(clientIp) + ";proto=" + scheme + (host != null ? ";host=\"" + host + "\"" : "");
            String prior = fromTrusted ? h.get(FORWARDED) : null;
            h.set(FORWARDED, prior == null ? element : prior + ", " + element);
        } else if (!fromTrusted && (found & FORWARDED_H) != 0) {
            h.remove(FORWARDED);
        }
        if ((found & CLIENT_CERT_H) != 0) {
            h.remove(X_CLIENT_CERT_SUBJECT);
            h.remove(X_CLIENT_CERT_SAN);
            h.remove(X_FORWARDED_CLIENT_CERT);
        }
        io.gatehouse.tls.ClientCertificate cert = client.clientCertificate();
        if (cert != null) {
            h.set(X_CLIENT_CERT_SUBJECT, cert.subject());
            if (!cert.sans().isEmpty()) h.set(X_CLIENT_CERT_SAN, String.join(", ", cert.sans()));
        }
        if (config.via()) appendVia(h, (found & VIA_H) != 0);
        // X-Request-Id was settled when the exchange started (Listener.dispatch): it is in h already
    }

    /** The first value of {@code name}; from the decoders' FlatHttpHeaders as stored, without making a String of it. */
    private static CharSequence first(HttpHeaders h, CharSequence name) {
        return h instanceof io.gatehouse.http.FlatHttpHeaders flat ? flat.first(name) : h.get(name);
    }

    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");

    private static CharSequence schemeValue(String scheme) {
        return "http".equals(scheme) ? HTTP : "https".equals(scheme) ? HTTPS : scheme;
    }

    /** Rewrites the response headers in place for the client hop. */
    public void response(HttpResponse response, CharSequence requestId, boolean upgrade) {
        response(response, requestId, upgrade, scan(response.headers()));
    }

    /** As {@link #response(HttpResponse, CharSequence, boolean)}, with {@code found} = {@link #scan} of its headers now. */
    public void response(HttpResponse response, CharSequence requestId, boolean upgrade, int found) {
        HttpHeaders h = response.headers();
        if (upgrade) {
            // a 101 keeps its Upgrade/Connection: they are the switch itself
            if (config.via()) appendVia(h, (found & VIA_H) != 0);
            return;
        }
        // Transfer-Encoding stays: the response decoder accepts only "chunked", and the encoder re-frames with it
        removeHopByHop(h, found);
        if (config.via()) appendVia(h, (found & VIA_H) != 0);
        if (requestId != null && (found & X_REQUEST_ID_H) == 0) h.add(X_REQUEST_ID, requestId);
    }

    private void appendVia(HttpHeaders h, boolean present) {
        String prior = present ? h.get(HttpHeaderNames.VIA) : null;
        if (prior == null) put(h, HttpHeaderNames.VIA, via, present); else h.set(HttpHeaderNames.VIA, prior + ", " + via);
    }

    /** Sets {@code name}; when the scan found none, appends without the search and removal a set does. */
    private static void put(HttpHeaders h, AsciiString name, CharSequence value, boolean present) {
        if (present) h.set(name, value); else h.add(name, value);
    }

    // The names the rewrite cares about, as bits. The header list is scanned once; the header map (a scan or a hash
    // per get, contains and remove, depending on its class) is touched only for the names found.
    public static final int CONNECTION_H = 1, KEEP_ALIVE_H = 1 << 1, PROXY_CONNECTION_H = 1 << 2, TE_H = 1 << 3,
            TRANSFER_ENCODING_H = 1 << 4, UPGRADE_H = 1 << 5, PROXY_AUTHENTICATE_H = 1 << 6,
            PROXY_AUTHORIZATION_H = 1 << 7, VIA_H = 1 << 8, X_REQUEST_ID_H = 1 << 9, FORWARDED_H = 1 << 10,
            X_FORWARDED_FOR_H = 1 << 11, X_FORWARDED_PROTO_H = 1 << 12, X_FORWARDED_HOST_H = 1 << 13,
            CLIENT_CERT_H = 1 << 14, COOKIE_H = 1 << 15, COOKIE_CRUMBS_H = 1 << 16, CONTENT_TYPE_H = 1 << 17,
            CONTENT_LENGTH_H = 1 << 18;

    /** The names of interest present in {@code h}, as the bits above (one pass over the fields). */
    public static int scan(HttpHeaders h) {
        int found = 0;
        if (h instanceof io.gatehouse.http.FlatHttpHeaders flat) { // what the decoders build: no iterator, no entries
            for (int i = 0, n = flat.size(); i < n; i++) found = with(found, flat.nameAt(i));
        } else {
            for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
                found = with(found, it.next().getKey());
            }
        }
        return found;
    }

    private static int with(int found, CharSequence name) {
        int b = bit(name);
        if ((found & b & COOKIE_H) != 0) found |= COOKIE_CRUMBS_H; // a second cookie field
        return found | b;
    }

    private static int bit(CharSequence n) {
        return switch (n.length()) {
            case 2 -> is(n, HttpHeaderNames.TE) ? TE_H : 0;
            case 3 -> is(n, HttpHeaderNames.VIA) ? VIA_H : 0;
            case 6 -> is(n, HttpHeaderNames.COOKIE) ? COOKIE_H : 0;
            case 7 -> is(n, HttpHeaderNames.UPGRADE) ? UPGRADE_H : 0;
            case 9 -> is(n, FORWARDED) ? FORWARDED_H : 0;
            case 10 -> is(n, HttpHeaderNames.CONNECTION) ? CONNECTION_H : is(n, KEEP_ALIVE) ? KEEP_ALIVE_H : 0;
            case 12 -> is(n, X_REQUEST_ID) ? X_REQUEST_ID_H : is(n, HttpHeaderNames.CONTENT_TYPE) ? CONTENT_TYPE_H : 0;
            case 14 -> is(n, HttpHeaderNames.CONTENT_LENGTH) ? CONTENT_LENGTH_H : 0;
            case 15 -> is(n, X_FORWARDED_FOR) ? X_FORWARDED_FOR_H : 0;
            case 16 -> is(n, PROXY_CONNECTION) ? PROXY_CONNECTION_H : is(n, X_FORWARDED_HOST) ? X_FORWARDED_HOST_H : 0;
            case 17 -> is(n, HttpHeaderNames.TRANSFER_ENCODING) ? TRANSFER_ENCODING_H
                    : is(n, X_FORWARDED_PROTO) ? X_FORWARDED_PROTO_H : is(n, X_CLIENT_CERT_SAN) ? CLIENT_CERT_H : 0;
            case 18 -> is(n, HttpHeaderNames.PROXY_AUTHENTICATE) ? PROXY_AUTHENTICATE_H : 0;
            case 19 -> is(n, HttpHeaderNames.PROXY_AUTHORIZATION) ? PROXY_AUTHORIZATION_H : 0;
            case 21 -> is(n, X_CLIENT_CERT_SUBJECT) ? CLIENT_CERT_H : 0;
            case 23 -> is(n, X_FORWARDED_CLIENT_CERT) ? CLIENT_CERT_H : 0;
            default -> 0;
        };
    }

    private static boolean is(CharSequence name, AsciiString known) {
        return name == known || AsciiString.contentEqualsIgnoreCase(name, known);
    }

    /**
     * Removes the hop-by-hop headers {@code found} by {@link #scan} and every header the Connection header names,
     * except the framing headers and Host: a client naming Content-Length there must not get its body forwarded
     * unframed (it would be read upstream as the next request).
     */
    static void removeHopByHop(HttpHeaders h, int found) {
        if ((found & CONNECTION_H) != 0) {
            // the names are collected before any removal, which would disturb the walk over Connection's values;
            // the usual values ("keep-alive", "close") name nothing to remove and allocate nothing
            List<String> named = null;
            for (Iterator<? extends CharSequence> it = h.valueCharSequenceIterator(HttpHeaderNames.CONNECTION); it.hasNext(); ) {
                CharSequence value = it.next();
                int n = value.length();
                for (int start = 0; start < n; ) {
                    int end = start;
                    while (end < n && value.charAt(end) != ',') end++;
                    int a = start, b = end;
                    while (a < b && value.charAt(a) <= ' ') a++;
                    while (b > a && value.charAt(b - 1) <= ' ') b--;
                    if (b > a && !isProtected(value, a, b)) {
                        if (named == null) named = new ArrayList<>(2);
                        named.add(value.subSequence(a, b).toString());
                    }
                    start = end + 1;
                }
            }
            if (named != null) {
                for (String name : named) h.remove(name);
            }
            h.remove(HttpHeaderNames.CONNECTION);
        }
        if ((found & KEEP_ALIVE_H) != 0) h.remove(KEEP_ALIVE);
        if ((found & PROXY_CONNECTION_H) != 0) h.remove(PROXY_CONNECTION);
        if ((found & TE_H) != 0) h.remove(HttpHeaderNames.TE);
        if ((found & UPGRADE_H) != 0) h.remove(HttpHeaderNames.UPGRADE);
        if ((found & PROXY_AUTHENTICATE_H) != 0) h.remove(HttpHeaderNames.PROXY_AUTHENTICATE);
    }

    /** Never removed because a Connection header names them: "close" and "keep-alive" are options, not headers. */
    private static final String[] PROTECTED = {"content-length", "transfer-encoding", "host", "close", "keep-alive"};

    /** Whether {@code value[from, to)} is one of {@link #PROTECTED}, ignoring ASCII case; copies nothing. */
    private static boolean isProtected(CharSequence value, int from, int to) {
        int len = to - from;
        for (String p : PROTECTED) {
            if (p.length() != len) continue;
            int i = 0;
            while (i < len) {
                char c = value.charAt(from + i);
                if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
                if (c != p.charAt(i)) break;
                i++;
            }
            if (i == len) return true;
        }
        return false;
    }

    private static String forwardedNode(InetAddress ip) {
        if (ip == null) return "unknown";
        String s = ip.getHostAddress();
        return s.indexOf(':') >= 0 ? "\"[" + s + "]\"" : s;
    }

    /** Accepts client-supplied ids of sane length and charset; anything else is replaced. */
    static boolean validRequestId(String id) {
        return io.gatehouse.http.RequestIds.valid(id);
    }

}
