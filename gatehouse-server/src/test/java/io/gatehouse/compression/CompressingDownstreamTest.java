package io.gatehouse.compression;

import io.gatehouse.config.CompressionConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.http.Downstream;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.tls.ClientCertificate;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** What the compressing client side passes through from the one it wraps. */
class CompressingDownstreamTest {
    private final EmbeddedChannel channel = new EmbeddedChannel();

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    @Test
    void theClientCertificateOfAnMtlsClientStaysVisibleBehindCompression() {
        ClientCertificate cert = new ClientCertificate("CN=billing", List.of("spiffe://example.org/billing"));
        HttpExchange exchange = new HttpExchange(new WithCertificate(cert), "edge",
                new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", Unpooled.EMPTY_BUFFER),
                "a.example", "/", null, System.nanoTime());
        AtomicReference<Downstream> seenByTheProxy = new AtomicReference<>();

        FilterChain.start(List.of(new ResponseCompression(new CompressionConfig(null, null, null, null, null, null)),
                (ex, chain) -> seenByTheProxy.set(ex.downstream())), exchange);

        assertThat(seenByTheProxy.get()).isInstanceOf(CompressingDownstream.class);
        assertThat(seenByTheProxy.get().clientCertificate()).isEqualTo(cert);
    }

    private final class WithCertificate implements Downstream {
        private final ClientCertificate cert;

        WithCertificate(ClientCertificate cert) {
            this.cert = cert;
        }

        @Override public ClientCertificate clientCertificate() { return cert; }
        @Override public EventLoop eventLoop() { return channel.eventLoop(); }
        @Override public InetSocketAddress remoteAddress() { return new InetSocketAddress("127.0.0.1", 40000); }
        @Override public AsciiString remoteIp() { return AsciiString.of("127.0.0.1"); }
        @Override public String scheme() { return "https"; }
        @Override public void requestMoreBody() {}
        @Override public void write(HttpObject message) {}
        @Override public void flush() {}
        @Override public boolean isWritable() { return true; }
        @Override public void abort(String reason) {}
        @Override public void tunnel(Channel upstream) {}
    }
}
