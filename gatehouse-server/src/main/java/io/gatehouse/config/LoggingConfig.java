package io.gatehouse.config;

/**
 * Gatehouse's own log (not the access log).
 *
 * @param format {@code text} (default, one readable line per event) or {@code json} (one object per line, for log
 *               shippers); the {@code --log-format} option overrides it
 */
public record LoggingConfig(String format) {
    public static final LoggingConfig DEFAULT = new LoggingConfig(null);

    public LoggingConfig {
        format = format == null ? "text" : format;
        if (!format.equals("text") && !format.equals("json")) throw new IllegalArgumentException("format: must be text or json");
    }
}
