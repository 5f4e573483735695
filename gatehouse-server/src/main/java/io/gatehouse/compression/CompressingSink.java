package io.gatehouse.compression;

import io.gatehouse.http.ResponseSink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;


/**
 * Response compression in front of the client: decides on the final response head whether to compress, then encodes
 * body pieces as they are written and flushes the encoder whenever the response is flushed.
 */
final class CompressingSink implements ResponseSink {
    private static final AsciiString ACCEPT_ENCODING = AsciiString.cached("Accept-Encoding");

    private final ResponseSink delegate;
    private final ResponseCompression filter;
    private final String coding;          // what the client accepts best, or null
    private Compressor compressor;        // set while a response body is being compressed
    private boolean decided;              // the final head went by

    CompressingSink(ResponseSink delegate, ResponseCompression filter, String coding) {
        this.delegate = delegate;
        this.filter = filter;
        this.coding = coding;
    }

    @Override
    public void write(HttpObject message) {
        if (!decided && message instanceof HttpResponse response) {
            int code = response.status().code();
            if (code < 200) { delegate.write(message); return; } // interim heads (and 101) pass as they are
            decided = true;
            if (!decide(response)) { delegate.write(message); return; }
            if (response instanceof FullHttpResponse full) writeWhole(full); else delegate.write(message);
            return;
        }
        if (compressor == null || !(message instanceof HttpContent content)) { delegate.write(message); return; }
        ByteBufAllocator alloc = content.content().alloc();
        ByteBuf out;
        boolean last = message instanceof LastHttpContent;
        try {
            out = compressor.compress(content.content(), alloc);
            if (last) out = concat(out, compressor.finish(alloc));
        } catch (RuntimeException e) {
            content.release();
            closeCompressor();
            delegate.abort("compression_failed");
            throw e;
        }
        if (last) {
            HttpHeaders trailers = ((LastHttpContent) content).trailingHeaders();
            content.release();
            closeCompressor();
            LastHttpContent end = new DefaultLastHttpContent(out);
            end.trailingHeaders().set(trailers);
            delegate.write(end);
            return;
        }
        content.release();
        delegate.write(new DefaultHttpContent(out));
    }

    /**
     * Adds Vary where the choice depends on Accept-Encoding, and starts compressing when it applies: not for encoded,
     * ranged, no-transform or bodyless responses, other types, or bodies announced shorter than min_size.
     */
    private boolean decide(HttpResponse response) {
        HttpHeaders h = response.headers();
        int code = response.status().code();
        if (code == 204 || code == 304 || code == 206 || h.contains(HttpHeaderNames.CONTENT_RANGE)) return false;
        String encoding = h.get(HttpHeaderNames.CONTENT_ENCODING);
        if (encoding != null && !encoding.equalsIgnoreCase("identity")) return false;
        if (h.containsValue(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_TRANSFORM, true)) return false;
        if (!filter.compressible(h.get(HttpHeaderNames.CONTENT_TYPE))) return false;
        long length = HttpUtil.getContentLength(response, -1L);
        if (length >= 0 && length < filter.minSize()) return false;
        addVary(h);
        if (coding == null) return false;
        compressor = filter.newCompressor(coding);
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        h.remove(HttpHeaderNames.ACCEPT_RANGES);
        h.set(HttpHeaderNames.CONTENT_ENCODING, compressor.encoding());
        String etag = h.get(HttpHeaderNames.ETAG);
        // the encoded bytes differ from the identity ones: a strong validator would lie (RFC 9110 §8.8.1)
        if (etag != null && !etag.startsWith("W/")) h.set(HttpHeaderNames.ETAG, "W/" + etag);
        return true;
    }

    private static void addVary(HttpHeaders h) {
        for (String v : h.getAll(HttpHeaderNames.VARY)) {
            for (String token : v.split(",")) {
                String t = token.strip();
                if (t.equals("*") || t.equalsIgnoreCase("accept-encoding")) return;
            }
        }
        h.add(HttpHeaderNames.VARY, ACCEPT_ENCODING);
    }

    /** A response whose body is all here (a local answer): compressed at once, sent with its exact length. */
    private void writeWhole(FullHttpResponse full) {
        ByteBufAllocator alloc = full.content().alloc();
        ByteBuf out;
        try {
            out = concat(compressor.compress(full.content(), alloc), compressor.finish(alloc));
        } finally {
            closeCompressor();
        }
        DefaultHttpResponse head = new DefaultHttpResponse(full.protocolVersion(), full.status(), full.headers());
        head.headers().set(HttpHeaderNames.CONTENT_LENGTH, out.readableBytes());
        HttpHeaders trailers = full.trailingHeaders();
        full.release();
        delegate.write(head);
        LastHttpContent end = new DefaultLastHttpContent(out);
        end.trailingHeaders().set(trailers);
        delegate.write(end);
    }

    private static ByteBuf concat(ByteBuf a, ByteBuf b) {
        if (!b.isReadable()) {
            b.release();
            return a;
        }
        if (!a.isReadable()) {
            a.release();
            return b;
        }
        return Unpooled.wrappedBuffer(a, b);
    }

    @Override
    public void flush() {
        if (compressor != null) {
            ByteBuf out = compressor.flush(io.gatehouse.transport.Transport.ALLOCATOR);
            if (out.isReadable()) delegate.write(new DefaultHttpContent(out)); else out.release();
        }
        delegate.flush();
    }

    @Override
    public void abort(String reason) {
        closeCompressor();
        delegate.abort(reason);
    }

    /** The exchange ended (the client went away, a tunnel): frees the encoder's (native) state now. */
    void closeCompressor() {
        if (compressor != null) {
            compressor.close();
            compressor = null;
        }
    }

    @Override public boolean isWritable() { return delegate.isWritable(); }
}
