package io.gatehouse.cluster;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;

/**
 * One connection to an endpoint, owned by one exchange at a time or idle in its {@link ConnectionPool}. It is also
 * the last handler of the connection's pipeline and passes every event to its current owner.
 */
public final class UpstreamConnection extends ChannelInboundHandlerAdapter {

    /** Whoever uses the connection now (the proxy's exchange). Called on the connection's event loop. */
    public interface Owner {
        void onResponse(UpstreamConnection connection, HttpObject message);
        void onResponseReadComplete(UpstreamConnection connection);
        void onUpstreamWritable(UpstreamConnection connection);
        void onUpstreamClosed(UpstreamConnection connection);
    }

    private final Endpoint endpoint;
    private final ConnectionPool pool;
    private Channel channel;
    private Owner owner;
    private boolean reused;
    long idleSinceNanos;

    UpstreamConnection(Endpoint endpoint, ConnectionPool pool) {
        this.endpoint = endpoint;
        this.pool = pool;
    }

    public Endpoint endpoint() { return endpoint; }
    public Channel channel() { return channel; }
    /** True when this connection served an earlier exchange (a failure before any response may be a stale close). */
    public boolean reused() { return reused; }

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
        pool.connectionOpened(this);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Owner o = owner;
        if (o != null && msg instanceof HttpObject http) {
            o.onResponse(this, http);
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
        pool.connectionClosed(this);
        Owner o = owner;
        owner = null;
        if (o != null) o.onUpstreamClosed(this);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
