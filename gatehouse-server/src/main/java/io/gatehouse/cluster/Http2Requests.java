package io.gatehouse.cluster;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.buffer.Unpooled;

/**
 * Sends a request without a body as one HEADERS frame with END_STREAM, the way HTTP/2 clients do, rather than
 * HEADERS and then an empty DATA frame: the head is held back until the next write or flush shows whether an empty
 * last content follows it. One frame less per GET, and a stream the endpoint refuses (GOAWAY) gets no stray DATA.
 */
final class Http2Requests extends ChannelOutboundHandlerAdapter {
    private HttpRequest head;
    private ChannelPromise headPromise;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpRequest request && !(msg instanceof FullHttpRequest) && head == null) {
            head = request;
            headPromise = promise;
            return;
        }
        HttpRequest h = head;
        if (h != null) {
            ChannelPromise hp = headPromise;
            head = null;
            headPromise = null;
            if (msg instanceof LastHttpContent last && !last.content().isReadable() && last.trailingHeaders().isEmpty()) {
                last.release();
                FullHttpRequest full = new DefaultFullHttpRequest(h.protocolVersion(), h.method(), h.uri(),
                        Unpooled.EMPTY_BUFFER, h.headers(), io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
                ctx.write(full).addListener(f -> {
                    if (f.isSuccess()) {
                        hp.trySuccess();
                        promise.trySuccess();
                    } else {
                        hp.tryFailure(f.cause());
                        promise.tryFailure(f.cause());
                    }
                });
                return;
            }
            ctx.write(h, hp);
        }
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (head != null) {
            // the body is still on its way: the head goes now
            ctx.write(head, headPromise);
            head = null;
            headPromise = null;
        }
        ctx.flush();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (headPromise != null) headPromise.tryFailure(new java.nio.channels.ClosedChannelException());
        head = null;
        headPromise = null;
    }
}
