package io.gatehouse.compression;

import io.gatehouse.config.CompressionConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.http.ConnectionInfo;
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

/** Compression wraps the response only: the connection's facts reach every later filter and the proxy untouched. */
class CompressingSinkTest {
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
                "a.example", System.nanoTime(), null);
        AtomicReference<HttpExchange> seenByTheProxy = new AtomicReference<>();

        FilterChain.start(List.of(new ResponseCompression(new CompressionConfig(null, null, null, null, null, null)),
                (ex, chain) -> seenByTheProxy.set(ex)), exchange);

        assertThat(seenByTheProxy.get().response()).isInstanceOf(CompressingSink.class);
        assertThat(seenByTheProxy.get().connection().clientCertificate()).isEqualTo(cert);
    }

    private final class WithCertificate implements Downstream {
        private final ClientCertificate cert;

        WithCertificate(ClientCertificate cert) {
            this.cert = cert;
        }

        @Override public EventLoop eventLoop() { return channel.eventLoop(); }
        @Override public ConnectionInfo connection() {
            return new ConnectionInfo(new InetSocketAddress("127.0.0.1", 40000), AsciiString.of("127.0.0.1"), true,
                    "TLSv1.3", "TLS_AES_128_GCM_SHA256", "a.example", cert);
        }
        @Override public void requestMoreBody() {}
        @Override public void write(HttpObject message) {}
        @Override public void flush() {}
        @Override public boolean isWritable() { return true; }
        @Override public void abort(String reason) {}
        @Override public void tunnel(Channel upstream) {}
    }
}
