package io.gatehouse.listener;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.TestBackend;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The known HTTP/2 attacks, each run against Gatehouse with hand-written frames: the offending connection gets
 * GOAWAY with the right error code and is closed (or only the offending stream is refused), and other clients keep
 * being served meanwhile.
 */
class Http2AttackTest {
    static final long PROTOCOL_ERROR = 0x1, REFUSED_STREAM = 0x7, CANCEL = 0x8, ENHANCE_YOUR_CALM = 0xb, NO_ERROR = 0x0;
    static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    final TestBackend backend = new TestBackend().name("b");

    private GatehouseFixture gatehouse(String endpoint) {
        return gatehouse(endpoint, "auto");
    }

    private GatehouseFixture gatehouse(String endpoint, String transport) {
        return GatehouseFixture.start("""
                server: { transport: %s }
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    timeouts: { idle: 2s }
                    http2: { h2c: true, max_resets_per_window: 20, max_control_frames_per_window: 50,
                             max_concurrent_streams: 5, send_timeout: 500ms }
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                """.formatted(transport, endpoint));
    }

    private GatehouseFixture gatehouse() {
        return gatehouse(backend.address());
    }

    /** A fresh HTTP/2 client and an HTTP/1.1 client are both answered. */
    private static void othersAreServed(GatehouseFixture g) {
        try (H2Client c = H2Client.connect(g.address())) {
            assertThat(Http2DownstreamTest.await(c.send(Http2DownstreamTest.get("/other"))).status()).isEqualTo(200);
        }
        assertThat(g.get("/other-h1").statusCode()).isEqualTo(200);
    }

    private static void goAwayAndClose(RawH2 c, long errorCode) {
        RawH2.Frame goAway = c.await(RawH2.GOAWAY, WAIT);
        assertThat(goAway).as("GOAWAY").isNotNull();
        assertThat(goAway.errorCode()).isEqualTo(errorCode);
        assertThat(c.closedByPeer(WAIT)).isTrue();
    }

    @Test
    void rapidResetGetsGoAwayEnhanceYourCalm() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            for (int i = 0, stream = 1; i < 500 && !c.writeFailed(); i++, stream += 2) {
                c.headers(stream, false, RawH2.post("/reset"));
                c.rst(stream, (int) CANCEL);
            }
            goAwayAndClose(c, ENHANCE_YOUR_CALM);
            othersAreServed(g);
        }
    }

    @Test
    void aFloodOfSmallContinuationFramesGetsGoAwayEnhanceYourCalm() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            byte[] block = c.encode(RawH2.get("/cont"));
            c.frame(RawH2.HEADERS, RawH2.END_STREAM, 1, new byte[] {block[0]}); // no END_HEADERS
            for (int i = 0; i < 10_000 && !c.writeFailed(); i++) c.frame(RawH2.CONTINUATION, 0, 1, new byte[] {0});
            goAwayAndClose(c, ENHANCE_YOUR_CALM);
            othersAreServed(g);
        }
    }

    @Test
    void aHeaderBlockGrowingPastTheHeaderListLimitThroughContinuationsEndsTheConnection() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            c.frame(RawH2.HEADERS, RawH2.END_STREAM, 1, new byte[16_000]);
            byte[] big = new byte[16_000];
            // without a bound this would buffer 1.6 GB; the limit is max_header_list_size (16 KiB) plus a quarter
            for (int i = 0; i < 100_000 && !c.writeFailed(); i++) c.frame(RawH2.CONTINUATION, 0, 1, big);
            goAwayAndClose(c, PROTOCOL_ERROR);
            othersAreServed(g);
        }
    }

    @Test
    void aSettingsFloodGetsGoAwayEnhanceYourCalm() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            for (int i = 0; i < 10_000 && !c.writeFailed(); i++) c.settings(0x3, 100);
            goAwayAndClose(c, ENHANCE_YOUR_CALM);
            othersAreServed(g);
        }
    }

    /**
     * The lingering close after a flood's GOAWAY, on io_uring too: shutting the output inside the GOAWAY write's
     * completion once made that transport's write accounting throw and stopped the event loop.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"epoll", "io_uring"})
    void floodsGetGoAwayAndTheEventLoopLivesOnOnEveryNativeTransport(String transport) {
        org.junit.jupiter.api.Assumptions.assumeTrue(transport.equals("epoll")
                ? io.netty.channel.epoll.Epoll.isAvailable() : io.netty.channel.uring.IoUring.isAvailable(), transport);
        try (GatehouseFixture g = gatehouse(backend.address(), transport)) {
            for (int round = 0; round < 3; round++) {
                try (RawH2 c = RawH2.connect(g.address())) {
                    for (int i = 0; i < 10_000 && !c.writeFailed(); i++) c.ping();
                    goAwayAndClose(c, ENHANCE_YOUR_CALM);
                }
                try (RawH2 c = RawH2.connect(g.address())) {
                    for (int i = 0; i < 10_000 && !c.writeFailed(); i++) c.settings(0x3, 100);
                    goAwayAndClose(c, ENHANCE_YOUR_CALM);
                }
            }
            othersAreServed(g);
        }
    }

    @Test
    void aPingFloodGetsGoAwayEnhanceYourCalm() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            for (int i = 0; i < 10_000 && !c.writeFailed(); i++) c.ping();
            goAwayAndClose(c, ENHANCE_YOUR_CALM);
            othersAreServed(g);
        }
    }

    @Test
    void aFloodOfEmptyDataFramesGetsGoAwayEnhanceYourCalm() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            c.headers(1, false, RawH2.post("/empty"));
            for (int i = 0; i < 10_000 && !c.writeFailed(); i++) c.data(1, false, new byte[0]);
            goAwayAndClose(c, ENHANCE_YOUR_CALM);
            othersAreServed(g);
        }
    }

    @Test
    void aFloodOfEmptyHeadersFramesGetsGoAwayEnhanceYourCalm() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            // each one is a malformed request (no pseudo-headers): a stream error the client provokes at will
            for (int i = 0, stream = 1; i < 10_000 && !c.writeFailed(); i++, stream += 2) {
                c.frame(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, stream, new byte[0]);
            }
            goAwayAndClose(c, ENHANCE_YOUR_CALM);
            othersAreServed(g);
            assertThat(backend.requestCount()).isEqualTo(2); // only the other clients' requests
        }
    }

    @Test
    void aClientThatReadsSlowlyStillGetsTheGoAwayOfAFloodLimit() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connectNotReading(g.address(), 1024)) {
            Listener edge = g.gatehouse().listeners().getFirst();
            // the server answers each malformed request with RST_STREAM until Netty's limit on resets sent; the
            // client reads none of them, so its small receive window fills and the GOAWAY waits in the server's
            // socket behind them, unsent
            for (int i = 0, stream = 1; i < 10_000 && !c.writeFailed(); i++, stream += 2) {
                c.frame(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, stream, new byte[0]);
            }
            // the server has given up on the connection (counted it, or closed it)
            await().atMost(WAIT).until(() -> edge.rejectedCount() > 0 || edge.connectionCount() == 0);
            assertThat(c.unread()).isPositive();
            // a close with the flood unread would have reset the connection and dropped the unsent GOAWAY; a
            // lingering close keeps it until the client reads
            c.startReading();
            goAwayAndClose(c, ENHANCE_YOUR_CALM);
            assertThat(edge.rejectedCount()).isEqualTo(1);
            othersAreServed(g);
        }
    }

    @Test
    void anHpackBombIsAnswered431AndTheConnectionGoesOn() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            String big = "x".repeat(1000);
            // stream 1 puts a 1 KB field into the dynamic table; stream 3 refers to it 40 times in a few bytes
            c.headers(1, true, RawH2.get("/one").add("x-big", big));
            assertThat(c.awaitAnswer(1, WAIT).status()).isEqualTo("200");
            DefaultHttp2Headers bomb = (DefaultHttp2Headers) RawH2.get("/bomb");
            for (int i = 0; i < 40; i++) bomb.add("x-big", big);
            byte[] block = c.encode(bomb);
            assertThat(block.length).isLessThan(200);
            c.frame(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 3, block);
            RawH2.Frame answer = c.awaitAnswer(3, WAIT);
            assertThat(answer.type()).isEqualTo(RawH2.HEADERS);
            assertThat(answer.status()).isEqualTo("431");
            c.headers(5, true, RawH2.get("/after"));
            assertThat(c.awaitAnswer(5, WAIT).status()).isEqualTo("200");
            assertThat(backend.requestCount()).isEqualTo(2); // the bomb never reached it
        }
    }

    @Test
    void streamsBeyondMaxConcurrentStreamsAreRefused() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            for (int stream = 1; stream <= 9; stream += 2) c.headers(stream, false, RawH2.post("/slow")); // 5 open
            c.headers(11, false, RawH2.post("/one-too-many"));
            RawH2.Frame refused = c.awaitAnswer(11, WAIT);
            assertThat(refused.type()).isEqualTo(RawH2.RST_STREAM);
            assertThat(refused.errorCode()).isEqualTo(REFUSED_STREAM);
            // the open ones go on
            c.data(1, true, "body".getBytes());
            assertThat(c.awaitAnswer(1, WAIT).type()).isEqualTo(RawH2.HEADERS);
            othersAreServed(g);
        }
    }

    @Test
    void aClientThatNeverOpensItsWindowHasItsStreamResetAndConnectionClosedWhileUpstreamReadingStops() throws Exception {
        AtomicLong written = new AtomicLong();
        try (EndlessBackend origin = new EndlessBackend(written);
             GatehouseFixture g = gatehouse("127.0.0.1:" + origin.port());
             RawH2 c = RawH2.connect(g.address(), 0x4, 0)) { // SETTINGS_INITIAL_WINDOW_SIZE = 0
            c.headers(1, true, RawH2.get("/big"));
            assertThat(c.awaitAnswer(1, WAIT).type()).isEqualTo(RawH2.HEADERS); // 200 head: not flow-controlled
            RawH2.Frame reset = c.awaitAnswer(1, WAIT);
            assertThat(reset.type()).isEqualTo(RawH2.RST_STREAM);
            assertThat(reset.errorCode()).isEqualTo(CANCEL);
            // while the client read nothing, Gatehouse stopped reading the upstream: only socket buffers' worth went out
            assertThat(written.get()).isLessThan(32L << 20);
            goAwayAndClose(c, NO_ERROR); // idle without streams
            othersAreServed(g);
        }
    }

    /** An origin that answers every request with an endless body, written only while the socket takes it. */
    static final class EndlessBackend implements AutoCloseable {
        private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        private final Channel server;

        EndlessBackend(AtomicLong written) throws InterruptedException {
            server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new ChannelInboundHandlerAdapter() {
                                boolean streaming;

                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    if (msg instanceof HttpRequest req && !req.uri().equals("/big")) {
                                        io.netty.handler.codec.http.FullHttpResponse ok = new io.netty.handler.codec.http.DefaultFullHttpResponse(
                                                HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer("ok".getBytes()));
                                        ok.headers().set(HttpHeaderNames.CONTENT_LENGTH, 2);
                                        ctx.writeAndFlush(ok);
                                    } else if (msg instanceof HttpRequest) {
                                        DefaultHttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                                        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, 1L << 40);
                                        ctx.write(r);
                                        streaming = true;
                                    }
                                    if (msg instanceof LastHttpContent && streaming) pump(ctx);
                                    ReferenceCountUtil.release(msg);
                                }

                                @Override
                                public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                                    pump(ctx);
                                }

                                private boolean pumping;

                                private void pump(ChannelHandlerContext ctx) {
                                    // the flush fires writability changes: the loop here takes them, instead of a
                                    // nested pump writing through the encoder while it is still in a write
                                    if (pumping) return;
                                    pumping = true;
                                    try {
                                        while (streaming && ctx.channel().isWritable()) {
                                            while (streaming && ctx.channel().isWritable()) {
                                                written.addAndGet(16384);
                                                ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[16384])));
                                            }
                                            ctx.flush();
                                        }
                                    } finally {
                                        pumping = false;
                                    }
                                }
                            });
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        }

        int port() {
            return ((InetSocketAddress) server.localAddress()).getPort();
        }

        @Override
        public void close() {
            server.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
