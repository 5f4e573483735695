package io.gatehouse.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.util.ReferenceCountUtil;

import java.util.List;

/**
 * A byte relay between two channels on the same event loop, with backpressure (Netty's HexDumpProxy pattern):
 * auto-read is off; a side reads again only when its peer can take more. Used for Upgrade tunnels (WebSocket) and
 * later for L4 proxying.
 */
public final class Relay extends ChannelInboundHandlerAdapter {
    private final Channel peer;

    private Relay(Channel peer) {
        this.peer = peer;
    }

    /**
     * Strips both pipelines down to their transport and joins them. {@code downstreamHandlers} are the handler names
     * of {@code downstream} to remove; every handler of {@code upstream} but TLS is removed as well.
     */
    public static void join(Channel downstream, Channel upstream, List<String> downstreamHandlers) {
        // Relays go in first, so bytes a decoder still holds when it is removed flow into them, not into the void.
        downstream.pipeline().addLast("relay", new Relay(upstream));
        upstream.pipeline().addLast("relay", new Relay(downstream));
        strip(downstream.pipeline(), downstreamHandlers);
        strip(upstream.pipeline(), List.copyOf(upstream.pipeline().toMap().keySet()));
        downstream.flush();
        downstream.read();
        upstream.read();
    }

    private static void strip(ChannelPipeline p, List<String> names) {
        for (String name : List.copyOf(names)) {
            var ctx = p.context(name);
            // TLS stays: the tunnel carries plaintext between the two TLS sessions
            if (ctx != null && !name.equals("relay") && !name.startsWith("DefaultChannelPipeline$")
                    && !(ctx.handler() instanceof io.netty.handler.ssl.SslHandler)) {
                p.remove(name);
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (peer.isActive()) {
            peer.write(msg, peer.voidPromise());
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        peer.flush();
        if (peer.isWritable()) ctx.read();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // this side drained what the peer sent: let the peer read again
        if (ctx.channel().isWritable()) peer.read();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
            // one side finished: a tunnel ends as a whole
            closeOnFlush(peer);
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeOnFlush(peer);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        closeOnFlush(ctx.channel());
    }

    static void closeOnFlush(Channel ch) {
        if (ch.isActive()) ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
}
