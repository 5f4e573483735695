package io.gatehouse.config;

/**
 * The {@code concurrency_limit} filter: at most {@code max} requests of one key in flight at once (from the request's
 * arrival to its response's end); the next one gets 429 at once (it does not queue).
 *
 * @param max at least 1
 * @param key {@code route} (default: the whole route), {@code consumer}, {@code client_ip}
 */
public record ConcurrencyLimitConfig(int max, Key key) {
    /** Whose requests are counted together. */
    public enum Key {
        ROUTE, CONSUMER, CLIENT_IP;

        /** The file's spelling. */
        @com.fasterxml.jackson.annotation.JsonValue
        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public ConcurrencyLimitConfig {
        if (max < 1) throw new IllegalArgumentException("max: must be at least 1");
        key = key == null ? Key.ROUTE : key;
    }
}
