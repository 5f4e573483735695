package io.gatehouse.cluster;

import io.gatehouse.transport.DispatchClock;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * One connection to an endpoint, owned by one exchange at a time or idle in its {@link ConnectionPool}; or, toward an
 * HTTP/2 endpoint, one stream of a multiplexed connection (its channel is then the stream's child channel, which speaks
 * the same {@link HttpObject}s). It is also the last handler of that channel's pipeline and passes every event to its
 * current owner.
 */
public final class UpstreamConnection extends ChannelInboundHandlerAdapter {

    /** Where the connection (or stream) goes back to: the keep-alive pool, or its HTTP/2 connection. */
    interface Home {
        void offer(UpstreamConnection c);
        void opened(UpstreamConnection c);
        void closed(UpstreamConnection c);
        io.netty.util.concurrent.Ticker ticker();
    }

    /** Whoever uses the connection now (the proxy's exchange). Called on the connection's event loop. */
    public interface Owner {
        /** The connection is ready for this owner: an idle one ({@code reused}) or a new one. */
        void onConnected(UpstreamConnection connection, boolean reused);

        /** No connection: {@code reason} is {@code connect_refused}, {@code connect_timeout}, {@code cluster_max_…}. */
        void onConnectFailed(String reason);

        void onResponse(UpstreamConnection connection, HttpObject message);
        void onResponseReadComplete(UpstreamConnection connection);
        void onUpstreamWritable(UpstreamConnection connection);
        void onUpstreamClosed(UpstreamConnection connection);

        /** The earliest moment (ticker nanos) something must happen on this exchange, or it times out. */
        long nextDeadlineNanos();

        /** Upper bound on how late a deadline may be noticed: the timer re-checks at least this often. */
        long deadlineCheckNanos();

        /** {@link #nextDeadlineNanos()} has passed. */
        void onDeadline(UpstreamConnection connection);
    }

    private final Endpoint endpoint;
    private final Home pool;
    private Channel channel;
    private Owner owner;
    private boolean reused;
    private boolean refused;
    long idleSinceNanos;
    private ScheduledFuture<?> deadlineTimer;

    UpstreamConnection(Endpoint endpoint, Home pool) {
        this.endpoint = endpoint;
        this.pool = pool;
    }

    public Endpoint endpoint() { return endpoint; }
    public Channel channel() { return channel; }
    /** True when this connection served an earlier exchange (a failure before any response may be a stale close). */
    public boolean reused() { return reused; }

    /**
     * True when the endpoint said it did not process the request: an HTTP/2 GOAWAY whose last-stream-id is below this
     * stream, or RST_STREAM with REFUSED_STREAM. Retrying it elsewhere is safe whatever the method (RFC 9113 §8.7).
     */
    public boolean refused() { return refused; }

    void attach(Owner owner, boolean reused) {
        this.owner = owner;
        this.reused = reused;
    }

    /** Gives the connection back: into the pool if it can serve another exchange, closed otherwise. */
    public void release(boolean reusable) {
        owner = null;
        if (reusable && channel.isActive()) {
            pool.offer(this);
        } else {
            channel.close();
        }
    }

    /**
     * Watches the owner's deadlines. One timer per connection, armed once and kept across the exchanges it serves:
     * an exchange only moves its deadline fields, and the timer, on firing, either times the exchange out or
     * re-arms for what is left (no timer scheduled and cancelled per request).
     */
    public void watchDeadlines() {
        Owner o = owner;
        if (deadlineTimer == null && o != null) arm(o.deadlineCheckNanos());
    }

    private void arm(long delayNanos) {
        deadlineTimer = channel.eventLoop().schedule(this::onDeadlineTimer, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
    }

    private void onDeadlineTimer() {
        deadlineTimer = null;
        Owner o = owner;
        if (o == null || !channel.isActive()) return; // idle in the pool: the pool's sweeper watches it
        long left = o.nextDeadlineNanos() - pool.ticker().nanoTime();
        if (left <= 0) {
            o.onDeadline(this);
            if (owner != null && deadlineTimer == null) arm(owner.deadlineCheckNanos());
        } else {
            arm(Math.min(left, o.deadlineCheckNanos()));
        }
    }

    /** Takes the connection away from its owner and closes it (it will not be reused). */
    public void close() {
        owner = null;
        channel.close();
    }

    /** Leaves the pool for good: the connection became a tunnel. */
    public void detach() {
        owner = null;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        pool.opened(this);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Owner o = owner;
        if (o != null && msg instanceof HttpObject http) {
            DispatchClock.enter();
            try {
                o.onResponse(this, http);
            } finally {
                DispatchClock.exit();
            }
        } else {
            // bytes on an idle connection: the endpoint broke the protocol; do not reuse
            ReferenceCountUtil.release(msg);
            if (o == null) ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Owner o = owner;
        if (o != null) o.onResponseReadComplete(this);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Owner o = owner;
        if (o != null && ctx.channel().isWritable()) o.onUpstreamWritable(this);
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // A timer left to fire would hold the closed connection (channel, pipeline, codecs) until it fires, up to
        // 30 s with the default timeouts: long enough to be copied by young collections and promoted. With
        // connections that churn, that was most of what survived one (bench/results/2026-12-09-pool-churn.md).
        ScheduledFuture<?> t = deadlineTimer;
        deadlineTimer = null;
        if (t != null) t.cancel(false);
        pool.closed(this);
        Owner o = owner;
        owner = null;
        if (o != null) o.onUpstreamClosed(this);
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof io.netty.handler.codec.http2.Http2GoAwayFrame) {
            refused = true; // only streams above the GOAWAY's last-stream-id are told
        } else if (evt instanceof io.netty.handler.codec.http2.Http2ResetFrame reset
                && reset.errorCode() == io.netty.handler.codec.http2.Http2Error.REFUSED_STREAM.code()) {
            refused = true;
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
