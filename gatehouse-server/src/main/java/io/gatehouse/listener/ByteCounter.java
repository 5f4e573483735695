package io.gatehouse.listener;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/** Counts bytes read before decoding, so the connection can tell a slow request head from an idle connection. */
final class ByteCounter extends ChannelInboundHandlerAdapter {
    private final Http1ConnectionHandler connection;

    ByteCounter(Http1ConnectionHandler connection) {
        this.connection = connection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) connection.countBytes(buf.readableBytes());
        ctx.fireChannelRead(msg);
    }
}
