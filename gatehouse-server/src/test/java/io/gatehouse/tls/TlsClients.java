package io.gatehouse.tls;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Test clients for TLS listeners: JDK HttpClient, JDK SSLSocket, and a Netty (OpenSSL) handshake-only client. */
final class TlsClients {
    private TlsClients() {}

    static HttpClient httpClient(SSLContext ctx) {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(ctx)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    static HttpResponse<String> get(HttpClient client, String url, String... headers) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
            for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
            return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("request failed: " + e, e);
        }
    }

    /** A handshaken SSLSocket; {@code sni} null sends no SNI. Close it. */
    static SSLSocket handshake(SSLContext ctx, InetSocketAddress address, String sni, String... protocols) throws IOException {
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(address.getAddress(), address.getPort());
        SSLParameters p = s.getSSLParameters();
        p.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
        if (protocols.length > 0) p.setProtocols(protocols);
        s.setSSLParameters(p);
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    static X509Certificate peer(SSLSocket s) throws IOException {
        return (X509Certificate) s.getSession().getPeerCertificates()[0];
    }

    /** The OCSP response the server stapled in a handshake with {@code client} (an OpenSSL context with OCSP enabled). */
    static byte[] nettyOcsp(SslContext client, InetSocketAddress address) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            SslHandler[] ssl = new SslHandler[1];
            Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel c) {
                    ssl[0] = client.newHandler(c.alloc(), "localhost", address.getPort());
                    c.pipeline().addLast(ssl[0]);
                }
            }).connect(address).sync().channel();
            var f = ssl[0].handshakeFuture();
            if (!f.await(10, TimeUnit.SECONDS) || !f.isSuccess()) throw new AssertionError("handshake failed: " + f.cause());
            byte[] response = ((io.netty.handler.ssl.ReferenceCountedOpenSslEngine) ssl[0].engine()).getOcspResponse();
            ch.close().sync();
            return response;
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** Handshakes with a Netty client context; returns null on success, else the failure. */
    static Throwable nettyHandshake(SslContext client, InetSocketAddress address) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            SslHandler[] ssl = new SslHandler[1];
            Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel c) {
                    ssl[0] = client.newHandler(c.alloc(), "localhost", address.getPort());
                    c.pipeline().addLast(ssl[0]);
                }
            }).connect(address).sync().channel();
            var f = ssl[0].handshakeFuture();
            if (!f.await(10, TimeUnit.SECONDS)) throw new AssertionError("handshake did not finish");
            ch.close().sync();
            return f.cause();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
