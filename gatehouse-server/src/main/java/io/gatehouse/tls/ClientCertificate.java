package io.gatehouse.tls;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * The client certificate verified during the handshake (mTLS), as routing and proxy headers use it.
 *
 * @param subject the subject DN as RFC 2253 prints it ({@code CN=billing,O=Example})
 * @param sans    subject alternative names: DNS names, URIs (SPIFFE ids), emails and IPs, in certificate order
 */
public record ClientCertificate(String subject, List<String> sans) {
    public ClientCertificate {
        sans = List.copyOf(sans);
    }

    /**
     * The verified client certificate of {@code engine}'s handshake, or null when the client sent none. A listener
     * that asks for no client certificate costs nothing here: the session's lookup answers "none" by throwing.
     */
    public static ClientCertificate of(SSLEngine engine) {
        if (!engine.getNeedClientAuth() && !engine.getWantClientAuth()) return null;
        return of(engine.getSession());
    }

    /** The verified peer certificate of {@code session}, or null when the client sent none. */
    public static ClientCertificate of(SSLSession session) {
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
        if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) return null;
        return new ClientCertificate(leaf.getSubjectX500Principal().getName(), sans(leaf));
    }

    static List<String> sans(X509Certificate cert) {
        List<String> out = new ArrayList<>();
        try {
            var names = cert.getSubjectAlternativeNames();
            if (names == null) return out;
            for (List<?> n : names) {
                int type = (Integer) n.get(0);
                // 1 email, 2 DNS, 6 URI, 7 IP (other types are not strings)
                if ((type == 1 || type == 2 || type == 6 || type == 7) && n.get(1) instanceof String s) out.add(s);
            }
        } catch (CertificateParsingException e) {
            // an unreadable SAN extension: no names
        }
        return out;
    }

    /** DNS names only (what SNI matches against). */
    static List<String> dnsNames(X509Certificate cert) {
        List<String> out = new ArrayList<>();
        try {
            var names = cert.getSubjectAlternativeNames();
            if (names != null) {
                for (List<?> n : names) if ((Integer) n.get(0) == 2) out.add(((String) n.get(1)).toLowerCase(java.util.Locale.ROOT));
            }
        } catch (CertificateParsingException e) {
            // no names: usable as the default certificate only
        }
        return out;
    }
}
