package io.gatehouse.listener;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Netty's HTTP/2 client with prior knowledge (h2c), one connection, one child channel per request. */
final class H2Client implements AutoCloseable {
    /** A response as the client saw it. */
    record Response(int status, HttpHeaders headers, byte[] body, HttpHeaders trailers) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** A stream whose response is not read (its window stays closed) until {@link #resume()}. */
    record Stalled(Http2StreamChannel stream, CompletableFuture<Response> response) {
        void resume() {
            stream.eventLoop().execute(() -> {
                stream.config().setAutoRead(true);
                stream.read();
            });
        }
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;

    private H2Client(InetSocketAddress address) throws InterruptedException {
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                                .initialSettings(Http2Settings.defaultSettings()).build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new SimpleChannelInboundHandler<Object>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                // no server push
                            }
                        }));
                    }
                })
                .connect(address).sync().channel();
        // a stalled stream must not use up the whole connection window
        channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(16 << 20)).sync();
    }

    static H2Client connect(InetSocketAddress address) {
        try {
            return new H2Client(address);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    Channel channel() {
        return channel;
    }

    CompletableFuture<Response> send(FullHttpRequest request) {
        return open(request, true).response();
    }

    /** Sends {@code request} on a stream that does not read its response until resumed. */
    Stalled sendStalled(FullHttpRequest request) {
        return open(request, false);
    }

    private Stalled open(FullHttpRequest request, boolean autoRead) {
        CompletableFuture<Response> result = new CompletableFuture<>();
        request.headers().set(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), "http");
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(channel)
                .option(io.netty.channel.ChannelOption.AUTO_READ, autoRead)
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel ch) {
                        ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false));
                        ch.pipeline().addLast(new HttpObjectAggregator(256 << 20));
                        ch.pipeline().addLast(new SimpleChannelInboundHandler<HttpObject>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                                if (msg instanceof FullHttpResponse r) {
                                    if (r.status().code() < 200) return;
                                    result.complete(new Response(r.status().code(), r.headers().copy(),
                                            ByteBufUtil.getBytes(r.content()), r.trailingHeaders().copy()));
                                }
                            }

                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof Http2ResetFrame reset) {
                                    result.completeExceptionally(new StreamReset(reset.errorCode()));
                                }
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                result.completeExceptionally(new IllegalStateException("stream closed without a response"));
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                result.completeExceptionally(cause);
                            }
                        });
                    }
                }).open().syncUninterruptibly().getNow();
        stream.writeAndFlush(request);
        return new Stalled(stream, result);
    }

    /** The server reset the stream. */
    static final class StreamReset extends RuntimeException {
        final long errorCode;

        StreamReset(long errorCode) {
            super("RST_STREAM " + errorCode);
            this.errorCode = errorCode;
        }
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
