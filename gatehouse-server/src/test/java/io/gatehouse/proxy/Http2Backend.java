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
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2PingFrame;
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
    private final AtomicInteger pings = new AtomicInteger();
    private final AtomicInteger unansweredPings = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicBoolean answerPings = new java.util.concurrent.atomic.AtomicBoolean(true);
    /** Body bytes of {@code /stream/<n>/<name>} responses the HTTP/2 layer took (window permitting), by name. */
    final Map<String, java.util.concurrent.atomic.AtomicLong> streamed = new java.util.concurrent.ConcurrentHashMap<>();
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
                        // PINGs are acked by hand, so a test can make the endpoint stop answering them
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().initialSettings(settings)
                                .autoAckPingFrame(false).build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                            @Override
                            protected void initChannel(Http2StreamChannel stream) {
                                stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true),
                                        new HttpObjectAggregator(1 << 20), new Responder());
                            }
                        }));
                        ch.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof Http2PingFrame ping && !ping.ack()) {
                                    pings.incrementAndGet();
                                    if (answerPings.get()) ctx.writeAndFlush(new DefaultHttp2PingFrame(ping.content(), true));
                                    else unansweredPings.incrementAndGet();
                                }
                                io.netty.util.ReferenceCountUtil.release(msg);
                            }
                        });
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

    /** PINGs received (not acks). */
    int pings() {
        return pings.get();
    }

    /** PINGs that got no ack (received while {@link #answerPings} was off). */
    int unansweredPings() {
        return unansweredPings.get();
    }

    /** Whether PINGs get their ack. */
    void answerPings(boolean answer) {
        answerPings.set(answer);
    }

    /** TCP connections open now. */
    int openConnections() {
        return connections.size();
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

    /**
     * Writes {@code total} bytes in 16 KiB DATA frames, only while the stream is writable (its flow-control window
     * open), counting what was written: a reader that stalls holds the writer back.
     */
    private static final class Streamer {
        private static final byte[] CHUNK = new byte[16 * 1024];
        private final ChannelHandlerContext ctx;
        private final java.util.concurrent.atomic.AtomicLong written;
        private long left;

        Streamer(ChannelHandlerContext ctx, long total, java.util.concurrent.atomic.AtomicLong written) {
            this.ctx = ctx;
            this.left = total;
            this.written = written;
        }

        void start() {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.CONTENT_LENGTH, left);
            ctx.writeAndFlush(head);
            ctx.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
                @Override
                public void channelWritabilityChanged(ChannelHandlerContext c) {
                    pump();
                    c.fireChannelWritabilityChanged();
                }
            });
            pump();
        }

        private void pump() {
            while (left > 0 && ctx.channel().isWritable()) {
                int n = (int) Math.min(CHUNK.length, left);
                left -= n;
                ByteBuf b = Unpooled.wrappedBuffer(CHUNK, 0, n);
                Object piece = left == 0 ? new DefaultLastHttpContent(b) : new DefaultHttpContent(b);
                ctx.writeAndFlush(piece).addListener(f -> {
                    if (f.isSuccess()) written.addAndGet(n);
                });
            }
        }
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
            if (path.startsWith("/stream/")) {
                String[] parts = path.split("/");
                new Streamer(ctx, Long.parseLong(parts[2]),
                        streamed.computeIfAbsent(parts[3], k -> new java.util.concurrent.atomic.AtomicLong())).start();
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
