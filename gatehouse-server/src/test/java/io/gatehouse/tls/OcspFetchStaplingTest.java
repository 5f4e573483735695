package io.gatehouse.tls;

import com.sun.net.httpserver.HttpServer;
import io.gatehouse.config.TlsConfig;
import io.gatehouse.config.TlsConfig.CertificateConfig;
import io.gatehouse.testing.TestCertificates;
import io.gatehouse.testing.TestCertificates.Authority;
import io.gatehouse.testing.TestCertificates.Issued;
import io.gatehouse.testing.TestCertificates.PemFiles;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.gatehouse.Prerequisites.require;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** {@code ocsp_fetch}: the response is fetched from a real (in-test) OCSP responder over HTTP and stapled. */
class OcspFetchStaplingTest {
    @TempDir
    Path dir;

    private final Authority ca = TestCertificates.authority("Test CA");
    /** What the responder answers; null: HTTP 503 (the responder is down). */
    private final AtomicReference<byte[]> answer = new AtomicReference<>();
    private final List<byte[]> requests = new CopyOnWriteArrayList<>();
    private final List<String> contentTypes = new CopyOnWriteArrayList<>();
    private HttpServer responder;
    private EventLoopGroup group;
    private Channel server;
    private ServerTls tls;
    private Issued edge;

    @BeforeEach
    void start() throws Exception {
        require(OpenSsl.isAvailable(), "stapling needs the OpenSSL provider (netty-tcnative, bundled for Linux x86_64/aarch64)");
        responder = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        responder.createContext("/", exchange -> {
            try (exchange) {
                requests.add(exchange.getRequestBody().readAllBytes());
                contentTypes.add(exchange.getRequestHeaders().getFirst("Content-Type"));
                byte[] body = answer.get();
                if (body == null) {
                    exchange.sendResponseHeaders(503, -1);
                    return;
                }
                exchange.getResponseHeaders().set("Content-Type", "application/ocsp-response");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
        });
        responder.start();
        edge = ca.issueWithOcsp("http://127.0.0.1:" + responder.getAddress().getPort() + "/ocsp", "edge", "localhost");
    }

    @AfterEach
    void stop() throws Exception {
        if (tls != null) tls.close();
        if (server != null) server.close().sync();
        if (group != null) group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        if (responder != null) responder.stop(0);
    }

    @Test
    void staplesTheFetchedResponseAndTheClientReadsItAsGoodForThisCertificate() throws Exception {
        answer.set(ca.ocspResponse(edge.serial(), false, ca));
        InetSocketAddress address = serve(edge);

        assertThat(tls.refreshOcspNow()).isEqualTo(1);

        byte[] stapled = TlsClients.nettyOcsp(client(), address);
        SingleResp single = single(stapled);
        assertThat(single.getCertID().getSerialNumber()).isEqualTo(edge.serial());
        assertThat(single.getCertStatus()).isEqualTo(CertificateStatus.GOOD);
        // the responder was asked with a proper OCSP request for this certificate
        assertThat(contentTypes).contains("application/ocsp-request");
        OCSPReq req = new OCSPReq(requests.get(requests.size() - 1));
        assertThat(req.getRequestList()[0].getCertID().getSerialNumber()).isEqualTo(edge.serial());
    }

    @Test
    void handshakesWithoutAStapleWhileTheResponderIsDownAndStaplesOnceARetrySucceeds() throws Exception {
        InetSocketAddress address = serve(edge);
        await().atMost(Duration.ofSeconds(10)).until(() -> !requests.isEmpty()); // the fetch at start was answered 503

        assertThat(TlsClients.nettyOcsp(client(), address)).isNullOrEmpty();
        assertThat(tls.refreshOcspNow()).isZero();

        answer.set(ca.ocspResponse(edge.serial(), false, ca));
        assertThat(tls.refreshOcspNow()).isEqualTo(1);
        assertThat(single(TlsClients.nettyOcsp(client(), address)).getCertStatus()).isEqualTo(CertificateStatus.GOOD);
    }

    @Test
    void keepsStaplingTheLastGoodResponseWhenARefreshFails() throws Exception {
        byte[] good = ca.ocspResponse(edge.serial(), false, ca);
        answer.set(good);
        InetSocketAddress address = serve(edge);
        assertThat(tls.refreshOcspNow()).isEqualTo(1);

        answer.set(null);
        assertThat(tls.refreshOcspNow()).isZero();

        assertThat(TlsClients.nettyOcsp(client(), address)).isEqualTo(good);
    }

    @Test
    void aRevokedResponseIsNotStapled() throws Exception {
        answer.set(ca.ocspResponse(edge.serial(), true, ca));
        InetSocketAddress address = serve(edge);

        assertThat(tls.refreshOcspNow()).isZero();

        assertThat(TlsClients.nettyOcsp(client(), address)).isNullOrEmpty();
    }

    @Test
    void aResponseSignedByAnotherKeyIsNotStapled() throws Exception {
        Authority forger = TestCertificates.authority("Test CA"); // same name, different key
        answer.set(ca.ocspResponse(edge.serial(), false, forger));
        InetSocketAddress address = serve(edge);

        assertThat(tls.refreshOcspNow()).isZero();

        assertThat(TlsClients.nettyOcsp(client(), address)).isNullOrEmpty();
    }

    @Test
    void aResponseForAnotherCertificateIsNotStapled() throws Exception {
        Issued other = ca.issue("other", "localhost");
        answer.set(ca.ocspResponse(other.serial(), false, ca));
        InetSocketAddress address = serve(edge);

        assertThat(tls.refreshOcspNow()).isZero();

        assertThat(TlsClients.nettyOcsp(client(), address)).isNullOrEmpty();
    }

    @Test
    void fetchingForACertificateWithoutAnOcspUrlIsRefusedAtStart() {
        Issued plain = ca.issue("plain", "localhost");
        PemFiles files = plain.writeTo(dir, "plain");
        TlsConfig config = config(files);

        assertThatThrownBy(() -> ServerTls.create("https", config))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no OCSP responder URL");
    }

    private InetSocketAddress serve(Issued cert) throws InterruptedException {
        tls = ServerTls.create("https", config(cert.writeTo(dir, "edge")));
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel c) {
                        c.pipeline().addLast(tls.newHandler());
                    }
                })
                .bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
        return (InetSocketAddress) server.localAddress();
    }

    private static TlsConfig config(PemFiles files) {
        return new TlsConfig(List.of(new CertificateConfig(files.cert().toString(), files.key().toString(), null, null, true)),
                null, null, null, null, null, io.gatehouse.config.TlsProviderChoice.OPENSSL, Duration.ZERO, null);
    }

    private SslContext client() throws Exception {
        return SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL).enableOcsp(true)
                .trustManager(ca.certificate()).build();
    }

    private static SingleResp single(byte[] stapled) throws Exception {
        assertThat(stapled).isNotEmpty();
        OCSPResp resp = new OCSPResp(stapled);
        assertThat(resp.getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);
        SingleResp[] responses = ((BasicOCSPResp) resp.getResponseObject()).getResponses();
        assertThat(responses).hasSize(1);
        return responses[0];
    }
}
