package io.gatehouse.config;

/** How access-log lines are written: {@code json} (one object per line) or {@code combined} (the nginx/Apache combined format). */
public enum AccessLogFormat {
    JSON, COMBINED;

    /** The file's spelling. */
    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
