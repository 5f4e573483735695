package io.gatehouse.config;

/**
 * Gatehouse's own log (not the access log).
 *
 * @param format {@code text} (default, one readable line per event) or {@code json} (one object per line, for log
 *               shippers); the {@code --log-format} option overrides it
 */
public record LoggingConfig(LogFormat format) {
    public static final LoggingConfig DEFAULT = new LoggingConfig(null);

    public LoggingConfig {
        format = format == null ? LogFormat.TEXT : format;
    }
}
