package io.gatehouse.config;

/**
 * What a cluster's endpoints are spoken to in: HTTP/1.1 ({@code http1}), HTTP/2 over TLS negotiated by ALPN
 * ({@code h2}) or cleartext HTTP/2 with prior knowledge ({@code h2c}). Written in lower case in the file.
 */
public enum ClusterProtocol implements Spelled {
    HTTP1, H2, H2C;

    /** HTTP/2 has two forms here, so "http2" is no typo of one value: the advice names both. */
    private static final String HTTP2 = "HTTP/2 is h2 (over TLS, negotiated by ALPN) or h2c (cleartext, prior knowledge)";
    private static final java.util.Map<String, String> MISNOMERS = java.util.Map.of(
            "http2", HTTP2, "http/2", HTTP2, "grpc", "gRPC runs over HTTP/2: h2 (over TLS) or h2c (cleartext)",
            "http", "did you mean 'http1'?", "http/1.1", "did you mean 'http1'?", "http1.1", "did you mean 'http1'?",
            "https", "TLS toward the endpoints is the cluster's tls key; the protocol is http1 or h2 over it");

    /** The file's spelling. */
    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String spelling() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public java.util.Map<String, String> misnomers() {
        return MISNOMERS;
    }

    @Override
    public String toString() {
        return spelling();
    }

    /** True for {@code h2} and {@code h2c}. */
    public boolean http2() {
        return this != HTTP1;
    }
}
