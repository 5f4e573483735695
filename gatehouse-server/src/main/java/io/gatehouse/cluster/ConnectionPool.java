package io.gatehouse.cluster;

import io.gatehouse.config.ClusterConfig;
import io.gatehouse.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.gatehouse.http.Http1ClientCodec;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.ConnectException;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive connections of one cluster on one event loop, per endpoint (or, for a cluster spoken to in HTTP/2, the
 * multiplexed connections of an {@link Http2ConnectionPool} it hands over to). Confined to that event loop, so it needs
 * no locks; an exchange always gets connections from the pool of its own event loop.
 */
public final class ConnectionPool implements UpstreamConnection.Home {
    private final Cluster cluster;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final Map<Endpoint, ArrayDeque<UpstreamConnection>> idle = new IdentityHashMap<>();
    private int idleCount;
    private ScheduledFuture<?> sweeper;
    private final Http2ConnectionPool http2;   // null unless the cluster speaks h2/h2c to its endpoints

    ConnectionPool(Cluster cluster, EventLoop loop, Transport transport) {
        this.cluster = cluster;
        this.loop = loop;
        ClusterConfig config = cluster.config();
        this.http2 = config.http2Upstream() ? new Http2ConnectionPool(cluster, loop, transport) : null;
        this.bootstrap = transport.clientBootstrap(loop, config.timeouts().connect(), false);
    }

    /**
     * A connection to {@code endpoint}: an idle one at once, or a new one when connected. Exactly one of
     * {@link UpstreamConnection.Owner#onConnected} and {@link UpstreamConnection.Owner#onConnectFailed} runs, on this
     * pool's event loop, the latter with a short reason ({@code connect_refused}, {@code connect_timeout},
     * {@code connect_failed}, {@code cluster_max_connections}, {@code cluster_max_pending}).
     */
    public void acquire(Endpoint endpoint, UpstreamConnection.Owner owner) {
        if (http2 != null) {
            http2.acquire(endpoint, owner);
            return;
        }
        ArrayDeque<UpstreamConnection> q = idle.get(endpoint);
        if (q != null) {
            UpstreamConnection c;
            while ((c = q.pollLast()) != null) {   // most recently used first: warmest, least likely stale
                idleCount--;
                if (c.channel().isActive()) {
                    c.attach(owner, true);
                    owner.onConnected(c, true);
                    return;
                }
            }
        }
        String refused = cluster.admitNewConnection();
        if (refused != null) {
            owner.onConnectFailed(refused);
            return;
        }
        open(endpoint, owner, this);
    }

    /**
     * A connection of its own for a health probe: always new, closed after the probe, outside the cluster's
     * connection limits and counts (a probe must not be refused by the load it checks, nor show as traffic), but
     * made like any other (same bootstrap, TLS and codec). Toward an HTTP/2 cluster with {@code http}, a stream like
     * the traffic's, on the pool's connections.
     */
    void acquireForProbe(Endpoint endpoint, UpstreamConnection.Owner owner, boolean http) {
        if (http && http2 != null) {
            http2.acquire(endpoint, owner);
            return;
        }
        open(endpoint, owner, probes);
    }

    /** Where probe connections go back to: nowhere (closed), and not counted. */
    private final UpstreamConnection.Home probes = new UpstreamConnection.Home() {
        @Override public void offer(UpstreamConnection c) { c.channel().close(); }
        @Override public void opened(UpstreamConnection c) {}
        @Override public void closed(UpstreamConnection c) {}
        @Override public io.netty.util.concurrent.Ticker ticker() { return cluster.ticker(); }
    };

    private void open(Endpoint endpoint, UpstreamConnection.Owner owner, UpstreamConnection.Home home) {
        boolean counted = home == this;
        UpstreamConnection conn = new UpstreamConnection(endpoint, home);
        conn.attach(owner, false);
        ChannelFuture f = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (cluster.tls() != null) ch.pipeline().addLast("tls", cluster.tls().newHandler(ch, endpoint.authority()));
                // our strict response decoder (ASCII headers, re-encoded toward the client without char copies)
                Http1ClientCodec.addTo(ch.pipeline(), "http", 8192, 64 * 1024);
                ch.pipeline().addLast("connection", conn);
            }
        }).connect(endpoint.socketAddress());
        f.addListener(done -> {
            if (counted) cluster.pendingDone();
            io.netty.handler.ssl.SslHandler ssl = done.isSuccess() ? f.channel().pipeline().get(io.netty.handler.ssl.SslHandler.class) : null;
            if (ssl != null) {
                // TLS: the connection is ready once the handshake (and certificate and name checks) passed
                ssl.handshakeFuture().addListener(hs -> {
                    if (hs.isSuccess()) {
                        owner.onConnected(conn, false);
                    } else {
                        conn.attach(null, false); // the close that follows is not the owner's business
                        owner.onConnectFailed(io.gatehouse.tls.UpstreamTls.reason(hs.cause()));
                    }
                });
            } else if (done.isSuccess()) {
                owner.onConnected(conn, false);
            } else {
                if (counted) cluster.connectionAborted();
                Throwable cause = done.cause();
                String reason = cause instanceof ConnectTimeoutException ? "connect_timeout"
                        : cause instanceof ConnectException ? "connect_refused" : "connect_failed";
                owner.onConnectFailed(reason);
            }
        });
    }

    @Override
    public void offer(UpstreamConnection c) {
        ArrayDeque<UpstreamConnection> q = idle.computeIfAbsent(c.endpoint(), e -> new ArrayDeque<>());
        if (q.size() >= cluster.config().connectionPool().maxIdlePerEndpoint() || cluster.closed()
                || c.endpoint().retired()) {
            c.channel().close();
            return;
        }
        c.idleSinceNanos = cluster.ticker().nanoTime();
        q.addLast(c);
        idleCount++;
        // keep a read armed while idle, so an endpoint closing the connection is noticed before it is reused
        c.channel().read();
        if (sweeper == null) {
            long period = Math.max(100, cluster.config().connectionPool().idleTimeout().toMillis() / 4);
            sweeper = loop.scheduleAtFixedRate(this::sweep, period, period, TimeUnit.MILLISECONDS);
        }
    }

    /** Closes connections idle longer than the pool's idle timeout. */
    private void sweep() {
        long now = cluster.ticker().nanoTime();
        long max = cluster.config().connectionPool().idleTimeout().toNanos();
        for (ArrayDeque<UpstreamConnection> q : idle.values()) {
            while (!q.isEmpty() && now - q.peekFirst().idleSinceNanos >= max) {
                idleCount--;
                q.pollFirst().channel().close();
            }
        }
        if (idleCount == 0 && sweeper != null) {
            sweeper.cancel(false);
            sweeper = null;
        }
    }

    @Override
    public void opened(UpstreamConnection c) {
        c.endpoint().connectionOpened();
    }

    @Override
    public void closed(UpstreamConnection c) {
        c.endpoint().connectionClosed();
        cluster.connectionClosed();
        ArrayDeque<UpstreamConnection> q = idle.get(c.endpoint());
        if (q != null && q.remove(c)) idleCount--;
    }

    @Override
    public io.netty.util.concurrent.Ticker ticker() {
        return cluster.ticker();
    }

    /** Open HTTP/2 connections to {@code endpoint} on this pool's loop (0 for an HTTP/1.1 cluster). */
    public int http2Connections(Endpoint endpoint) {
        return http2 == null ? 0 : http2.connectionCount(endpoint);
    }

    /** Idle connections now held (admin API). */
    public int idleConnections() {
        return http2 != null ? http2.idleConnections() : idleCount;
    }

    /** Closes the idle connections to {@code gone} (endpoints that left the cluster). */
    void closeIdle(java.util.Collection<Endpoint> gone) {
        for (Endpoint e : gone) {
            ArrayDeque<UpstreamConnection> q = idle.get(e);
            if (q != null) for (UpstreamConnection c : q.toArray(new UpstreamConnection[0])) c.channel().close();
        }
    }

    /** Closes every idle connection (cluster removed or shutting down). */
    void closeIdle() {
        if (http2 != null) http2.closeIdle();
        for (ArrayDeque<UpstreamConnection> q : idle.values()) {
            for (UpstreamConnection c : q.toArray(new UpstreamConnection[0])) c.channel().close();
        }
    }
}
