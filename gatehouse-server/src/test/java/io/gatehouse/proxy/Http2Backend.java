package io.gatehouse.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/2 test endpoint on Netty (h2c prior knowledge, or h2 over TLS when given a context with ALPN h2). Paths:
 * {@code /echo} answers the request body with the request's facts in headers ({@code x-method}, {@code x-path},
 * {@code x-authority}, {@code x-scheme}, {@code x-te}, {@code x-cookie}, {@code x-header-names}); {@code /trailers}
 * answers in two DATA frames followed by trailers; {@code /hold} answers only when {@link #releaseHeld()} is called;
 * {@code /missing} is a 404.
 */
final class Http2Backend implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    private final ConcurrentLinkedQueue<ChannelHandlerContext> held = new ConcurrentLinkedQueue<>();
    final CopyOnWriteArrayList<String> paths = new CopyOnWriteArrayList<>();
    private final Channel server;

    private Http2Backend(long maxConcurrentStreams, SslContext tls) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.incrementAndGet();
                        connections.add(ch);
                        if (tls != null) ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        Http2Settings settings = Http2Settings.defaultSettings().maxConcurrentStreams(maxConcurrentStreams);
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().initialSettings(settings).build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                            @Override
                            protected void initChannel(Http2StreamChannel stream) {
                                stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true),
                                        new HttpObjectAggregator(1 << 20), new Responder());
                            }
                        }));
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    static Http2Backend h2c(long maxConcurrentStreams) throws InterruptedException {
        return new Http2Backend(maxConcurrentStreams, null);
    }

    static Http2Backend tls(long maxConcurrentStreams, SslContext context) throws InterruptedException {
        return new Http2Backend(maxConcurrentStreams, context);
    }

    String address() {
        return "127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** TCP connections accepted so far. */
    int acceptedConnections() {
        return accepted.get();
    }

    int requests() {
        return requests.get();
    }

    int heldCount() {
        return held.size();
    }

    /** Answers every request waiting on {@code /hold}. */
    void releaseHeld() {
        ChannelHandlerContext ctx;
        while ((ctx = held.poll()) != null) {
            ChannelHandlerContext c = ctx;
            c.executor().execute(() -> answer(c, "held", Map.of()));
        }
    }

    /** Sends GOAWAY (NO_ERROR) on every open connection: streams it already took finish, later ones are refused. */
    void goAway() {
        for (Channel ch : connections) ch.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        connections.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static void answer(ChannelHandlerContext ctx, String body, Map<String, String> headers) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        headers.forEach(head.headers()::set);
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        head.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        ctx.write(head);
        ctx.writeAndFlush(new DefaultLastHttpContent(content));
    }

    private final class Responder extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            requests.incrementAndGet();
            String path = req.headers().get("x-http2-path", req.uri());
            paths.add(path);
            if (path.startsWith("/hold")) {
                held.add(ctx);
                return;
            }
            if (path.startsWith("/missing")) {
                HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND);
                head.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
                ctx.write(head);
                ctx.writeAndFlush(new DefaultLastHttpContent());
                return;
            }
            if (path.startsWith("/trailers")) {
                HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                ctx.write(head);
                ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer("hello ", StandardCharsets.UTF_8)));
                DefaultLastHttpContent last = new DefaultLastHttpContent(Unpooled.copiedBuffer("world", StandardCharsets.UTF_8));
                last.trailingHeaders().set("x-checksum", "abc123");
                ctx.writeAndFlush(last);
                return;
            }
            Map<String, String> facts = new TreeMap<>();
            facts.put("x-method", req.method().name());
            facts.put("x-path", req.uri());
            facts.put("x-authority", String.valueOf(req.headers().get(HttpHeaderNames.HOST)));
            facts.put("x-scheme", String.valueOf(req.headers().get("x-http2-scheme")));
            facts.put("x-te", String.valueOf(req.headers().get(HttpHeaderNames.TE)));
            facts.put("x-cookie", String.valueOf(req.headers().get(HttpHeaderNames.COOKIE)));
            facts.put("x-header-names", String.join(",", new java.util.TreeSet<>(req.headers().names())));
            answer(ctx, req.content().toString(StandardCharsets.UTF_8), facts);
        }
    }
}
