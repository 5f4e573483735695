package io.gatehouse.config;

/** What an active health check does: {@code http} sends a request and checks the status, {@code tcp} only connects. */
public enum HealthCheckType {
    HTTP, TCP;

    /** The file's spelling. */
    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** From the file's spelling, for code that builds a check by hand; the message lists the valid ones. */
    public static HealthCheckType of(String text) {
        for (HealthCheckType t : values()) if (t.toString().equals(text)) return t;
        throw new IllegalArgumentException("type: must be http or tcp, got '" + text + "'");
    }
}
