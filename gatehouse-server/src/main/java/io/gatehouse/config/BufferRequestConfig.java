package io.gatehouse.config;

/**
 * The {@code buffer_request} filter: reads the whole request body before the request goes on (nginx's
 * {@code proxy_request_buffering on}). An endpoint then never waits on a slow upload, the body can be replayed on a
 * retry whatever its size, and filters after this one see it whole. Bodies over {@code max_size} get 413.
 *
 * @param maxSize the largest body held in memory (default 1MiB)
 */
public record BufferRequestConfig(Long maxSize) {
    public BufferRequestConfig {
        maxSize = maxSize == null ? 1L << 20 : maxSize;
        if (maxSize < 1) throw new IllegalArgumentException("max_size: must be at least 1 byte");
        if (maxSize > 1L << 30) throw new IllegalArgumentException("max_size: at most 1GiB (bodies are held in memory)");
    }
}
