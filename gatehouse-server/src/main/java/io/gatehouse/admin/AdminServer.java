package io.gatehouse.admin;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.AdminConfig;

import io.gatehouse.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;

/**
 * The admin listener: JSON about the running edge, with the same names as the configuration (listener, route,
 * cluster, endpoint). Off the public port, loopback by default; a token is required when one is configured.
 * Requests are small and answered on the event loop from in-memory state, so nothing blocks; a reload runs on
 * Gatehouse's reload thread and is answered when done. What each path does is in {@link AdminRoutes}; the
 * dashboard's static files need no token (the page sends it on its API calls).
 */
public final class AdminServer {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    private final Gatehouse gatehouse;
    private final AdminConfig config;
    private final AdminRoutes routes;
    private Channel channel;

    public AdminServer(Gatehouse gatehouse, AdminConfig config) {
        this.gatehouse = gatehouse;
        this.config = config;
        this.routes = new AdminRoutes(gatehouse);
    }

    public InetSocketAddress bind(EventLoopGroup group, Transport transport) throws InterruptedException {
        InetSocketAddress address = io.gatehouse.config.HostPort.parse(config.address(), true).resolve();
        if (!address.getAddress().isLoopbackAddress() && (config.token() == null || config.token().isBlank())) {
            throw new IllegalArgumentException("admin.address " + config.address()
                    + " is not loopback: set admin.token, or bind the admin listener to 127.0.0.1");
        }
        channel = new ServerBootstrap().group(group).channel(transport.serverChannelClass())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(30))
                                .addLast(new HttpServerCodec(4096, 8192, 8192))
                                .addLast(new HttpObjectAggregator(64 * 1024))
                                .addLast(new Handler());
                    }
                }).bind(address).sync().channel();
        InetSocketAddress bound = (InetSocketAddress) channel.localAddress();
        log.info("admin listening on http://{}", io.gatehouse.config.HostPort.format(bound));
        return bound;
    }

    public InetSocketAddress boundAddress() {
        return channel == null ? null : (InetSocketAddress) channel.localAddress();
    }

    public void close() {
        if (channel != null) channel.close().syncUninterruptibly();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            CompletableFuture<FullHttpResponse> answer;
            try {
                answer = answer(request);
            } catch (RuntimeException e) {
                log.warn("admin: {} {} failed", request.method(), request.uri(), e);
                answer = CompletableFuture.completedFuture(AdminRoutes.error(HttpResponseStatus.INTERNAL_SERVER_ERROR,
                        String.valueOf(e.getMessage())));
            }
            // Most answers are complete already; a reload completes later on the reload thread. The write is
            // thread-safe (Netty hands it to the channel's event loop).
            answer.whenComplete((response, failure) -> {
                FullHttpResponse r = failure == null ? response
                        : AdminRoutes.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, String.valueOf(failure.getMessage()));
                HttpUtil.setKeepAlive(r, keepAlive);
                var f = ctx.writeAndFlush(r);
                if (!keepAlive) f.addListener(ChannelFutureListener.CLOSE);
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private CompletableFuture<FullHttpResponse> answer(FullHttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            return CompletableFuture.completedFuture(AdminRoutes.error(HttpResponseStatus.BAD_REQUEST, "malformed request"));
        }
        String path = new QueryStringDecoder(request.uri()).path();
        if (!AdminRoutes.isPublic(request.method(), path) && !authorized(request)) {
            return CompletableFuture.completedFuture(AdminRoutes.error(HttpResponseStatus.UNAUTHORIZED,
                    "missing or wrong bearer token: send Authorization: Bearer <admin.token>"));
        }
        if (path.equals("/metrics") && request.method().equals(HttpMethod.GET)) {
            return CompletableFuture.completedFuture(gatehouse.scrapeMetrics(request));
        }
        if (path.startsWith("/dashboard") && request.method().equals(HttpMethod.GET)) {
            // the browser revalidates every file (no-cache): answer 304 when its ETag is current
            FullHttpResponse asset = DashboardAssets.serve(path, request.headers().get(HttpHeaderNames.IF_NONE_MATCH));
            if (asset != null) return CompletableFuture.completedFuture(asset);
        }
        return routes.answer(request.method(), request.uri(), request.content());
    }

    private boolean authorized(FullHttpRequest request) {
        String token = config.token();
        if (token == null || token.isBlank()) return true;
        String auth = request.headers().get(HttpHeaderNames.AUTHORIZATION, "");
        byte[] expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, auth.getBytes(StandardCharsets.UTF_8)); // constant time
    }
}
