package io.gatehouse.config;

/** Which TLS implementation a listener or cluster uses: {@code auto} (OpenSSL/BoringSSL when it loads, else the JDK's), {@code openssl} (fail when it cannot load) or {@code jdk}. */
public enum TlsProviderChoice {
    AUTO, OPENSSL, JDK;

    /** The file's spelling. */
    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
