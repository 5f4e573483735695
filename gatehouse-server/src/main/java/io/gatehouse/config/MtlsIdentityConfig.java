package io.gatehouse.config;

/**
 * The {@code mtls_identity} filter: the client certificate verified in the TLS handshake (the listener's
 * {@code tls.client_auth}) names the consumer. Without a certificate, or one naming no configured consumer: 401.
 *
 * @param from            {@code san} (default: the first subject alternative name, e.g. a SPIFFE id) or {@code cn}
 * @param upstreamHeaders the headers the identity goes upstream in
 */
public record MtlsIdentityConfig(String from, IdentityHeadersConfig upstreamHeaders) {
    public MtlsIdentityConfig {
        from = from == null ? "san" : from;
        if (!from.equals("san") && !from.equals("cn")) throw new IllegalArgumentException("from: one of san, cn");
        upstreamHeaders = upstreamHeaders == null ? IdentityHeadersConfig.DEFAULT : upstreamHeaders;
    }
}
