package io.gatehouse.config;

import java.util.List;
import java.util.Map;

/** A protocol offered through TLS ALPN, spelt by its registered identifier: {@code h2} or {@code http/1.1}. */
public enum AlpnProtocol implements Spelled {
    H2("h2"), HTTP_1_1("http/1.1");

    private static final Map<String, String> MISNOMERS = Map.of(
            "http2", "did you mean 'h2'?", "http/2", "did you mean 'h2'?",
            "h2c", "h2c is cleartext HTTP/2, never negotiated by ALPN; over TLS it is h2",
            "h3", "HTTP/3 runs over QUIC, which Gatehouse does not serve", "http/3", "HTTP/3 runs over QUIC, which Gatehouse does not serve");

    private final String id;

    AlpnProtocol(String id) {
        this.id = id;
    }

    /** The ALPN identifier, as sent in the handshake. */
    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String spelling() {
        return id;
    }

    @Override
    public Map<String, String> misnomers() {
        return MISNOMERS;
    }

    /** The identifiers of {@code protocols}, in their order, for the TLS engine. */
    public static List<String> ids(List<AlpnProtocol> protocols) {
        return protocols.stream().map(AlpnProtocol::spelling).toList();
    }

    @Override
    public String toString() {
        return id;
    }
}
