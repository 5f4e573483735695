package io.gatehouse.cluster;

import io.gatehouse.config.ClusterConfig;
import io.gatehouse.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Multiplexed HTTP/2 connections of one cluster on one event loop, per endpoint ({@code protocol: h2} or {@code h2c}).
 * An exchange gets a stream: on a connection with fewer active streams than the endpoint's
 * SETTINGS_MAX_CONCURRENT_STREAMS, else on a new connection (within the cluster's {@code max_connections}). The stream
 * is handed out as an {@link UpstreamConnection} whose channel is the stream's child channel speaking
 * {@link io.netty.handler.codec.http.HttpObject}s, so the proxy drives it exactly like an HTTP/1.1 connection,
 * backpressure included (auto-read off per stream; HTTP/2 flow control does the rest).
 *
 * <p>A GOAWAY takes the connection out of service: no new streams, streams up to its last-stream-id finish, the ones
 * above learn they were refused (safe to retry). Confined to the event loop, no locks.
 */
final class Http2ConnectionPool {
    private static final Logger log = LoggerFactory.getLogger(Http2ConnectionPool.class);
    /** Response bytes one connection buffers for all its streams together (each stream: 64 KiB at most). */
    static final int CONNECTION_WINDOW = 1 << 20;

    private final Cluster cluster;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final boolean tls;
    private final Map<Endpoint, List<Connection>> connections = new IdentityHashMap<>();
    private ScheduledFuture<?> sweeper;

    Http2ConnectionPool(Cluster cluster, EventLoop loop, Transport transport) {
        this.cluster = cluster;
        this.loop = loop;
        this.tls = cluster.config().protocol() == io.gatehouse.config.ClusterProtocol.H2;
        ClusterConfig config = cluster.config();
        // the connection reads for all its streams; each stream reads only when its exchange asks
        this.bootstrap = transport.clientBootstrap(loop, config.timeouts().connect(), true);
    }

    /** Same contract as {@link ConnectionPool#acquire}: exactly one of onConnected / onConnectFailed, on this loop. */
    void acquire(Endpoint endpoint, UpstreamConnection.Owner owner) {
        List<Connection> list = connections.get(endpoint);
        if (list != null) {
            // the busiest connection with room first: streams pack onto few connections and the rest idle out
            Connection best = null;
            for (Connection c : list) {
                if (c.canOpenStream() && (best == null || c.active > best.active)) best = c;
            }
            if (best != null) {
                best.openStream(owner);
                return;
            }
            for (Connection c : list) {
                if (c.acceptsWaiter()) {
                    c.waiters.add(owner);
                    return;
                }
            }
        }
        String refused = cluster.admitNewConnection();
        if (refused != null) {
            owner.onConnectFailed(refused);
            return;
        }
        Connection conn = new Connection(endpoint);
        conn.waiters.add(owner);
        connections.computeIfAbsent(endpoint, e -> new ArrayList<>(2)).add(conn);
        conn.connect();
    }

    /** Connections without active streams (admin API's idle count). */
    int idleConnections() {
        int n = 0;
        for (List<Connection> list : connections.values()) {
            for (Connection c : list) if (c.ready && c.active == 0) n++;
        }
        return n;
    }

    /** Open connections to {@code endpoint} on this loop (tests and stats). */
    int connectionCount(Endpoint endpoint) {
        List<Connection> list = connections.get(endpoint);
        return list == null ? 0 : list.size();
    }

    void closeIdle() {
        for (List<Connection> list : connections.values()) {
            for (Connection c : list.toArray(new Connection[0])) if (c.active == 0 && c.waiters.isEmpty()) c.channel.close();
        }
    }

    private void ensureSweeper() {
        if (sweeper != null) return;
        ClusterConfig config = cluster.config();
        long every = config.connectionPool().idleTimeout().toMillis();
        if (config.http2().pingInterval() != null) {
            // keepalive is checked by the same sweep: often enough for the PING interval and its ack's timeout
            every = Math.min(every, Math.min(config.http2().pingInterval().toMillis(), config.http2().pingTimeout().toMillis()));
        }
        long period = Math.max(50, every / 4);
        sweeper = loop.scheduleAtFixedRate(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    /** Closes connections without streams for longer than the idle timeout; PINGs quiet ones when configured. */
    private void sweep() {
        long now = cluster.ticker().nanoTime();
        long idleMax = cluster.config().connectionPool().idleTimeout().toNanos();
        ClusterConfig.Http2Config h2 = cluster.config().http2();
        int open = 0;
        for (List<Connection> list : connections.values()) {
            for (Connection c : list.toArray(new Connection[0])) {
                open++;
                if (!c.ready) {
                    // connected but no SETTINGS from the endpoint within the connect timeout: not an HTTP/2 server
                    if (now - c.connectedNanos >= cluster.config().timeouts().connect().toNanos()) c.channel.close();
                    continue;
                }
                if (c.active == 0 && now - c.idleSinceNanos >= idleMax) {
                    c.channel.close();
                    continue;
                }
                if (h2.pingInterval() != null) c.keepalive(now, h2.pingInterval().toNanos(), h2.pingTimeout().toNanos());
            }
        }
        if (open == 0 && sweeper != null) {
            sweeper.cancel(false);
            sweeper = null;
        }
    }

    private static String connectFailure(Throwable cause) {
        return cause instanceof ConnectTimeoutException ? "connect_timeout"
                : cause instanceof ConnectException ? "connect_refused" : "connect_failed";
    }

    /** One HTTP/2 connection to an endpoint and the streams on it. */
    private final class Connection extends ChannelInboundHandlerAdapter implements UpstreamConnection.Home {
        /** Waiters one connection takes before it learns the endpoint's limit (RFC 9113 suggests at least 100). */
        private static final int PROVISIONAL_STREAMS = 100;

        final Endpoint endpoint;
        final ArrayDeque<UpstreamConnection.Owner> waiters = new ArrayDeque<>(2);
        Channel channel;
        boolean ready;            // the endpoint's first SETTINGS arrived: we know its stream limit
        boolean goingAway;        // GOAWAY received or sent: no new streams
        boolean counted;          // counted in the cluster's and endpoint's open connections
        int active;               // streams open or opening
        int maxStreams = PROVISIONAL_STREAMS;
        boolean carriedStream;    // a stream ran on it before (for "reused")
        long idleSinceNanos;
        long lastReadNanos;
        long connectedNanos;
        long pingSentNanos;       // 0: no keepalive PING outstanding

        Connection(Endpoint endpoint) {
            this.endpoint = endpoint;
        }

        boolean canOpenStream() {
            return ready && !goingAway && channel.isActive() && active < maxStreams;
        }

        boolean acceptsWaiter() {
            return !ready && !goingAway && waiters.size() < maxStreams;
        }

        void connect() {
            Connection self = this;
            ChannelFuture f = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    channel = ch;
                    ch.pipeline().addLast("connection", self);
                    if (tls) {
                        // HTTP/2 starts only once ALPN agreed on h2: nothing (not even the preface) goes to an
                        // endpoint that did not
                        ch.pipeline().addFirst("tls", cluster.tls().newHandler(ch, endpoint.authority()));
                    } else {
                        addHttp2(ch);
                    }
                }
            }).connect(endpoint.socketAddress());
            f.addListener(done -> {
                cluster.pendingDone();
                if (!done.isSuccess()) {
                    cluster.connectionAborted();
                    remove();
                    failWaiters(connectFailure(done.cause()));
                    return;
                }
                counted = true;
                endpoint.connectionOpened();
                lastReadNanos = cluster.ticker().nanoTime();
                connectedNanos = lastReadNanos;
                ensureSweeper();
                SslHandler ssl = channel.pipeline().get(SslHandler.class);
                if (ssl != null) {
                    ssl.handshakeFuture().addListener(hs -> {
                        if (!hs.isSuccess()) {
                            failWaiters(io.gatehouse.tls.UpstreamTls.reason(hs.cause()));
                            channel.close();
                        } else if (!ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol())) {
                            log.debug("cluster {}: {} did not agree to h2 in ALPN", cluster.name(), endpoint);
                            failWaiters("tls_alpn_no_h2");
                            channel.close();
                        } else {
                            addHttp2(channel);
                        }
                    });
                }
            });
        }

        private void addHttp2(Channel ch) {
            Http2Settings settings = Http2Settings.defaultSettings().pushEnabled(false);
            Http2FrameCodec codec = Http2FrameCodecBuilder.forClient().initialSettings(settings).validateHeaders(true).build();
            ch.pipeline().addBefore("connection", "h2", codec);
            // no handler for streams the endpoint opens: push is disabled, so there are none
            ch.pipeline().addBefore("connection", "multiplex", new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
        }

        private void failWaiters(String reason) {
            UpstreamConnection.Owner o;
            while ((o = waiters.poll()) != null) o.onConnectFailed(reason);
        }

        void openStream(UpstreamConnection.Owner owner) {
            active++;
            boolean reused = carriedStream;
            carriedStream = true;
            UpstreamConnection stream = new UpstreamConnection(endpoint, this);
            stream.attach(owner, reused);
            new Http2StreamChannelBootstrap(channel)
                    .option(ChannelOption.AUTO_READ, false)
                    .handler(new ChannelInitializer<Http2StreamChannel>() {
                        @Override
                        protected void initChannel(Http2StreamChannel ch) {
                            ch.pipeline().addLast("codec", new Http2StreamFrameToHttpObjectCodec(false, true));
                            ch.pipeline().addLast("requests", new Http2Requests());
                            ch.pipeline().addLast("responses", new Http2Responses());
                            ch.pipeline().addLast("connection", stream);
                        }
                    })
                    .open()
                    .addListener(done -> {
                        if (done.isSuccess()) {
                            owner.onConnected(stream, reused);
                        } else {
                            active--;
                            stream.attach(null, false);
                            // the connection broke or went away between the pick and the stream: nothing was sent
                            owner.onConnectFailed("connect_failed");
                        }
                    });
        }

        // ---- the connection's own events ----

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            lastReadNanos = cluster.ticker().nanoTime();
            try {
                if (msg instanceof Http2SettingsFrame s) {
                    Long max = s.settings().maxConcurrentStreams();
                    if (max != null) maxStreams = (int) Math.min(Math.min(max, Integer.MAX_VALUE), cluster.config().http2().maxConcurrentStreams());
                    else if (!ready) maxStreams = cluster.config().http2().maxConcurrentStreams();
                    if (!ready) {
                        ready = true;
                        idleSinceNanos = lastReadNanos;
                        // a stream whose client does not read keeps its window's worth unconsumed; with only the
                        // default 64 KiB for the whole connection, one such stream would stall all the others
                        ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE));
                        serveWaiters();
                    }
                } else if (msg instanceof Http2GoAwayFrame g) {
                    log.debug("cluster {}: GOAWAY from {} (last stream {}, error {})", cluster.name(), endpoint,
                            g.lastStreamId(), g.errorCode());
                    goingAway = true;
                    UpstreamConnection.Owner o;
                    while ((o = waiters.poll()) != null) acquire(endpoint, o); // elsewhere
                    if (active == 0) channel.close();
                } else if (msg instanceof Http2PingFrame p && p.ack()) {
                    pingSentNanos = 0;
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void serveWaiters() {
            UpstreamConnection.Owner o;
            while (active < maxStreams && (o = waiters.poll()) != null) openStream(o);
            // more waiters than the endpoint allows on one connection: they go to another one
            while ((o = waiters.poll()) != null) acquire(endpoint, o);
        }

        void keepalive(long now, long intervalNanos, long timeoutNanos) {
            if (pingSentNanos != 0) {
                if (now - pingSentNanos >= timeoutNanos) {
                    log.debug("cluster {}: no PING ack from {}, closing the connection", cluster.name(), endpoint);
                    channel.close();
                }
            } else if (now - lastReadNanos >= intervalNanos) {
                pingSentNanos = now;
                channel.writeAndFlush(new DefaultHttp2PingFrame(now));
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            remove();
            if (counted) {
                counted = false;
                endpoint.connectionClosed();
                cluster.connectionClosed();
            }
            failWaiters("connect_failed");
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("cluster {}: HTTP/2 connection to {} failed: {}", cluster.name(), endpoint, cause.toString());
            ctx.close();
        }

        private void remove() {
            List<Connection> list = connections.get(endpoint);
            if (list != null && list.remove(this) && list.isEmpty()) connections.remove(endpoint);
        }

        // ---- Home of its streams ----

        @Override
        public void offer(UpstreamConnection stream) {
            // the exchange is done with the stream; both ends already sent END_STREAM, so this close sends nothing
            stream.channel().close();
        }

        @Override
        public void opened(UpstreamConnection stream) {
        }

        @Override
        public void closed(UpstreamConnection stream) {
            active--;
            if (active == 0) {
                idleSinceNanos = cluster.ticker().nanoTime();
                if (goingAway) channel.close();
            }
        }

        @Override
        public io.netty.util.concurrent.Ticker ticker() {
            return cluster.ticker();
        }
    }
}
