package io.gatehouse.listener;

import io.gatehouse.config.Http2Config;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2PriorityFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * One HTTP/2 client connection, from the connection's side: the pipeline that carries it (Netty's frame codec, one
 * child channel per stream, each served by an {@link Http2StreamHandler}) and the guard at its end.
 *
 * <p>Netty enforces most of the known attacks itself once configured: rapid reset (RST_STREAMs received per window),
 * resets the client provokes (stream errors per window), consecutive empty DATA frames, small CONTINUATION frames,
 * header blocks over the header list limit, control frames queued for a client that does not read. All of those end
 * in GOAWAY {@code ENHANCE_YOUR_CALM} (or {@code PROTOCOL_ERROR}) and a close. This guard adds what Netty leaves
 * out: a client that keeps the server busy answering SETTINGS and PING (acks it reads, so nothing queues) or sending
 * PRIORITY frames, and connections that stay open with no stream (idle timeout).
 */
final class Http2Connection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Http2Connection.class);

    private final Listener listener;
    private final Http2Config config;
    final Traffic traffic = new Traffic();
    private ChannelHandlerContext ctx;
    // the same for every stream: read once per connection (the TLS handshake is over before HTTP/2 starts)
    java.net.InetSocketAddress remote;
    io.netty.util.AsciiString remoteIp;
    boolean secure;
    io.gatehouse.tls.ClientCertificate clientCert;

    private long windowStartNanos;
    private int controlFrames;
    private int openStreams;
    private long idleSinceNanos;
    private ScheduledFuture<?> idleTimer;
    private boolean closing;

    private Http2Connection(Listener listener) {
        this.listener = listener;
        this.config = listener.config().http2();
    }

    /** Adds the HTTP/2 handlers to the end of {@code p} (the connection is already active or about to be). */
    static void install(Listener listener, ChannelPipeline p) {
        Http2Config c = listener.config().http2();
        Http2Settings settings = new Http2Settings()
                .maxConcurrentStreams(c.maxConcurrentStreams())
                .initialWindowSize((int) c.initialWindowSize())
                .maxFrameSize((int) c.maxFrameSize())
                .maxHeaderListSize(c.maxHeaderListSize());
        int windowSeconds = (int) Math.max(1, c.floodWindow().toSeconds());
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(settings)
                .validateHeaders(true)
                .validateRequiredPseudoHeaders(true)
                .decoderEnforceMaxRstFramesPerWindow(c.maxResetsPerWindow(), windowSeconds)
                .encoderEnforceMaxRstFramesPerWindow(c.maxResetsPerWindow(), windowSeconds)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(c.maxEmptyFrames())
                .encoderEnforceMaxQueuedControlFrames(c.maxQueuedControlFrames())
                .build();
        Http2Connection connection = new Http2Connection(listener);
        p.addLast("h2-traffic", connection.traffic);
        p.addLast("h2", codec);
        // Each stream's response is flushed when its upstream read ends: many streams end in one event-loop turn, and
        // one flush after all of them makes one TLS record and one write instead of one each
        p.addLast("h2-flush", new io.netty.handler.flush.FlushConsolidationHandler(
                io.netty.handler.flush.FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        p.addLast("h2-streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                // a stream's frames are read only when its exchange asks for them: its window follows consumption
                ch.config().setAutoRead(false);
                ch.pipeline().addLast(new Http2StreamHandler(listener, connection));
            }
        }));
        p.addLast("h2-connection", connection);
    }

    Listener listener() {
        return listener;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.remote = (java.net.InetSocketAddress) ctx.channel().remoteAddress();
        this.remoteIp = remote == null || remote.getAddress() == null ? io.netty.util.AsciiString.cached("unknown")
                : new io.netty.util.AsciiString(remote.getAddress().getHostAddress());
        io.netty.handler.ssl.SslHandler ssl = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class);
        this.secure = ssl != null;
        this.clientCert = ssl == null ? null : io.gatehouse.tls.ClientCertificate.of(ssl.engine());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        listener.connectionOpened(ctx.channel());
        long now = listener.ticker().nanoTime();
        windowStartNanos = now;
        idleSinceNanos = now;
        int extra = (int) (config.connectionWindowSize() - Http2CodecUtil.DEFAULT_WINDOW_SIZE);
        // a stream that is not read must not hold the others back: the connection window covers many streams
        if (extra > 0) ctx.write(new DefaultHttp2WindowUpdateFrame(extra));
        ctx.flush();
        armIdleTimer(listener.config().timeouts().idle().toNanos());
        // HTTP/2 bounds what a client may send by flow control, and acks/window updates must always be read
        ctx.channel().config().setAutoRead(true);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (idleTimer != null) idleTimer.cancel(false);
        listener.connectionClosed(ctx.channel());
        traffic.report();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // only connection-level frames arrive here; stream frames went to their child channels
        try {
            if (msg instanceof Http2SettingsFrame || msg instanceof Http2PingFrame || msg instanceof Http2PriorityFrame) {
                countControlFrame();
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        traffic.report();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("{}: HTTP/2 connection error: {}", ctx.channel().remoteAddress(), cause.toString());
        // a protocol error was already answered by the codec (GOAWAY with its code, then close): closing here first
        // would send GOAWAY NO_ERROR ahead of it
        if (io.netty.handler.codec.http2.Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) traffic.closeNow();
    }

    /** SETTINGS, PING and PRIORITY cost the server work and the client almost none: at most so many per window. */
    private void countControlFrame() {
        long now = listener.ticker().nanoTime();
        if (now - windowStartNanos > config.floodWindow().toNanos()) {
            windowStartNanos = now;
            controlFrames = 0;
        }
        if (++controlFrames > config.maxControlFramesPerWindow()) calm("control_frame_flood");
    }

    /** Called by a stream's handler when its exchange starts. */
    void streamOpened() {
        openStreams++;
    }

    /** Called by a stream's handler when its channel closes. */
    void streamClosed() {
        if (--openStreams == 0) idleSinceNanos = listener.ticker().nanoTime();
    }

    /** GOAWAY ENHANCE_YOUR_CALM and close at once, without waiting for the streams in progress. */
    void calm(String reason) {
        if (closing) return;
        closing = true;
        log.info("listener {}: closing HTTP/2 connection from {}: {}", listener.name(), ctx.channel().remoteAddress(), reason);
        listener.rejected();
        goAwayAndClose(Http2Error.ENHANCE_YOUR_CALM);
    }

    /**
     * Graceful end (shutdown, or the listener removed by a reload): GOAWAY NO_ERROR naming the last stream taken, so
     * the client sends new requests elsewhere and knows they were not processed; open streams finish, then the
     * connection closes. The frame codec does this on a close that passes through it; {@link #closeNow()} cuts it
     * short.
     */
    void drain() {
        if (closing) return;
        closing = true;
        // Http2FrameCodecBuilder's default is not to wait at all: wait for the streams, which end by their own
        // timeouts, or by closeNow() at the end of a shutdown's drain
        ctx.pipeline().get(Http2FrameCodec.class).gracefulShutdownTimeoutMillis(-1);
        ctx.close();
    }

    /** Closes at once, past the codec's graceful wait (the drain timeout is over). */
    void closeNow() {
        closing = true;
        traffic.closeNow();
    }

    private void goAwayAndClose(Http2Error error) {
        ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(error)).addListener(f -> traffic.lingeringClose());
    }

    // ---- idle: no stream open for the listener's idle timeout ----

    private void armIdleTimer(long delayNanos) {
        idleTimer = ctx.executor().schedule(this::onIdleTimer, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void onIdleTimer() {
        idleTimer = null;
        if (closing || !ctx.channel().isActive()) return;
        long idle = listener.config().timeouts().idle().toNanos();
        if (openStreams > 0) {
            armIdleTimer(idle);
            return;
        }
        long waited = listener.ticker().nanoTime() - idleSinceNanos;
        if (waited < idle) {
            armIdleTimer(idle - waited);
            return;
        }
        closing = true;
        goAwayAndClose(Http2Error.NO_ERROR);
    }

    /**
     * Sits in front of the frame codec: counts the connection's bytes for the listener, and closes the connection
     * past the codec (whose own close would wait for open streams to finish).
     */
    /** How long input is still read and dropped after a GOAWAY that ends the connection. */
    static final java.time.Duration LINGER = java.time.Duration.ofSeconds(2);

    final class Traffic extends ChannelDuplexHandler {
        private ChannelHandlerContext ctx;
        private long received;
        private long sent;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        private boolean discarding;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf b) received += b.readableBytes();
            if (discarding) {
                io.netty.util.ReferenceCountUtil.release(msg);
                return;
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (discarding) {
                ctx.read();
                return;
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof ByteBuf b) sent += b.readableBytes();
            else if (msg instanceof ByteBufHolder h) sent += h.content().readableBytes();
            ctx.write(msg, promise);
        }

        void report() {
            listener.countBytes(received, sent);
            received = 0;
            sent = 0;
        }

        void closeNow() {
            ctx.close();
        }

        /**
         * Closes after a GOAWAY the way nginx's lingering close does: output shut (the GOAWAY then a FIN), input read
         * and dropped for up to {@link #LINGER}. Closing with the client's flood still unread would send a reset,
         * which can destroy the GOAWAY before the client reads it.
         */
        void lingeringClose() {
            if (!(ctx.channel() instanceof io.netty.channel.socket.DuplexChannel duplex) || !ctx.channel().isActive()) {
                ctx.close();
                return;
            }
            discarding = true;
            duplex.shutdownOutput().addListener(f -> {
                if (!f.isSuccess()) {
                    ctx.close();
                    return;
                }
                ctx.read();
                ctx.executor().schedule(() -> { ctx.close(); }, LINGER.toMillis(), TimeUnit.MILLISECONDS);
            });
        }
    }
}
