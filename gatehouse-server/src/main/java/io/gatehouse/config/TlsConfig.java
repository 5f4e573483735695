package io.gatehouse.config;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * TLS termination on a listener.
 *
 * @param certificates          one or more; a client's SNI name picks the one whose names match (exact first, then
 *                              wildcard); the first one is the default when nothing matches or no SNI is sent
 * @param minVersion            {@code 1.2} (default) or {@code 1.3} (also {@code TLSv1.2}, {@code TLSv1.3}); older
 *                              versions are never offered
 * @param ciphers               TLS 1.2 cipher suites (IANA names); default ECDHE with AEAD only. TLS 1.3 suites are
 *                              always the three standard AEAD ones
 * @param alpn                  protocols offered through ALPN, in preference order (default h2, http/1.1; h2 only
 *                             while the listener's {@code http2.enabled})
 * @param clientAuth            {@code none} (default), {@code request} (verify a certificate if sent) or
 *                              {@code require} (handshake fails without a valid one)
 * @param clientCa              PEM bundle of the CAs client certificates must chain to (with request/require)
 * @param provider              {@code auto} (default: OpenSSL/BoringSSL when available, else JDK), {@code openssl}
 *                              or {@code jdk}
 * @param reloadInterval        how often the certificate files are checked for changes; {@code 0} turns it off
 * @param sessionTicketRotation session ticket keys rotate this often, the previous key still decrypts (OpenSSL only)
 */
public record TlsConfig(
        List<CertificateConfig> certificates,
        TlsVersion minVersion,
        List<String> ciphers,
        List<AlpnProtocol> alpn,
        ClientAuthMode clientAuth,
        String clientCa,
        TlsProviderChoice provider,
        Duration reloadInterval,
        Duration sessionTicketRotation) {

    public TlsConfig {
        if (certificates == null || certificates.isEmpty()) throw new IllegalArgumentException("certificates: at least one is required");
        certificates = List.copyOf(certificates);
        minVersion = minVersion == null ? TlsVersion.TLS_1_2 : minVersion;
        ciphers = ciphers == null ? List.of() : List.copyOf(ciphers);
        alpn = alpn == null ? List.of(AlpnProtocol.H2, AlpnProtocol.HTTP_1_1) : List.copyOf(alpn);
        if (!alpn.contains(AlpnProtocol.HTTP_1_1)) throw new IllegalArgumentException("alpn: http/1.1 is required (clients without ALPN speak it)");
        clientAuth = clientAuth == null ? ClientAuthMode.NONE : clientAuth;
        if (clientAuth != ClientAuthMode.NONE && clientCa == null) {
            throw new IllegalArgumentException("client_ca: is required with client_auth: " + clientAuth);
        }
        provider = provider == null ? TlsProviderChoice.AUTO : provider;
        reloadInterval = reloadInterval == null ? Duration.ofSeconds(2) : reloadInterval;
        if (reloadInterval.isNegative()) throw new IllegalArgumentException("reload_interval: must be >= 0");
        sessionTicketRotation = sessionTicketRotation == null ? Duration.ofHours(1) : sessionTicketRotation;
        if (sessionTicketRotation.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("session_ticket_rotation: must be at least 1s");
        }
    }

    /**
     * One certificate and its key.
     *
     * @param cert         PEM file: the certificate, then its intermediates
     * @param key          PEM file: the private key (PKCS#8, or PKCS#1 RSA / SEC1 EC)
     * @param serverNames  names this certificate answers for (exact or {@code *.example.com}); default: its DNS SANs
     * @param ocspResponse a DER-encoded OCSP response file to staple (OpenSSL provider; reloaded like the certificate)
     * @param ocspFetch    fetch the OCSP response to staple from the responder named in the certificate's Authority
     *                     Information Access extension, and refresh it before it expires (OpenSSL provider; needs the
     *                     issuer as the second certificate of {@code cert}); {@code ocspResponse} wins when both are set
     */
    public record CertificateConfig(String cert, String key, List<String> serverNames, String ocspResponse, boolean ocspFetch) {
        /** Without fetching: a file response or none. */
        public CertificateConfig(String cert, String key, List<String> serverNames, String ocspResponse) {
            this(cert, key, serverNames, ocspResponse, false);
        }

        public CertificateConfig {
            if (cert == null || cert.isBlank()) throw new IllegalArgumentException("cert: is required");
            if (key == null || key.isBlank()) throw new IllegalArgumentException("key: is required");
            serverNames = serverNames == null ? List.of() : serverNames.stream().map(n -> n.toLowerCase(Locale.ROOT)).toList();
            for (String n : serverNames) {
                if (n.isBlank() || (n.contains("*") && !(n.startsWith("*.") && n.indexOf('*', 1) < 0))) {
                    throw new IllegalArgumentException("server_names: '" + n + "' is not a name or a wildcard such as *.example.com");
                }
            }
        }
    }

    /** The same settings offering {@code protocols} through ALPN. */
    public TlsConfig withAlpn(List<AlpnProtocol> protocols) {
        return new TlsConfig(certificates, minVersion, ciphers, protocols, clientAuth, clientCa, provider, reloadInterval,
                sessionTicketRotation);
    }
}
