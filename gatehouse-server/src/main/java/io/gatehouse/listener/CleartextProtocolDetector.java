package io.gatehouse.listener;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * First handler of a cleartext connection on a listener with h2c: the first bytes tell HTTP/2 with prior knowledge
 * (the connection preface {@code PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n}) from HTTP/1.1, so both share one port. It holds
 * back {@code channelActive} until it knows, installs the chosen protocol's handlers behind itself, lets them see the
 * connection become active, then removes itself, handing them the bytes read so far.
 *
 * <p>The first byte that differs from the preface decides HTTP/1.1, so an HTTP/1.1 request is never delayed.
 * A client that sends nothing within the request-header timeout is handed to HTTP/1.1 (whose idle timeout then
 * applies); one stuck part-way through the preface is closed.
 */
final class CleartextProtocolDetector extends ByteToMessageDecoder {
    private static final Logger log = LoggerFactory.getLogger(CleartextProtocolDetector.class);
    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

    private final Listener listener;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    private boolean decided;
    private boolean sawBytes;
    private boolean failed;

    CleartextProtocolDetector(Listener listener) {
        this.listener = listener;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // not propagated: the protocol's handlers see it once they are installed
        timer = ctx.executor().schedule(this::onTimeout, listener.config().timeouts().requestHeader().toNanos(),
                TimeUnit.NANOSECONDS);
        ctx.read();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (decided) return;
        int n = Math.min(in.readableBytes(), PREFACE.readableBytes());
        if (n > 0) sawBytes = true;
        for (int i = 0; i < n; i++) {
            if (in.getByte(in.readerIndex() + i) != PREFACE.getByte(PREFACE.readerIndex() + i)) {
                choose(false);
                return;
            }
        }
        if (n == PREFACE.readableBytes()) choose(true);
        // else: a prefix of the preface; channelReadComplete asks for more (auto-read is off)
    }

    private void onTimeout() {
        timer = null;
        if (decided || !ctx.channel().isActive()) return;
        if (sawBytes) {
            ctx.close(); // part of a preface and then silence
        } else {
            choose(false);
        }
    }

    private void choose(boolean http2) {
        decided = true;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        if (http2) listener.installHttp2(ctx.pipeline()); else listener.installHttp1(ctx.pipeline());
        ctx.fireChannelActive();
        // what was read so far (the preface, or the start of a request) goes on to the new handlers
        ctx.pipeline().remove(this);
    }

    /**
     * The connection failed before its protocol was known (typically a reset): one debug line, as for a failed TLS
     * handshake, instead of a stack trace at WARN from the end of the pipeline.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        failed = true;
        log.debug("listener {}: connection from {} failed before its protocol was known: {}", listener.name(),
                ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (timer != null) timer.cancel(false);
        // io_uring may report a reset as a plain close (epoll as an exception, logged above): one line either way
        if (!decided && !failed) {
            log.debug("listener {}: connection from {} closed before its protocol was known", listener.name(),
                    ctx.channel().remoteAddress());
        }
        super.channelInactive(ctx);
    }
}
