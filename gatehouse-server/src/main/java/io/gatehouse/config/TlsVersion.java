package io.gatehouse.config;

import java.util.List;
import java.util.Map;

/** The oldest TLS version offered: {@code 1.2} or {@code 1.3}, also written as the JDK names them ({@code TLSv1.2}). */
public enum TlsVersion implements Spelled {
    TLS_1_2("1.2"), TLS_1_3("1.3");

    private static final String INSECURE = "is not supported (insecure); use 1.2 or 1.3";
    private static final Map<String, String> MISNOMERS = Map.of(
            "1", "TLS 1.0 " + INSECURE, "1.0", "TLS 1.0 " + INSECURE, "TLSv1", "TLS 1.0 " + INSECURE,
            "TLSv1.0", "TLS 1.0 " + INSECURE, "1.1", "TLS 1.1 " + INSECURE, "TLSv1.1", "TLS 1.1 " + INSECURE,
            "SSLv3", "SSL 3.0 " + INSECURE);

    private final String spelling;

    TlsVersion(String spelling) {
        this.spelling = spelling;
    }

    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String spelling() {
        return spelling;
    }

    @Override
    public List<String> aliases() {
        return List.of(jdkName());
    }

    @Override
    public Map<String, String> misnomers() {
        return MISNOMERS;
    }

    /** The protocol's name in the JDK and OpenSSL ({@code TLSv1.2}). */
    public String jdkName() {
        return "TLSv" + spelling;
    }

    @Override
    public String toString() {
        return spelling;
    }
}
