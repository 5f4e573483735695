package io.gatehouse.cluster;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.HttpConversionUtil;

/**
 * Shapes what Netty's HTTP/2 stream codec reads into what an HTTP/1.1 connection reads: a response that came whole
 * (HEADERS with END_STREAM, a 1xx) arrives as one {@link FullHttpResponse}, which the proxy takes as a head followed
 * by its last content, so it is split in two; the codec's own {@code x-http2-stream-id} header is dropped.
 */
final class Http2Responses extends ChannelInboundHandlerAdapter {

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpResponse response) {
            response.headers().remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
            if (msg instanceof FullHttpResponse full) {
                HttpResponse head = new DefaultHttpResponse(full.protocolVersion(), full.status(), full.headers());
                int code = full.status().code();
                if (code >= 200 && code != 204 && code != 304 && !HttpUtil.isContentLengthSet(head)
                        && !HttpUtil.isTransferEncodingChunked(head)) {
                    // the whole body is here: say how long it is, or an HTTP/1.1 client would read until the close
                    HttpUtil.setContentLength(head, full.content().readableBytes());
                }
                DefaultLastHttpContent last = new DefaultLastHttpContent(full.content(), full.trailingHeaders());
                ctx.fireChannelRead(head);
                ctx.fireChannelRead(last);
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }
}
