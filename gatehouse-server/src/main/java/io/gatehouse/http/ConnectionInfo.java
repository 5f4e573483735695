package io.gatehouse.http;

import io.gatehouse.tls.ClientCertificate;
import io.netty.util.AsciiString;

import java.net.InetSocketAddress;

/**
 * What is known of a client connection once it is set up (after the TLS handshake), immutable and shared by every
 * exchange on it (each HTTP/2 stream too). Filters read it; none derives it again.
 *
 * @param remoteAddress     the peer's address (the client, or a proxy in front of it), or null if unknown
 * @param remoteIp          the peer's IP as text, formatted once (for X-Forwarded-For and logs)
 * @param secure            TLS terminated here
 * @param tlsVersion        e.g. {@code TLSv1.3}; null without TLS
 * @param cipherSuite       negotiated cipher suite; null without TLS
 * @param serverName        the SNI host name the client asked for; null if none (or without TLS)
 * @param clientCertificate the certificate the client presented and we verified (mTLS), or null
 */
public record ConnectionInfo(InetSocketAddress remoteAddress, AsciiString remoteIp, boolean secure, String tlsVersion,
                             String cipherSuite, String serverName, ClientCertificate clientCertificate) {
    private static final AsciiString UNKNOWN = AsciiString.cached("unknown");

    /** "http" or "https". */
    public String scheme() {
        return secure ? "https" : "http";
    }

    /** A plain-text connection from {@code remote}. */
    public static ConnectionInfo plain(InetSocketAddress remote) {
        return new ConnectionInfo(remote, ipOf(remote), false, null, null, null, null);
    }

    /** A connection over TLS, with what the handshake settled; {@code engine} null if the handshake is not done. */
    public static ConnectionInfo tls(InetSocketAddress remote, javax.net.ssl.SSLEngine engine) {
        if (engine == null) return new ConnectionInfo(remote, ipOf(remote), true, null, null, null, null);
        javax.net.ssl.SSLSession s = engine.getSession();
        String sni = null;
        if (s instanceof javax.net.ssl.ExtendedSSLSession ext) {
            try {
                for (javax.net.ssl.SNIServerName n : ext.getRequestedServerNames()) {
                    if (n instanceof javax.net.ssl.SNIHostName h) sni = h.getAsciiName();
                }
            } catch (UnsupportedOperationException ignored) {
                // an engine that does not keep the requested names: SNI stays unknown
            }
        }
        return new ConnectionInfo(remote, ipOf(remote), true, s.getProtocol(), s.getCipherSuite(), sni,
                ClientCertificate.of(engine));
    }

    private static AsciiString ipOf(InetSocketAddress remote) {
        return remote == null || remote.getAddress() == null ? UNKNOWN : new AsciiString(remote.getAddress().getHostAddress());
    }
}
