package io.gatehouse.listener;

import io.gatehouse.config.Http2Config;
import io.gatehouse.tls.ClientCertificate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/2 client connection: Netty's HTTP/2 connection handler (frame codec, HPACK, flow control, stream states)
 * with the frames of each stream handed straight to that stream's {@link Http2ServerStream}, which serves it as one
 * exchange. No channel, pipeline or frame object per stream: a stream is one small object, its frames are method
 * calls, and every stream answered in one event-loop turn leaves in one flush.
 *
 * <p>Netty enforces most of the known attacks itself once configured: rapid reset (RST_STREAMs received per window),
 * resets the client provokes (stream errors per window), consecutive empty DATA frames, small CONTINUATION frames,
 * header blocks over the header list limit, control frames queued for a client that does not read. All of those end
 * in GOAWAY {@code ENHANCE_YOUR_CALM} (or {@code PROTOCOL_ERROR}) and a close. This handler adds what Netty leaves
 * out: a client that keeps the server busy answering SETTINGS and PING (acks it reads, so nothing queues) or sending
 * PRIORITY frames, and connections that stay open with no stream (idle timeout).
 */
final class Http2Connection extends Http2ConnectionHandler implements Http2RemoteFlowController.Listener {
    private static final Logger log = LoggerFactory.getLogger(Http2Connection.class);
    /** How long input is still read and dropped after a GOAWAY that ends the connection. */
    static final Duration LINGER = Duration.ofSeconds(2);

    private final Listener listener;
    private final Http2Config config;
    private final io.netty.handler.codec.http2.Http2Connection.PropertyKey streamKey;
    final Traffic traffic = new Traffic();
    private ChannelHandlerContext ctx;

    // the same for every stream: read once per connection (the TLS handshake is over before HTTP/2 starts)
    InetSocketAddress remote;
    io.gatehouse.http.ConnectionInfo info;   // shared by every stream of the connection

    private long windowStartNanos;
    private int controlFrames;
    private long idleSinceNanos;
    private ScheduledFuture<?> idleTimer;
    private boolean closing;
    private boolean aborted;           // ended by GOAWAY with an error (a flood, a protocol violation): nothing more starts
    private boolean reading;           // inside a read of the socket: its channelReadComplete flushes
    private java.util.ArrayList<Http2ServerStream> toDispatch; // request heads of this read, dispatched at its end
    private boolean flushScheduled;
    private final Runnable flushTask = this::scheduledFlush;

    private Http2Connection(Listener listener, Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                            Http2Settings settings) {
        super(decoder, encoder, settings, false, true);
        this.listener = listener;
        this.config = listener.config().http2();
        this.streamKey = connection().newKey();
        decoder.frameListener(new Frames());
        connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                Http2ServerStream s = stream.getProperty(streamKey);
                idleSinceNanos = listener.ticker().nanoTime();
                if (s != null) s.closed();
            }
        });
        encoder.flowController().listener(this);
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
        DefaultHttp2Connection connection = new DefaultHttp2Connection(true);
        // each stream gets its share of the connection in turn; no priority tree to keep (RFC 9113 deprecates it)
        connection.remote().flowController(
                new DefaultHttp2RemoteFlowController(connection, new UniformStreamByteDistributor(connection)));
        Http2Connection handler = new Builder(listener)
                .connection(connection)
                .initialSettings(settings)
                .validateHeaders(true)
                .validateRequiredPseudoHeaders(true)
                .decoderEnforceMaxRstFramesPerWindow(c.maxResetsPerWindow(), windowSeconds)
                .encoderEnforceMaxRstFramesPerWindow(c.maxResetsPerWindow(), windowSeconds)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(c.maxEmptyFrames())
                .encoderEnforceMaxQueuedControlFrames(c.maxQueuedControlFrames())
                .gracefulShutdownTimeoutMillis(0)
                .build();
        p.addLast("h2-traffic", handler.traffic);
        p.addLast("h2", handler);
    }

    /** Netty's builder wires decoder, encoder and the flood limits; this subclass only names what it builds. */
    private static final class Builder extends AbstractHttp2ConnectionHandlerBuilder<Http2Connection, Builder> {
        private final Listener listener;

        Builder(Listener listener) {
            this.listener = listener; // a server: the connection given says so
        }

        @Override protected Builder connection(io.netty.handler.codec.http2.Http2Connection c) { return super.connection(c); }
        @Override protected Builder initialSettings(Http2Settings s) { return super.initialSettings(s); }
        @Override protected Builder validateHeaders(boolean v) { return super.validateHeaders(v); }
        @Override protected Builder validateRequiredPseudoHeaders(boolean v) { return super.validateRequiredPseudoHeaders(v); }
        @Override protected Builder gracefulShutdownTimeoutMillis(long ms) { return super.gracefulShutdownTimeoutMillis(ms); }
        @Override protected Builder decoderEnforceMaxRstFramesPerWindow(int n, int s) { return super.decoderEnforceMaxRstFramesPerWindow(n, s); }
        @Override protected Builder encoderEnforceMaxRstFramesPerWindow(int n, int s) { return super.encoderEnforceMaxRstFramesPerWindow(n, s); }
        @Override protected Builder decoderEnforceMaxConsecutiveEmptyDataFrames(int n) { return super.decoderEnforceMaxConsecutiveEmptyDataFrames(n); }
        @Override protected Builder encoderEnforceMaxQueuedControlFrames(int n) { return super.encoderEnforceMaxQueuedControlFrames(n); }

        @Override
        protected Http2Connection build() {
            return super.build();
        }

        @Override
        protected Http2Connection build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings) {
            return new Http2Connection(listener, decoder, encoder, settings);
        }
    }

    Listener listener() {
        return listener;
    }

    ChannelHandlerContext context() {
        return ctx;
    }

    // ---- connection lifecycle ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        this.remote = (InetSocketAddress) ctx.channel().remoteAddress();
        io.netty.handler.ssl.SslHandler ssl = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class);
        this.info = ssl == null ? io.gatehouse.http.ConnectionInfo.plain(remote) : io.gatehouse.http.ConnectionInfo.tls(remote, ssl.engine());
        super.handlerAdded(ctx);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        super.channelActive(ctx); // the server preface (SETTINGS) goes first
        listener.connectionOpened(ctx.channel());
        long now = listener.ticker().nanoTime();
        windowStartNanos = now;
        idleSinceNanos = now;
        int extra = (int) (config.connectionWindowSize() - Http2CodecUtil.DEFAULT_WINDOW_SIZE);
        // a stream that is not read must not hold the others back: the connection window covers many streams
        if (extra > 0) connection().local().flowController().incrementWindowSize(connection().connectionStream(), extra);
        flush(ctx);
        armIdleTimer(listener.config().timeouts().idle().toNanos());
        // HTTP/2 bounds what a client may send by flow control, and acks/window updates must always be read
        ctx.channel().config().setAutoRead(true);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
            // The client shut its side (FIN, after a TLS close_notify or not). HTTP/2 has no half-close of the
            // connection: acks, window updates and resets ride the side that is gone, so nothing could finish
            // well. Close, as nginx and Go's server do on EOF: every open stream ends as "client gone" and its
            // upstream call is cancelled now, not when the answer finds a dead socket. (The listener allows
            // half-closure for HTTP/1.1, where a request may be answered after the client's FIN.)
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (idleTimer != null) idleTimer.cancel(false);
        super.channelInactive(ctx); // closes every stream: each one's exchange ends as "client gone"
        listener.connectionClosed(ctx.channel());
        traffic.report();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        reading = true;
        // the frames of one read are one dispatch: their streams share one clock reading (see DispatchClock)
        io.gatehouse.transport.DispatchClock.enter();
        try {
            super.channelRead(ctx, msg);
        } finally {
            io.gatehouse.transport.DispatchClock.exit();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        reading = false;
        dispatchRead();
        super.channelReadComplete(ctx); // flushes what the frames just read produced
        traffic.report();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
            // a protocol error: answered here by GOAWAY with its code (or RST_STREAM), then handled by Netty
            super.exceptionCaught(ctx, cause);
            return;
        }
        log.debug("{}: HTTP/2 connection error: {}", remote, cause.toString());
        // during a lingering close, writes queued behind the GOAWAY fail when output is shut: expected, and closing
        // now would reset the connection under a GOAWAY the client may not have read yet
        if (traffic.lingering) return;
        traffic.closeNow(); // the socket itself failed: nothing more can be sent on it
    }

    // ---- what the streams need ----

    /**
     * Flushes once the current event-loop turn ends: the responses of many streams often complete in one turn (one
     * upstream read each), and one flush for all of them makes one TLS record and one write instead of one each.
     */
    void flushSoon() {
        if (reading || flushScheduled) return; // channelReadComplete, or the task already queued, will flush
        flushScheduled = true;
        ctx.executor().execute(flushTask);
    }

    private void scheduledFlush() {
        flushScheduled = false;
        if (ctx.channel().isActive()) flush(ctx);
    }

    ChannelFuture writeHeaders(Http2Stream stream, Http2Headers headers, boolean endStream) {
        return encoder().writeHeaders(ctx, stream.id(), headers, 0, endStream, ctx.newPromise());
    }

    ChannelFuture writeData(Http2Stream stream, ByteBuf data, boolean endStream) {
        return encoder().writeData(ctx, stream.id(), data, 0, endStream, ctx.newPromise());
    }

    void reset(Http2Stream stream, Http2Error error) {
        resetStream(ctx, stream.id(), error.code(), ctx.newPromise());
        flushSoon();
    }

    /** Returns {@code bytes} of a stream's window to the client once its exchange took them. */
    void consumed(Http2Stream stream, int bytes) {
        try {
            if (decoder().flowController().consumeBytes(stream, bytes)) flushSoon(); // a WINDOW_UPDATE was written
        } catch (Http2Exception e) {
            onError(ctx, true, e);
        }
    }

    boolean isWritable(Http2Stream stream) {
        return encoder().flowController().isWritable(stream);
    }

    @Override
    public void writabilityChanged(Http2Stream stream) {
        Http2ServerStream s = stream.getProperty(streamKey);
        if (s != null) s.writabilityChanged(isWritable(stream));
    }

    // ---- frames from the client ----

    /** The connection's frames, each handed to its stream's object. */
    private final class Frames extends Http2FrameAdapter {
        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                                  boolean endStream) {
            Http2Stream stream = connection().stream(streamId);
            if (stream == null) return;
            Http2ServerStream s = stream.getProperty(streamKey);
            try {
                if (s == null) {
                    s = new Http2ServerStream(Http2Connection.this, stream);
                    stream.setProperty(streamKey, s);
                    s.start(headers, endStream);
                } else {
                    s.trailers(headers, endStream);
                }
            } catch (RuntimeException e) {
                failed(s, stream, e);
            }
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
                                  short weight, boolean exclusive, int padding, boolean endStream) {
            onHeadersRead(ctx, streamId, headers, padding, endStream);
        }

        @Override
        public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream) {
            Http2Stream stream = connection().stream(streamId);
            Http2ServerStream s = stream == null ? null : stream.getProperty(streamKey);
            // the data's share of the window returns when the exchange takes it; padding and unwanted data at once
            try {
                if (s == null || !s.data(data, endOfStream)) return data.readableBytes() + padding;
            } catch (RuntimeException e) {
                failed(s, stream, e);
                return data.readableBytes() + padding;
            }
            return padding;
        }

        @Override
        public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {
            countControlFrame();
        }

        @Override
        public void onPingRead(ChannelHandlerContext ctx, long data) {
            countControlFrame();
        }

        @Override
        public void onPriorityRead(ChannelHandlerContext ctx, int streamId, int streamDependency, short weight,
                                   boolean exclusive) {
            countControlFrame();
        }
    }

    /** Dispatches {@code s} at the end of the current read (at once outside one): see {@link Http2ServerStream#dispatch}. */
    void dispatchAfterRead(Http2ServerStream s) {
        if (aborted) return; // closed with the connection, never started
        if (!reading) {
            s.dispatch();
            return;
        }
        if (toDispatch == null) toDispatch = new java.util.ArrayList<>(4);
        toDispatch.add(s);
    }

    private void dispatchRead() {
        java.util.ArrayList<Http2ServerStream> list = toDispatch;
        if (list == null || list.isEmpty()) return;
        if (aborted) {
            // The read ended the connection with an error. The reset that crosses the flood limit is never applied to
            // its stream (the limit throws first), so that stream's head, read just before, is still here: started,
            // it would open a connection to an endpoint for an attacker's request (RapidResetTest).
            list.clear();
            return;
        }
        io.gatehouse.transport.DispatchClock.enter(); // as the frames of the read did
        try {
            for (int i = 0; i < list.size(); i++) {
                Http2ServerStream s = list.get(i);
                try {
                    s.dispatch();
                } catch (RuntimeException e) {
                    failed(s, s.stream(), e);
                }
            }
        } finally {
            list.clear();
            io.gatehouse.transport.DispatchClock.exit();
        }
    }

    /** A fault of ours while serving one stream ends that stream only, never the connection and its other streams. */
    private void failed(Http2ServerStream s, Http2Stream stream, RuntimeException e) {
        log.warn("{}: stream {} failed: {}", remote, stream.id(), e.toString(), e);
        if (s != null) s.internalError();
        else reset(stream, Http2Error.INTERNAL_ERROR);
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

    // ---- ending the connection ----

    /** GOAWAY ENHANCE_YOUR_CALM and close at once, without waiting for the streams in progress. */
    void calm(String reason) {
        if (closing) return;
        closing = true;
        log.info("listener {}: closing HTTP/2 connection from {}: {}", listener.name(), remote, reason);
        listener.rejected();
        goAwayAndClose(Http2Error.ENHANCE_YOUR_CALM);
    }

    /**
     * Graceful end (shutdown, or the listener removed by a reload): GOAWAY NO_ERROR naming the last stream taken, so
     * the client sends new requests elsewhere and knows they were not processed; open streams finish, then the
     * connection closes. Netty's handler does this on a close that passes through it; {@link #closeNow()} cuts it
     * short.
     */
    void drain() {
        if (closing) return;
        closing = true;
        // wait for the streams, which end by their own timeouts, or by closeNow() at the end of a shutdown's drain
        gracefulShutdownTimeoutMillis(-1);
        ctx.channel().close(); // from the tail, so through this handler's graceful close
    }

    /** Closes at once, past the graceful wait (the drain timeout is over). */
    void closeNow() {
        closing = true;
        traffic.closeNow();
    }

    /**
     * A connection error found by Netty (a protocol violation, or one of its flood limits: resets sent or received,
     * queued control frames): GOAWAY with its code, then the lingering close, as for the limits of this class.
     * Netty's own handling closes as soon as the GOAWAY is handed to the socket; with the client's frames still
     * unread, the kernel then answers with a reset and drops what it had not sent yet, the GOAWAY included, so a
     * client reading slowly never learned why it was cut off.
     */
    @Override
    protected void onConnectionError(ChannelHandlerContext ctx, boolean outbound, Throwable cause, Http2Exception http2Ex) {
        if (http2Ex != null && http2Ex.shutdownHint() == Http2Exception.ShutdownHint.GRACEFUL_SHUTDOWN) {
            super.onConnectionError(ctx, outbound, cause, http2Ex);
            return;
        }
        Http2Error error = http2Ex == null ? Http2Error.INTERNAL_ERROR : http2Ex.error();
        if (!closing) {
            closing = true;
            listener.rejected();
            if (error == Http2Error.ENHANCE_YOUR_CALM) {
                log.info("listener {}: closing HTTP/2 connection from {}: {}", listener.name(), remote, cause.getMessage());
            } else {
                log.debug("listener {}: closing HTTP/2 connection from {}: {} {}", listener.name(), remote, error, cause.getMessage());
            }
        }
        goAwayAndClose(error);
    }

    private void goAwayAndClose(Http2Error error) {
        if (error != Http2Error.NO_ERROR) aborted = true; // the idle close's GOAWAY is no error, and nothing is queued then
        if (traffic.lingering) return; // the first GOAWAY is on its way; shutting output before it is out would drop it
        traffic.lingering = true;
        ChannelPromise sent = ctx.newPromise();
        goAway(ctx, connection().remote().lastStreamCreated(), error.code(), Unpooled.EMPTY_BUFFER, sent);
        flush(ctx);
        // From a task of its own, not inside the write's completion: the transport is still accounting the written
        // bytes against the outbound buffer when the promise fires, and shutting the output drops that buffer under
        // it (io_uring: an AssertionError in ChannelOutboundBuffer.removeBytes that stops the event loop under -ea).
        sent.addListener(f -> ctx.executor().execute(traffic::lingeringClose));
    }

    // ---- idle: no stream open for the listener's idle timeout ----

    private void armIdleTimer(long delayNanos) {
        idleTimer = ctx.executor().schedule(this::onIdleTimer, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void onIdleTimer() {
        idleTimer = null;
        if (closing || !ctx.channel().isActive()) return;
        long idle = listener.config().timeouts().idle().toNanos();
        if (connection().numActiveStreams() > 0) {
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
     * Sits in front of the HTTP/2 handler: counts the connection's bytes for the listener, and closes the connection
     * past the handler (whose own close would wait for open streams to finish).
     */
    final class Traffic extends ChannelDuplexHandler {
        private ChannelHandlerContext ctx;
        private long received;
        private long sent;
        private boolean discarding;
        /** A lingering close is on its way: closes asked for meanwhile wait for it (see {@link #close}). */
        boolean lingering;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

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

        /**
         * A close passing through while a lingering close is on its way waits for it: Netty's flood limits close
         * right after reporting the error, which would reset the connection under the GOAWAY. {@link #closeNow()}
         * and the lingering close itself start below this handler, so they never wait here.
         */
        @Override
        public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
            if (lingering && ctx.channel().isActive()) {
                ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
                return;
            }
            ctx.close(promise);
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
