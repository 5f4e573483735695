package io.gatehouse.compression;

import io.gatehouse.config.DecompressRequestsConfig;
import io.gatehouse.filter.Filter;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * Decodes gzip/br request bodies for backends that cannot: Content-Encoding and Content-Length go, the body goes up
 * chunked. The decoded size is bounded: past {@code max_size} the request gets 413 and the backend none of the rest.
 * A coding we do not know passes through untouched (the backend answers 415 if it must).
 */
public final class RequestDecompression implements io.gatehouse.filter.NamedFilter {
    private static final Logger log = LoggerFactory.getLogger(RequestDecompression.class);
    private final long maxSize;

    public RequestDecompression(DecompressRequestsConfig config) {
        this.maxSize = config.maxSize();
    }

    @Override
    public String name() {
        return "decompress_requests";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        HttpHeaders h = exchange.request().headers();
        String coding = h.get(HttpHeaderNames.CONTENT_ENCODING);
        Decompressor decoder = coding == null ? null : switch (coding.strip().toLowerCase(Locale.ROOT)) {
            case "gzip", "x-gzip" -> new GzipDecompressor();
            case "br" -> BrotliCompressor.available() ? new BrotliDecompressor() : null;
            default -> null;
        };
        if (decoder == null) {
            chain.proceed(exchange);
            return;
        }
        h.remove(HttpHeaderNames.CONTENT_ENCODING);
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        exchange.interceptBody(receiver -> new Decoding(exchange, receiver, decoder));
        exchange.onComplete(e -> decoder.close());
        chain.proceed(exchange);
    }

    /** Sits between the client's body and its consumer, passing decoded pieces on. */
    private final class Decoding implements HttpExchange.BodyReceiver, Decompressor.Sink {
        private final HttpExchange exchange;
        private final HttpExchange.BodyReceiver receiver;
        private final Decompressor decoder;
        private long decoded;
        private boolean emitted;   // a piece went to the receiver during the current input
        private boolean failed;

        Decoding(HttpExchange exchange, HttpExchange.BodyReceiver receiver, Decompressor decoder) {
            this.exchange = exchange;
            this.receiver = receiver;
            this.decoder = decoder;
        }

        @Override
        public void onBody(HttpContent content) {
            if (failed) {
                content.release();
                return;
            }
            boolean last = content instanceof LastHttpContent;
            emitted = false;
            try {
                if (!decoder.decode(content.content(), content.content().alloc(), this)) {
                    content.release();
                    fail(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "decompressed_body_too_large");
                    return;
                }
                if (last && !decoder.finished()) throw new Decompressor.CorruptInput("truncated stream");
            } catch (Decompressor.CorruptInput e) {
                content.release();
                log.debug("{} {}: undecodable request body: {}", exchange.listener(), exchange.path(), e.getMessage());
                fail(HttpResponseStatus.BAD_REQUEST, "undecodable_body");
                return;
            }
            content.release();
            if (last) {
                decoder.close();
                receiver.onBody(new DefaultLastHttpContent());
            } else if (!emitted) {
                // nothing came out of this piece (a header, a partial block): nobody else will ask for more
                exchange.downstream().requestMoreBody();
            }
        }

        @Override
        public boolean accept(ByteBuf piece) {
            decoded += piece.readableBytes();
            if (decoded > maxSize) {
                piece.release();
                return false;
            }
            emitted = true;
            receiver.onBody(new DefaultHttpContent(piece));
            return !failed;
        }

        @Override
        public void onBodyError(HttpResponseStatus status, String reason) {
            decoder.close();
            if (!failed) receiver.onBodyError(status, reason);
        }

        /** The consumer gets the error to answer (413/400), as for any body that cannot be read to its end. */
        private void fail(HttpResponseStatus status, String reason) {
            failed = true;
            decoder.close();
            receiver.onBodyError(status, reason);
            if (!exchange.responseStarted()) LocalResponse.fail(exchange, status, reason);
        }
    }
}
