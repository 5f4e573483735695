package io.gatehouse.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A tiny HTTP origin for {@code gatehouse up}: answers every request with its name and a little JSON, serves
 * {@code GET /health}, and can be switched off and on ({@code POST /down}, {@code POST /up}) to show failover.
 * While down it answers health checks and ordinary requests with 503 but still obeys {@code POST /up}: a refused
 * socket would also show failover, but then there would be nothing left to switch it back on.
 */
public final class DemoEndpoint implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    // One thread is plenty for a demo origin; the handler never blocks it.
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final AtomicBoolean up = new AtomicBoolean(true);
    private volatile Channel serverChannel;

    private DemoEndpoint(String name) {
        this.name = name;
    }

    /**
     * Starts an endpoint on {@code host:preferredPort}; if that port is taken, on a free port instead (see
     * {@link #address()}). Port 0 always picks a free port.
     */
    public static DemoEndpoint start(String name, String host, int preferredPort) {
        DemoEndpoint endpoint = new DemoEndpoint(name);
        try {
            endpoint.bind(host, preferredPort);
            return endpoint;
        } catch (RuntimeException e) {
            endpoint.group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    private void bind(String host, int preferredPort) {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(),
                                new HttpServerKeepAliveHandler(),
                                new HttpObjectAggregator(64 * 1024),
                                new RequestHandler());
                    }
                });
        ChannelFuture bound = bootstrap.bind(host, preferredPort).awaitUninterruptibly();
        if (!bound.isSuccess() && preferredPort != 0 && bound.cause() instanceof BindException) {
            bound = bootstrap.bind(host, 0).awaitUninterruptibly();
        }
        if (!bound.isSuccess()) {
            throw new IllegalStateException("demo endpoint " + name + " could not bind " + host + ":" + preferredPort
                    + ": " + bound.cause().getMessage(), bound.cause());
        }
        serverChannel = bound.channel();
    }

    public String name() {
        return name;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    public boolean isUp() {
        return up.get();
    }

    /** Same as {@code POST /down} (false) or {@code POST /up} (true). */
    public void setUp(boolean value) {
        up.set(value);
    }

    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class RequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) throws Exception {
            String path = new QueryStringDecoder(request.uri()).path();
            boolean post = request.method().equals(HttpMethod.POST);
            HttpResponseStatus status = HttpResponseStatus.OK;
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("endpoint", name);
            body.put("port", address().getPort());
            if (post && path.equals("/down")) {
                up.set(false);
                body.put("state", "down");
            } else if (post && path.equals("/up")) {
                up.set(true);
                body.put("state", "up");
            } else if (!up.get()) {
                status = HttpResponseStatus.SERVICE_UNAVAILABLE;
                body.put("state", "down");
            } else if (path.equals("/health")) {
                body.put("state", "up");
            } else {
                body.put("path", path);
                body.put("request_id", request.headers().get("x-request-id"));
            }
            byte[] bytes = JSON.writeValueAsBytes(body);
            FullHttpResponse response = new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes, new byte[] {'\n'}));
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                    .set(HttpHeaderNames.CONTENT_LENGTH, bytes.length + 1)
                    .set("x-endpoint", name);
            // HttpServerKeepAliveHandler adds Connection: close and closes when the client did not ask for keep-alive.
            ctx.writeAndFlush(response);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
