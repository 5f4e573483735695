package io.gatehouse.listener;

import io.gatehouse.http.FlatHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * Netty's response encoder, told whether the response in progress answers a HEAD request (so a Content-Length
 * without a body is right). Requests are served one at a time, so one flag suffices.
 */
final class Http1ResponseEncoder extends HttpResponseEncoder {
    private boolean headResponse;
    private long bytesEncoded;

    /** Bytes this connection's responses took on the wire so far (heads, bodies, chunk framing). */
    long bytesEncoded() {
        return bytesEncoded;
    }

    @Override
    protected void encode(io.netty.channel.ChannelHandlerContext ctx, Object msg, java.util.List<Object> out) throws Exception {
        int from = out.size();
        super.encode(ctx, msg, out);
        // counted here rather than in a handler of its own: one pipeline hop less per write
        for (int i = from; i < out.size(); i++) {
            if (out.get(i) instanceof io.netty.buffer.ByteBuf b) bytesEncoded += b.readableBytes();
            else if (out.get(i) instanceof io.netty.channel.FileRegion f) bytesEncoded += f.count();
        }
    }

    /** Decoded heads carry {@link FlatHttpHeaders}: written straight from their arrays. */
    @Override
    protected void encodeHeaders(HttpHeaders headers, io.netty.buffer.ByteBuf buf) {
        if (headers instanceof FlatHttpHeaders flat) flat.encodeTo(buf); else super.encodeHeaders(headers, buf);
    }

    void expectHeadResponse(boolean head) {
        this.headResponse = head;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
        return headResponse || super.isContentAlwaysEmpty(msg);
    }
}
