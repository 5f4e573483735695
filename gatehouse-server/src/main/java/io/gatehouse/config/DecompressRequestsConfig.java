package io.gatehouse.config;

/**
 * Decoding of gzip/br request bodies for backends that cannot: the body goes up decoded, without Content-Encoding,
 * chunked.
 *
 * @param maxSize decoded bytes a body may reach (default 10 MiB); past it the request gets 413 and the backend gets
 *                none of the rest (a zip bomb stops here)
 */
public record DecompressRequestsConfig(Long maxSize) {
    public DecompressRequestsConfig {
        maxSize = maxSize == null || maxSize == 0 ? 10L * 1024 * 1024 : maxSize;
    }
}
