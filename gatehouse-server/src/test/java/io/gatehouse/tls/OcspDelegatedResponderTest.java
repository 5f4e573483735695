package io.gatehouse.tls;

import com.sun.net.httpserver.HttpServer;
import io.gatehouse.config.TlsConfig;
import io.gatehouse.config.TlsConfig.CertificateConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.gatehouse.Prerequisites.require;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code ocsp_fetch} with a delegated OCSP responder (RFC 6960 §4.2.2.2): a response signed by a certificate the CA
 * issued with id-kp-OCSPSigning, carried in the response, is stapled; one signed by any other certificate, even one
 * the same CA issued, is refused and the previous staple stays. TestCertificates keeps its CA key to itself, hence
 * this test's own small CA.
 */
class OcspDelegatedResponderTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());
    private static final String OCSP_URL_FOR_UNIT_CASES = "http://127.0.0.1:9/ocsp"; // never asked in those

    @TempDir
    Path dir;

    private final Party ca = Party.authority("CN=Delegating CA");
    private final Party delegate = ca.issue("CN=OCSP Responder", KeyPurposeId.id_kp_OCSPSigning, null, Duration.ofDays(1));
    private HttpServer responder;
    private EventLoopGroup group;
    private Channel server;
    private ServerTls tls;

    @AfterEach
    void stop() throws Exception {
        if (tls != null) tls.close();
        if (server != null) server.close().sync();
        if (group != null) group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        if (responder != null) responder.stop(0);
    }

    // ---- verification of one response ----

    @Test
    void aResponseSignedByADelegatedResponderIsAccepted() throws Exception {
        Party leaf = ca.issue("CN=edge", KeyPurposeId.id_kp_serverAuth, OCSP_URL_FOR_UNIT_CASES, Duration.ofDays(1));
        byte[] der = response(leaf, delegate, byName(delegate), delegate);

        OcspFetch.Good good = OcspFetch.of(leaf.certificate, ca.certificate).verify(der, Instant.now());

        assertThat(good.der()).isEqualTo(der);
        assertThat(good.nextUpdate()).isAfter(Instant.now());
    }

    @Test
    void aDelegatedResponderNamedByItsKeyHashIsAccepted() throws Exception {
        Party leaf = ca.issue("CN=edge", KeyPurposeId.id_kp_serverAuth, OCSP_URL_FOR_UNIT_CASES, Duration.ofDays(1));
        byte[] der = response(leaf, delegate, byKey(delegate), delegate);

        assertThat(OcspFetch.of(leaf.certificate, ca.certificate).verify(der, Instant.now()).der()).isEqualTo(der);
    }

    @Test
    void aResponseSignedByACertificateOfTheCaWithoutOcspSigningIsRefused() throws Exception {
        Party leaf = ca.issue("CN=edge", KeyPurposeId.id_kp_serverAuth, OCSP_URL_FOR_UNIT_CASES, Duration.ofDays(1));
        // issued by the same CA, valid, carried in the response: only the EKU is missing
        Party sibling = ca.issue("CN=Not A Responder", KeyPurposeId.id_kp_serverAuth, null, Duration.ofDays(1));
        byte[] der = response(leaf, sibling, byName(sibling), sibling);

        assertRefused(leaf, der);
    }

    @Test
    void aResponseSignedByTheLeafItselfIsRefused() throws Exception {
        Party leaf = ca.issue("CN=edge", KeyPurposeId.id_kp_serverAuth, OCSP_URL_FOR_UNIT_CASES, Duration.ofDays(1));

        assertRefused(leaf, response(leaf, leaf, byName(leaf), leaf));
    }

    @Test
    void anOcspSigningCertificateFromAnotherKeyOfTheSameNameIsRefused() throws Exception {
        Party leaf = ca.issue("CN=edge", KeyPurposeId.id_kp_serverAuth, OCSP_URL_FOR_UNIT_CASES, Duration.ofDays(1));
        Party impostor = Party.authority("CN=Delegating CA"); // same name as the CA, another key
        Party forged = impostor.issue("CN=OCSP Responder", KeyPurposeId.id_kp_OCSPSigning, null, Duration.ofDays(1));

        assertRefused(leaf, response(leaf, forged, byName(forged), forged));
    }

    @Test
    void anExpiredDelegateIsRefused() throws Exception {
        Party leaf = ca.issue("CN=edge", KeyPurposeId.id_kp_serverAuth, OCSP_URL_FOR_UNIT_CASES, Duration.ofDays(1));
        Party expired = ca.issue("CN=OCSP Responder", KeyPurposeId.id_kp_OCSPSigning, null, Duration.ofHours(-1));

        assertRefused(leaf, response(leaf, expired, byName(expired), expired));
    }

    @Test
    void aDelegateWhoseCertificateIsNotInTheResponseIsRefused() throws Exception {
        Party leaf = ca.issue("CN=edge", KeyPurposeId.id_kp_serverAuth, OCSP_URL_FOR_UNIT_CASES, Duration.ofDays(1));

        assertRefused(leaf, response(leaf, delegate, byName(delegate)));
    }

    @Test
    void aResponseCarryingTheDelegateButSignedByAnotherKeyIsRefused() throws Exception {
        Party leaf = ca.issue("CN=edge", KeyPurposeId.id_kp_serverAuth, OCSP_URL_FOR_UNIT_CASES, Duration.ofDays(1));
        Party other = Party.authority("CN=Somebody");

        assertRefused(leaf, response(leaf, other, byName(delegate), delegate));
    }

    @Test
    void aResponseWhoseResponderIdNamesAnotherThanItsSignerIsRefused() throws Exception {
        Party leaf = ca.issue("CN=edge", KeyPurposeId.id_kp_serverAuth, OCSP_URL_FOR_UNIT_CASES, Duration.ofDays(1));
        // genuinely signed by the delegate, but a client could not find the signer by this ResponderID
        byte[] der = response(leaf, delegate, byName(Party.authority("CN=Elsewhere")), delegate);

        assertRefused(leaf, der);
    }

    // ---- fetched from a responder and stapled (real sockets, OpenSSL client) ----

    @Test
    void staplesAResponseFromADelegatedResponder() throws Exception {
        AtomicReference<byte[]> answer = startResponder();
        Party leaf = ca.issue("CN=edge", KeyPurposeId.id_kp_serverAuth, ocspUrl(), Duration.ofDays(1), "localhost");
        byte[] delegated = response(leaf, delegate, byName(delegate), delegate);
        answer.set(delegated);
        InetSocketAddress address = serve(leaf);

        assertThat(tls.refreshOcspNow()).isEqualTo(1);

        assertThat(stapled(address)).isEqualTo(delegated);
    }

    @Test
    void keepsTheLastGoodStapleWhenARefreshIsSignedByACertificateWithoutOcspSigning() throws Exception {
        AtomicReference<byte[]> answer = startResponder();
        Party leaf = ca.issue("CN=edge", KeyPurposeId.id_kp_serverAuth, ocspUrl(), Duration.ofDays(1), "localhost");
        byte[] good = response(leaf, delegate, byName(delegate), delegate);
        answer.set(good);
        InetSocketAddress address = serve(leaf);
        assertThat(tls.refreshOcspNow()).isEqualTo(1);

        Party sibling = ca.issue("CN=Not A Responder", KeyPurposeId.id_kp_serverAuth, null, Duration.ofDays(1));
        answer.set(response(leaf, sibling, byName(sibling), sibling));
        assertThat(tls.refreshOcspNow()).isZero();

        assertThat(stapled(address)).isEqualTo(good);
    }

    @Test
    void staplesNothingWhenTheOnlyResponseIsSignedByACertificateWithoutOcspSigning() throws Exception {
        AtomicReference<byte[]> answer = startResponder();
        Party leaf = ca.issue("CN=edge", KeyPurposeId.id_kp_serverAuth, ocspUrl(), Duration.ofDays(1), "localhost");
        Party sibling = ca.issue("CN=Not A Responder", KeyPurposeId.id_kp_serverAuth, null, Duration.ofDays(1));
        answer.set(response(leaf, sibling, byName(sibling), sibling));
        InetSocketAddress address = serve(leaf);

        assertThat(tls.refreshOcspNow()).isZero();

        assertThat(stapled(address)).isNullOrEmpty();
    }

    private void assertRefused(Party leaf, byte[] der) {
        OcspFetch fetch = OcspFetch.of(leaf.certificate, ca.certificate);
        assertThatThrownBy(() -> fetch.verify(der, Instant.now()))
                .isInstanceOf(OcspFetch.OcspFailure.class)
                .hasMessageContaining("not signed by the issuer or a responder it authorized");
    }

    private AtomicReference<byte[]> startResponder() throws Exception {
        require(OpenSsl.isAvailable(), "stapling needs the OpenSSL provider (netty-tcnative, bundled for Linux x86_64/aarch64)");
        AtomicReference<byte[]> answer = new AtomicReference<>();
        responder = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        responder.createContext("/", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
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
        return answer;
    }

    private String ocspUrl() {
        return "http://127.0.0.1:" + responder.getAddress().getPort() + "/ocsp";
    }

    private InetSocketAddress serve(Party leaf) throws Exception {
        Path cert = dir.resolve("edge.crt");
        Path key = dir.resolve("edge.key");
        Files.writeString(cert, pem("CERTIFICATE", leaf.certificate.getEncoded()) + pem("CERTIFICATE", ca.certificate.getEncoded()),
                StandardCharsets.US_ASCII);
        Files.writeString(key, pem("PRIVATE KEY", leaf.keys.getPrivate().getEncoded()), StandardCharsets.US_ASCII);
        TlsConfig config = new TlsConfig(List.of(new CertificateConfig(cert.toString(), key.toString(), null, null, true)),
                null, null, null, null, null, io.gatehouse.config.TlsProviderChoice.OPENSSL, Duration.ZERO, null);
        tls = ServerTls.create("https", config);
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

    /** What an OpenSSL client that asked for OCSP stapling was given in the handshake. */
    private byte[] stapled(InetSocketAddress address) throws Exception {
        return TlsClients.nettyOcsp(SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL).enableOcsp(true)
                .trustManager(ca.certificate).build(), address);
    }

    // ---- a small PKI ----

    private static RespID byName(Party signer) throws Exception {
        return new RespID(new JcaX509CertificateHolder(signer.certificate).getSubject());
    }

    private static RespID byKey(Party signer) throws Exception {
        return new RespID(new JcaX509CertificateHolder(signer.certificate).getSubjectPublicKeyInfo(),
                new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1));
    }

    /** A successful basic response saying GOOD for {@code leaf}, current for an hour, signed with {@code signer}'s key. */
    private byte[] response(Party leaf, Party signer, RespID responderId, Party... carried) throws Exception {
        Instant now = Instant.now();
        CertificateID id = new CertificateID(new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1),
                new JcaX509CertificateHolder(ca.certificate), leaf.certificate.getSerialNumber());
        BasicOCSPRespBuilder b = new BasicOCSPRespBuilder(responderId);
        b.addResponse(id, CertificateStatus.GOOD, Date.from(now.minus(Duration.ofMinutes(1))), Date.from(now.plus(Duration.ofHours(1))));
        X509CertificateHolder[] chain = new X509CertificateHolder[carried.length];
        for (int i = 0; i < carried.length; i++) chain[i] = new JcaX509CertificateHolder(carried[i].certificate);
        BasicOCSPResp basic = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.keys.getPrivate()),
                chain, new Date());
        byte[] der = new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL, basic).getEncoded();
        assertThat(new OCSPResp(der).getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);
        return der;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** A certificate with its key pair (ECDSA P-256). */
    private record Party(X509Certificate certificate, KeyPair keys) {

        static Party authority(String name) {
            KeyPair kp = keyPair();
            X500Name subject = new X500Name(name);
            try {
                X509v3CertificateBuilder b = builder(subject, subject, kp, Duration.ofDays(2))
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
                return new Party(sign(b, kp.getPrivate()), kp);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * A certificate this authority issues with one extended key usage; a negative {@code validity} makes one that
         * expired that long ago.
         */
        Party issue(String name, KeyPurposeId purpose, String ocspUrl, Duration validity, String... dnsNames) {
            KeyPair kp = keyPair();
            try {
                X509v3CertificateBuilder b = builder(new JcaX509CertificateHolder(certificate).getSubject(), new X500Name(name), kp, validity)
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
                if (ocspUrl != null) {
                    b.addExtension(Extension.authorityInfoAccess, false, new AuthorityInformationAccess(
                            AccessDescription.id_ad_ocsp, new GeneralName(GeneralName.uniformResourceIdentifier, ocspUrl)));
                }
                if (dnsNames.length > 0) {
                    GeneralName[] sans = new GeneralName[dnsNames.length];
                    for (int i = 0; i < dnsNames.length; i++) sans[i] = new GeneralName(GeneralName.dNSName, dnsNames[i]);
                    b.addExtension(Extension.subjectAlternativeName, false, new org.bouncycastle.asn1.x509.GeneralNames(sans));
                }
                return new Party(sign(b, keys.getPrivate()), kp);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair kp, Duration validity) {
            Instant now = Instant.now();
            Instant notBefore = validity.isNegative() ? now.minus(Duration.ofDays(2)) : now.minus(Duration.ofHours(1));
            return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIALS.incrementAndGet()),
                    Date.from(notBefore), Date.from(now.plus(validity)), subject, kp.getPublic());
        }

        private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws Exception {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
        }

        private static KeyPair keyPair() {
            try {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
                return g.generateKeyPair();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
