package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;

import java.util.List;

/**
 * Drop-in replacement for Netty's {@code HttpClientCodec} on upstream connections: {@link Http1ResponseDecoder}
 * plus Netty's {@link HttpRequestEncoder}, whose every encoded {@link HttpRequest} tells the decoder which method
 * the next response answers (see {@link Http1ResponseDecoder#expectResponseTo}). After the decoder switched
 * protocols (101, or 2xx to CONNECT), outbound {@link ByteBuf}s pass through unencoded, as with Netty's codec.
 */
public final class Http1ClientCodec extends CombinedChannelDuplexHandler<Http1ResponseDecoder, HttpRequestEncoder> {
    /** A codec with the decoder's default limits. */
    public Http1ClientCodec() {
        this(Http1ResponseDecoder.DEFAULT_MAX_STATUS_LINE_LENGTH, Http1ResponseDecoder.DEFAULT_MAX_HEADER_SIZE);
    }

    /** See {@link Http1ResponseDecoder#Http1ResponseDecoder(int, int)}. */
    public Http1ClientCodec(int maxStatusLineLength, int maxHeaderSize) {
        Http1ResponseDecoder decoder = new Http1ResponseDecoder(maxStatusLineLength, maxHeaderSize);
        init(decoder, new RequestEncoder(decoder));
    }

    /**
     * Adds the two halves to {@code pipeline} as handlers of their own ({@code name}-decoder, then {@code name}-encoder)
     * rather than one combined handler: every read and write then takes one pipeline hop less (the combined handler
     * forwards each event through a delegating context). Returns the decoder.
     */
    public static Http1ResponseDecoder addTo(ChannelPipeline pipeline, String name, int maxStatusLineLength, int maxHeaderSize) {
        Http1ResponseDecoder decoder = new Http1ResponseDecoder(maxStatusLineLength, maxHeaderSize);
        pipeline.addLast(name + "-decoder", decoder);
        pipeline.addLast(name + "-encoder", new RequestEncoder(decoder));
        return decoder;
    }

    /** The decoder half. */
    public Http1ResponseDecoder decoder() {
        return inboundHandler();
    }

    private static final class RequestEncoder extends HttpRequestEncoder {
        private final Http1ResponseDecoder decoder;

        RequestEncoder(Http1ResponseDecoder decoder) {
            this.decoder = decoder;
        }

        /** Decoded heads carry {@link FlatHttpHeaders}: written straight from their arrays. */
        @Override
        protected void encodeHeaders(io.netty.handler.codec.http.HttpHeaders headers, ByteBuf buf) {
            if (headers instanceof FlatHttpHeaders flat) flat.encodeTo(buf); else super.encodeHeaders(headers, buf);
        }

        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            if (msg instanceof ByteBuf bytes && decoder.switchedProtocols()) {
                out.add(bytes); // HttpObjectEncoder hands ownership of msg to encode(), which passes it on
                return;
            }
            if (msg instanceof HttpRequest request) {
                decoder.expectResponseTo(request.method());
            }
            super.encode(ctx, msg, out);
        }
    }
}
