package io.gatehouse.cluster;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;

/**
 * Shapes what Netty's HTTP/2 stream codec reads into what an HTTP/1.1 connection reads: a response that came whole
 * (HEADERS with END_STREAM, a 1xx) arrives as one {@link FullHttpResponse}, which the proxy takes as a head followed
 * by its last content, so it is split in two; the codec's own {@code x-http2-stream-id} header is dropped.
 */
final class Http2Responses extends ChannelInboundHandlerAdapter {
    private static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    private static final AsciiString[] GRPC_TRAILERS = {GRPC_STATUS, AsciiString.cached("grpc-message"),
            AsciiString.cached("grpc-status-details-bin")};

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpResponse response) {
            response.headers().remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
            if (msg instanceof FullHttpResponse full) {
                HttpResponse head = new DefaultHttpResponse(full.protocolVersion(), full.status(), full.headers());
                DefaultLastHttpContent last = new DefaultLastHttpContent(full.content(), full.trailingHeaders());
                int code = full.status().code();
                if (head.headers().contains(GRPC_STATUS)) {
                    // a gRPC "trailers-only" answer: its status goes on as trailers after an empty body, the shape
                    // every gRPC client reads (an HTTP/2 client would reject a status in a non-final HEADERS)
                    for (AsciiString name : GRPC_TRAILERS) {
                        String v = head.headers().get(name);
                        if (v != null) {
                            last.trailingHeaders().set(name, v);
                            head.headers().remove(name);
                        }
                    }
                    head.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
                    head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                } else if (code >= 200 && code != 204 && code != 304 && !HttpUtil.isContentLengthSet(head)
                        && !HttpUtil.isTransferEncodingChunked(head)) {
                    // the whole body is here: say how long it is, or an HTTP/1.1 client would read until the close
                    HttpUtil.setContentLength(head, full.content().readableBytes());
                }
                ctx.fireChannelRead(head);
                ctx.fireChannelRead(last);
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }
}
