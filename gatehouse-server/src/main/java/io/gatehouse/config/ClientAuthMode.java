package io.gatehouse.config;

/** Whether a listener asks TLS clients for a certificate: {@code none}, {@code request} (verified if sent) or {@code require} (the handshake fails without a valid one). */
public enum ClientAuthMode {
    NONE, REQUEST, REQUIRE;

    /** The file's spelling. */
    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
