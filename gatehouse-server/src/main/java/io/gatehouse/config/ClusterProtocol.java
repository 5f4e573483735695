package io.gatehouse.config;

/**
 * What a cluster's endpoints are spoken to in: HTTP/1.1 ({@code http1}), HTTP/2 over TLS negotiated by ALPN
 * ({@code h2}) or cleartext HTTP/2 with prior knowledge ({@code h2c}). Written in lower case in the file.
 */
public enum ClusterProtocol {
    HTTP1, H2, H2C;

    /** The file's spelling. */
    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** True for {@code h2} and {@code h2c}. */
    public boolean http2() {
        return this != HTTP1;
    }
}
