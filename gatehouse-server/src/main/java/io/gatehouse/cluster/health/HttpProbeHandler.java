package io.gatehouse.cluster.health;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * Sends one health-check request when the connection opens and reports the first response head it gets (or why it
 * got none). The body is ignored; the connection is closed by the session once the result is in.
 */
final class HttpProbeHandler extends SimpleChannelInboundHandler<HttpObject> {
    private final HttpRequest request;
    private final IntPredicate expected;
    private final Consumer<ProbeResult> callback;
    private boolean reported;

    HttpProbeHandler(HttpRequest request, IntPredicate expected, Consumer<ProbeResult> callback) {
        this.request = request;
        this.expected = expected;
        this.callback = callback;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(request).addListener(f -> {
            if (!f.isSuccess()) report(ProbeResult.failure(HealthChecker.describe(f.cause())));
        });
        ctx.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
        if (!(msg instanceof HttpResponse response)) return;
        if (response.decoderResult().isFailure()) {
            report(ProbeResult.failure("malformed response: " + response.decoderResult().cause().getMessage()));
            return;
        }
        int status = response.status().code();
        report(expected.test(status) ? ProbeResult.success("status " + status) : ProbeResult.failure("status " + status));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        report(ProbeResult.failure("connection closed before response"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        report(ProbeResult.failure(HealthChecker.describe(cause)));
        ctx.close();
    }

    private void report(ProbeResult result) {
        if (reported) return;
        reported = true;
        callback.accept(result);
    }
}
