package io.gatehouse.config;

/**
 * The {@code mtls_identity} filter: the client certificate verified in the TLS handshake (the listener's
 * {@code tls.client_auth}) names the consumer. Without a certificate, or one naming no configured consumer: 401.
 *
 * @param from            {@code san} (default: the first subject alternative name, e.g. a SPIFFE id) or {@code cn}
 * @param upstreamHeaders the headers the identity goes upstream in
 */
public record MtlsIdentityConfig(From from, IdentityHeadersConfig upstreamHeaders) {
    /** Which name of the certificate is the consumer's. */
    public enum From {
        SAN, CN;

        /** The file's spelling. */
        @com.fasterxml.jackson.annotation.JsonValue
        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public MtlsIdentityConfig {
        from = from == null ? From.SAN : from;
        upstreamHeaders = upstreamHeaders == null ? IdentityHeadersConfig.DEFAULT : upstreamHeaders;
    }
}
