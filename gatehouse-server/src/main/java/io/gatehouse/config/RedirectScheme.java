package io.gatehouse.config;

/** The scheme a redirect sends the client to: {@code http} or {@code https}. Written in lower case in the file. */
public enum RedirectScheme {
    HTTP, HTTPS;

    /** The file's spelling, which is also the URL's. */
    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
