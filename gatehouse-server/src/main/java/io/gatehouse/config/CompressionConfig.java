package io.gatehouse.config;

import java.util.List;
import java.util.Locale;

/**
 * Response compression of a route (or the default of a listener's routes). A response is compressed when the client
 * accepts one of {@code encodings}, its Content-Type is one of {@code types}, and its length (when announced) is at
 * least {@code minSize}; never when it is already encoded, ranged, {@code no-transform}, to a HEAD, or a 204/304.
 *
 * @param enabled     false turns a listener's default off for one route (default true)
 * @param types       media types to compress; {@code text/*} matches any subtype (parameters are ignored)
 * @param minSize     responses announcing a shorter Content-Length stay as they are (default 1 KiB)
 * @param encodings   offered in this order of preference when the client ranks them equally: {@code br}, {@code gzip}
 * @param gzipLevel   1 (fastest) .. 9 (smallest), default 5
 * @param brotliLevel 0 (fastest) .. 11 (smallest), default 4 (the on-the-fly sweet spot; 11 is for static files)
 */
public record CompressionConfig(Boolean enabled, List<String> types, Long minSize, List<String> encodings,
                                Integer gzipLevel, Integer brotliLevel) {
    public static final List<String> DEFAULT_TYPES = List.of("text/*", "application/json", "application/javascript",
            "application/xml", "application/wasm", "image/svg+xml");
    public static final List<String> ENCODINGS = List.of("br", "gzip");

    public CompressionConfig {
        enabled = enabled == null ? Boolean.TRUE : enabled;
        types = types == null ? DEFAULT_TYPES : types.stream().map(t -> t.strip().toLowerCase(Locale.ROOT)).toList();
        for (String t : types) {
            if (t.indexOf('/') <= 0 || t.endsWith("/")) {
                throw new IllegalArgumentException("types: '" + t + "' is not a media type such as text/html or text/*");
            }
        }
        minSize = minSize == null ? 1024L : minSize;
        encodings = encodings == null ? ENCODINGS : List.copyOf(encodings);
        if (encodings.isEmpty()) throw new IllegalArgumentException("encodings: needs at least one of " + ENCODINGS);
        for (String e : encodings) {
            if (!ENCODINGS.contains(e)) throw new IllegalArgumentException("encodings: unknown encoding '" + e + "', expected one of " + ENCODINGS);
        }
        gzipLevel = gzipLevel == null ? 5 : gzipLevel;
        if (gzipLevel < 1 || gzipLevel > 9) throw new IllegalArgumentException("gzip_level: must be 1..9");
        brotliLevel = brotliLevel == null ? 4 : brotliLevel;
        if (brotliLevel < 0 || brotliLevel > 11) throw new IllegalArgumentException("brotli_level: must be 0..11");
    }
}
