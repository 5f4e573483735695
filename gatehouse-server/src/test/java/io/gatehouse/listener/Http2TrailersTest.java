package io.gatehouse.listener;

import io.gatehouse.GatehouseFixture;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Trailers cross the HTTP/2 ↔ HTTP/1.1 hop both ways (gRPC status lives there). */
class Http2TrailersTest {

    @Test
    void requestAndResponseTrailersAreForwarded() throws Exception {
        CompletableFuture<HttpHeaders> requestTrailers = new CompletableFuture<>();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        Channel origin = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                FullHttpRequest req = (FullHttpRequest) msg;
                                requestTrailers.complete(req.trailingHeaders().copy());
                                req.release();
                                DefaultHttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                                r.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                                r.headers().set(HttpHeaderNames.TRAILER, "grpc-status");
                                ctx.write(r);
                                ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer("payload", StandardCharsets.UTF_8)));
                                LastHttpContent last = new DefaultLastHttpContent();
                                last.trailingHeaders().set("grpc-status", "0").set("grpc-message", "fine");
                                ctx.writeAndFlush(last);
                            }
                        });
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        int port = ((InetSocketAddress) origin.localAddress()).getPort();
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    http2: { h2c: true }
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "127.0.0.1:%d" ]
                """.formatted(port)); H2Client c = H2Client.connect(g.address())) {
            FullHttpRequest p = Http2DownstreamTest.post("/rpc", "ping".getBytes(StandardCharsets.UTF_8));
            p.headers().remove("content-length");
            p.headers().set("te", "trailers");
            p.trailingHeaders().set("x-checksum", "abc");
            H2Client.Response r = Http2DownstreamTest.await(c.send(p));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).isEqualTo("payload");
            assertThat(r.trailers().get("grpc-status")).isEqualTo("0");
            assertThat(r.trailers().get("grpc-message")).isEqualTo("fine");
            assertThat(requestTrailers.get(10, TimeUnit.SECONDS).get("x-checksum")).isEqualTo("abc");
        } finally {
            origin.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
