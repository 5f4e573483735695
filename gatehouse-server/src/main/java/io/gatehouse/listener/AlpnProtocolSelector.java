package io.gatehouse.listener;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;

/**
 * Sits behind TLS on a listener that terminates it: once the handshake is done, the protocol ALPN chose ({@code h2},
 * else HTTP/1.1) gets its handlers behind this one, sees the connection become active and the handshake event (the
 * HTTP/1.1 handler takes the client certificate from it), and this handler leaves. Like
 * {@link CleartextProtocolDetector}, it holds {@code channelActive} back until the protocol is known.
 */
final class AlpnProtocolSelector extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(AlpnProtocolSelector.class);

    private final Listener listener;
    private ArrayDeque<Object> early;   // decrypted bytes that came before the handshake event (not expected)

    AlpnProtocolSelector(Listener listener) {
        this.listener = listener;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // not propagated yet; auto-read is off, so ask for the client's hello
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (early == null) early = new ArrayDeque<>(2);
        early.add(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // the handshake is still going on: keep reading (SslHandler reads for itself too, this is cheap insurance)
        if (!ctx.channel().config().isAutoRead()) ctx.read();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (!(evt instanceof SslHandshakeCompletionEvent hs)) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        if (!hs.isSuccess()) {
            ctx.close();   // SslHandler logged nothing a client could use: the connection is of no use
            return;
        }
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        String protocol = ssl == null ? null : ssl.applicationProtocol();
        if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            listener.installHttp2(ctx.pipeline());
        } else {
            listener.installHttp1(ctx.pipeline());
        }
        ctx.fireChannelActive();
        ctx.fireUserEventTriggered(evt);
        if (early != null) {
            Object m;
            while ((m = early.poll()) != null) ctx.fireChannelRead(m);
            ctx.fireChannelReadComplete();
        }
        ctx.pipeline().remove(this);
    }

    /**
     * A failed handshake (no client certificate where one is required, no common version or cipher, a reset): the
     * client learns it from TLS itself. Here it is one debug line, instead of a stack trace at WARN from the end of
     * the pipeline for every client that fails, which anyone could produce at will.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        log.debug("listener {}: TLS handshake with {} failed: {}", listener.name(), ctx.channel().remoteAddress(), root.toString());
        ctx.close();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (early != null) {
            early.forEach(ReferenceCountUtil::release);
            early = null;
        }
    }
}
