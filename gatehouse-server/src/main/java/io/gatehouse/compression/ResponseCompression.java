package io.gatehouse.compression;

import io.gatehouse.config.CompressionConfig;
import io.gatehouse.filter.Filter;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.http.HttpExchange;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;

import java.util.List;
import java.util.Locale;

/**
 * Compresses responses of a route with gzip or Brotli, as the client's {@code Accept-Encoding} allows, with a sink in
 * front of the client ({@link CompressingSink}): the response streams through the compressor piece by piece and
 * is flushed at every flush of the proxy (one per upstream read batch), so memory stays bounded and a streaming
 * response is not held back.
 */
public final class ResponseCompression implements io.gatehouse.filter.NamedFilter {
    private final CompressionConfig config;
    private final List<String> offered;     // config's encodings less those that cannot load here
    private final List<String> exactTypes;
    private final List<String> typePrefixes; // "text/" for "text/*"

    public ResponseCompression(CompressionConfig config) {
        this(config, BrotliCompressor.available());
    }

    /** @param brotliAvailable whether the native Brotli encoder loaded (a test acts out a platform where it did not) */
    ResponseCompression(CompressionConfig config, boolean brotliAvailable) {
        this.config = config;
        this.offered = config.encodings().stream().filter(e -> !e.equals("br") || brotliAvailable).toList();
        this.exactTypes = config.types().stream().filter(t -> !t.endsWith("/*")).toList();
        this.typePrefixes = config.types().stream().filter(t -> t.endsWith("/*")).map(t -> t.substring(0, t.length() - 1)).toList();
    }

    @Override
    public String name() {
        return "compression";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        // a HEAD response has no body to compress; its headers must still match what a GET would get, hence Vary
        boolean head = exchange.request().method().equals(HttpMethod.HEAD);
        String coding = head ? null : coding(exchange.request().headers().get(HttpHeaderNames.ACCEPT_ENCODING));
        exchange.wrapResponse(next -> {
            CompressingSink compressing = new CompressingSink(next, this, coding);
            exchange.onComplete(e -> compressing.closeCompressor());
            return compressing;
        });
        chain.proceed(exchange);
    }

    /** The coding for a request's {@code Accept-Encoding} among those this route offers here, or null for none. */
    String coding(String acceptEncoding) {
        return offered.isEmpty() ? null : AcceptEncoding.choose(acceptEncoding, offered);
    }

    long minSize() {
        return config.minSize();
    }

    Compressor newCompressor(String coding) {
        return coding.equals("br") ? new BrotliCompressor(config.brotliLevel()) : new GzipCompressor(config.gzipLevel());
    }

    /** Whether responses of this Content-Type are compressed (parameters ignored, case-insensitive). */
    boolean compressible(String contentType) {
        if (contentType == null) return false;
        int semi = contentType.indexOf(';');
        String type = (semi < 0 ? contentType : contentType.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
        if (exactTypes.contains(type)) return true;
        for (String prefix : typePrefixes) {
            if (type.startsWith(prefix) && type.length() > prefix.length()) return true;
        }
        return false;
    }
}
