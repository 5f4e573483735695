package io.gatehouse.config;

/** How Gatehouse's own log is written: {@code text} (one readable line per event) or {@code json} (one object per line). */
public enum LogFormat {
    TEXT, JSON;

    /** The file's spelling. */
    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
