package io.gatehouse.tls;

import ch.qos.logback.classic.Level;
import io.gatehouse.GatehouseFixture;
import io.gatehouse.LogCapture;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestCertificates;
import io.gatehouse.testing.TestCertificates.Authority;
import io.gatehouse.testing.TestCertificates.Issued;
import io.gatehouse.testing.TestCertificates.PemFiles;
import io.netty.channel.DefaultChannelPipeline;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** TLS termination on a listener, over real sockets, with both providers where the behaviour depends on them. */
class TlsListenerTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("origin");

    @TempDir
    Path dir;

    private final Authority ca = TestCertificates.authority("Test CA");

    private GatehouseFixture start(String provider, String tlsExtra, String routes, PemFiles... certs) {
        StringBuilder list = new StringBuilder();
        for (PemFiles c : certs) list.append("          - {cert: \"").append(c.cert()).append("\", key: \"").append(c.key()).append("\"}\n");
        return GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    tls:
                      provider: %s
                      reload_interval: 0s
                %s
                      certificates:
                %s
                    routes:
                %s
                clusters:
                  - name: app
                    endpoints: ["%s"]
                """.formatted(provider, tlsExtra.indent(6).stripTrailing(), list.toString().stripTrailing(),
                routes.indent(6).stripTrailing(), backend.address()));
    }

    private static final String PROXY_ROUTE = "- {name: all, match: {path_prefix: /}, cluster: app}";
    private static final String OK_ROUTE = "- {name: ok, match: {path_prefix: /}, direct_response: {status: 200, body: ok}}";

    private PemFiles edge(String name) {
        return ca.issue("edge", "localhost", "127.0.0.1").writeTo(dir, name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void servesHttpsToAPlainBackendAndTellsItTheSchemeWasHttps(String provider) {
        try (GatehouseFixture g = start(provider, "", PROXY_ROUTE, edge("edge"))) {
            HttpClient client = TlsClients.httpClient(ca.trustingContext());
            HttpResponse<String> r = TlsClients.get(client, "https://127.0.0.1:" + g.address().getPort() + "/hello");
            assertThat(r.statusCode()).isEqualTo(200);
            RecordedRequest seen = backend.takeRequest(java.time.Duration.ofSeconds(5));
            assertThat(seen.path()).isEqualTo("/hello");
            assertThat(seen.header("x-forwarded-proto")).isEqualTo("https");
            assertThat(g.gatehouse().listeners().get(0).tls().provider())
                    .isEqualTo(provider.equals("openssl") ? SslProvider.OPENSSL : SslProvider.JDK);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void acceptsTls12AndTls13AndRefusesTls11(String provider) throws Exception {
        try (GatehouseFixture g = start(provider, "", OK_ROUTE, edge("edge"))) {
            SSLContext trust = ca.trustingContext();
            try (SSLSocket s = TlsClients.handshake(trust, g.address(), "localhost", "TLSv1.2")) {
                assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.2");
                assertThat(s.getSession().getCipherSuite()).startsWith("TLS_ECDHE_").contains("_GCM_");
            }
            try (SSLSocket s = TlsClients.handshake(trust, g.address(), "localhost", "TLSv1.3")) {
                assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.3");
            }
            // the JDK client no longer speaks TLS 1.1; BoringSSL still does when asked to
            var old = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL).protocols("TLSv1.1")
                    .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
            Throwable failure = TlsClients.nettyHandshake(old, g.address());
            assertThat(failure).isNotNull();
            assertThat(String.valueOf(failure.getMessage()).toUpperCase()).containsAnyOf("PROTOCOL", "VERSION");
            var modern = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL).protocols("TLSv1.2")
                    .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
            assertThat(TlsClients.nettyHandshake(modern, g.address())).isNull();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void sniPicksTheExactThenTheWildcardThenTheDefaultCertificate(String provider) throws Exception {
        Issued fallback = ca.issue("default", "default.test");
        Issued wildcard = ca.issue(TestCertificates.KeyType.RSA, "wildcard", "*.example.com");
        Issued exact = ca.issue("exact", "api.example.com");
        try (GatehouseFixture g = start(provider, "", OK_ROUTE, fallback.writeTo(dir, "default"),
                wildcard.writeTo(dir, "wildcard"), exact.writeTo(dir, "exact"))) {
            assertThat(servedSerial(g.address(), "api.example.com")).isEqualTo(exact.serial());
            assertThat(servedSerial(g.address(), "shop.example.com")).isEqualTo(wildcard.serial());
            assertThat(servedSerial(g.address(), "other.org")).isEqualTo(fallback.serial());
            assertThat(servedSerial(g.address(), null)).isEqualTo(fallback.serial());
        }
    }

    /** The serial of the certificate a new client (nothing to resume) is served. */
    private java.math.BigInteger servedSerial(InetSocketAddress address, String sni) throws IOException {
        try (SSLSocket s = TlsClients.handshake(ca.trustingContext(), address, sni)) {
            return TlsClients.peer(s).getSerialNumber();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void aReplacedCertificateServesNewConnectionsWhileOpenOnesKeepWorking(String provider) throws Exception {
        Issued first = ca.issue("edge", "localhost", "127.0.0.1");
        PemFiles files = first.writeTo(dir, "edge");
        try (GatehouseFixture g = start(provider, "", OK_ROUTE, files)) {
            SSLContext trust = ca.trustingContext();
            try (SSLSocket before = TlsClients.handshake(trust, g.address(), "localhost")) {
                assertThat(roundTrip(before)).contains("200 OK");
                Issued second = ca.issue("edge", "localhost", "127.0.0.1");
                second.writeTo(dir, "edge");
                ServerTls tls = g.gatehouse().listeners().get(0).tls();
                assertThat(tls.checkNow()).isEqualTo(1);
                assertThat(servedSerial(g.address(), "localhost")).isEqualTo(second.serial());
                assertThat(roundTrip(before)).contains("200 OK");
                assertThat(TlsClients.peer(before).getSerialNumber()).isEqualTo(first.serial());
                assertThat(tls.checkNow()).isZero(); // nothing changed since
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void anInvalidReplacementIsRefusedAndTheOldCertificateKeepsServing(String provider) throws Exception {
        Issued first = ca.issue("edge", "localhost", "127.0.0.1");
        PemFiles files = first.writeTo(dir, "edge");
        try (GatehouseFixture g = start(provider, "", OK_ROUTE, files)) {
            ServerTls tls = g.gatehouse().listeners().get(0).tls();
            Files.writeString(files.cert(), "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
            assertThat(tls.checkNow()).isZero();
            assertThat(servedSerial(g.address(), "localhost")).isEqualTo(first.serial());
            // a valid certificate whose key is not the one in the key file
            Path elsewhere = Files.createDirectory(dir.resolve("other"));
            Issued mismatched = ca.issue("edge", "localhost");
            Files.copy(mismatched.writeTo(elsewhere, "edge").cert(), files.cert(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            assertThat(tls.checkNow()).isZero();
            assertThat(servedSerial(g.address(), "localhost")).isEqualTo(first.serial());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void aSecondConnectionResumesTheSession(String provider) throws Exception {
        try (GatehouseFixture g = start(provider, "", OK_ROUTE, edge("edge"))) {
            SSLContext trust = ca.trustingContext();
            byte[] id;
            long created;
            try (SSLSocket s = TlsClients.handshake(trust, g.address(), "localhost", "TLSv1.2")) {
                id = s.getSession().getId();
                created = s.getSession().getCreationTime();
                assertThat(roundTrip(s)).contains("200 OK");
            }
            g.gatehouse().listeners().get(0).tls().rotateTicketKeys(); // the previous key still decrypts
            try (SSLSocket s = TlsClients.handshake(trust, g.address(), "localhost", "TLSv1.2")) {
                assertThat(Arrays.equals(s.getSession().getId(), id)).isTrue();
                assertThat(s.getSession().getCreationTime()).isEqualTo(created);
            }
            SSLContext stranger = ca.trustingContext(); // another client has nothing to resume
            try (SSLSocket s = TlsClients.handshake(stranger, g.address(), "localhost", "TLSv1.2")) {
                assertThat(Arrays.equals(s.getSession().getId(), id)).isFalse();
            }
        }
    }

    @Test
    void sessionTicketsResumeWithTheServerSessionCacheOff() throws Exception {
        try (GatehouseFixture g = start("openssl", "", OK_ROUTE, edge("edge"))) {
            io.netty.handler.ssl.OpenSslSessionContext session = servedSessionContext(g.gatehouse().listeners().get(0).tls());
            session.setSessionCacheEnabled(false); // no server-side state: only a ticket can resume
            SSLContext trust = ca.trustingContext();
            byte[] id;
            long created;
            try (SSLSocket s = TlsClients.handshake(trust, g.address(), "localhost", "TLSv1.2")) {
                id = s.getSession().getId();
                created = s.getSession().getCreationTime();
                assertThat(roundTrip(s)).contains("200 OK");
            }
            try (SSLSocket s = TlsClients.handshake(trust, g.address(), "localhost", "TLSv1.2")) {
                assertThat(Arrays.equals(s.getSession().getId(), id)).isTrue();
                assertThat(s.getSession().getCreationTime()).isEqualTo(created);
                assertThat(roundTrip(s)).contains("200 OK");
            }
            assertThat(session.stats().ticketKeyResume()).as("resumed by ticket").isEqualTo(1);
            assertThat(session.stats().hits()).as("resumed from the cache").isZero();
        }
    }

    /** The session context of the certificate served by default (the listener keeps it to itself). */
    private static io.netty.handler.ssl.OpenSslSessionContext servedSessionContext(ServerTls tls) throws Exception {
        java.lang.reflect.Field f = ServerTls.class.getDeclaredField("snapshot");
        f.setAccessible(true);
        ServerTls.Snapshot snapshot = (ServerTls.Snapshot) f.get(tls);
        return (io.netty.handler.ssl.OpenSslSessionContext) snapshot.fallback().context().sessionContext();
    }

    @Test
    void mtlsRequireRefusesClientsWithoutACertificateAndForwardsTheVerifiedSubject() throws Exception {
        Path clientCa = ca.writeCertificate(dir.resolve("client-ca.crt"));
        String tls = "client_auth: require\nclient_ca: \"" + clientCa + "\"";
        try (LogCapture logs = LogCapture.of(Level.DEBUG, "io.gatehouse.listener.AlpnProtocolSelector", DefaultChannelPipeline.class.getName());
             GatehouseFixture g = start("openssl", tls, PROXY_ROUTE, edge("edge"))) {
            String url = "https://127.0.0.1:" + g.address().getPort() + "/who";
            assertThatThrownBy(() -> TlsClients.get(TlsClients.httpClient(ca.trustingContext()), url))
                    .isInstanceOf(AssertionError.class).hasMessageContaining("request failed");
            // the refused handshake is one debug line naming the reason, not a stack trace at WARN
            await().atMost(Duration.ofSeconds(5)).until(() -> logs.logged("TLS handshake with", "CERTIFICATE"));
            assertThat(logs.events()).noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.WARN));
            Issued billing = ca.issue("CN=billing,O=Example", "spiffe://example.org/billing");
            HttpClient client = TlsClients.httpClient(billing.clientContext(ca));
            HttpResponse<String> r = TlsClients.get(client, url, "X-Client-Cert-Subject", "CN=admin", "X-Forwarded-Client-Cert", "forged");
            assertThat(r.statusCode()).isEqualTo(200);
            RecordedRequest seen = backend.takeRequest(java.time.Duration.ofSeconds(5));
            assertThat(seen.header("x-client-cert-subject")).isEqualTo("CN=billing,O=Example");
            assertThat(seen.header("x-client-cert-san")).isEqualTo("spiffe://example.org/billing");
            assertThat(seen.header("x-forwarded-client-cert")).isNull();
        }
    }

    @Test
    void routesMatchOnTheClientCertificateAndForgedHeadersNeverReachTheBackend() throws Exception {
        Path clientCa = ca.writeCertificate(dir.resolve("client-ca.crt"));
        String tls = "client_auth: request\nclient_ca: \"" + clientCa + "\"";
        String routes = """
                - {name: billing, match: {client_cert: {san: "spiffe://example.org/billing"}}, direct_response: {status: 200, body: billing}}
                - {name: subject, match: {client_cert: {subject: "CN=ops,O=Example"}}, direct_response: {status: 200, body: ops}}
                - {name: anonymous, match: {client_cert: {present: false}, path: /anon}, cluster: app}
                - {name: other, match: {path_prefix: /}, direct_response: {status: 200, body: other}}
                """;
        try (GatehouseFixture g = start("jdk", tls, routes, edge("edge"))) {
            String base = "https://127.0.0.1:" + g.address().getPort();
            Issued billing = ca.issue("CN=billing,O=Example", "spiffe://example.org/billing");
            Issued ops = ca.issue("CN=ops,O=Example");
            assertThat(TlsClients.get(TlsClients.httpClient(billing.clientContext(ca)), base + "/").body()).isEqualTo("billing");
            assertThat(TlsClients.get(TlsClients.httpClient(ops.clientContext(ca)), base + "/").body()).isEqualTo("ops");
            HttpClient anonymous = TlsClients.httpClient(ca.trustingContext());
            assertThat(TlsClients.get(anonymous, base + "/").body()).isEqualTo("other");
            HttpResponse<String> r = TlsClients.get(anonymous, base + "/anon", "X-Client-Cert-Subject", "CN=billing,O=Example",
                    "X-Client-Cert-SAN", "spiffe://example.org/billing");
            assertThat(r.statusCode()).isEqualTo(200);
            RecordedRequest seen = backend.takeRequest(java.time.Duration.ofSeconds(5));
            assertThat(seen.header("x-client-cert-subject")).isNull();
            assertThat(seen.header("x-client-cert-san")).isNull();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void overHttp2TheClientCertificateOfTheHandshakeAppliesToEveryStream(String provider) throws Exception {
        Path clientCa = ca.writeCertificate(dir.resolve("client-ca.crt"));
        String tls = "client_auth: request\nclient_ca: \"" + clientCa + "\"";
        String routes = """
                - {name: billing, match: {client_cert: {san: "spiffe://example.org/billing"}}, direct_response: {status: 200, body: billing}}
                - {name: other, match: {path_prefix: /}, direct_response: {status: 200, body: other}}
                """;
        try (GatehouseFixture g = start(provider, tls, routes, edge("edge"))) {
            String base = "https://127.0.0.1:" + g.address().getPort();
            Issued billing = ca.issue("CN=billing,O=Example", "spiffe://example.org/billing");
            HttpClient withCert = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                    .sslContext(billing.clientContext(ca)).connectTimeout(java.time.Duration.ofSeconds(5)).build();
            HttpClient anonymous = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                    .sslContext(ca.trustingContext()).connectTimeout(java.time.Duration.ofSeconds(5)).build();
            for (int i = 0; i < 3; i++) { // streams 1, 3, 5 of one connection each
                HttpResponse<String> r = TlsClients.get(withCert, base + "/" + i);
                assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
                assertThat(r.body()).isEqualTo("billing");
                HttpResponse<String> a = TlsClients.get(anonymous, base + "/" + i);
                assertThat(a.version()).isEqualTo(HttpClient.Version.HTTP_2);
                assertThat(a.body()).isEqualTo("other");
            }
        }
    }

    @Test
    void hstsIsSentOverTlsOnly() throws Exception {
        PemFiles files = edge("edge");
        String route = "routes: [{name: ok, match: {path_prefix: /}, direct_response: {status: 200, body: ok}, hsts: {max_age: 365d, include_subdomains: true}}]";
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: secure
                    address: 127.0.0.1:0
                    tls: {certificates: [{cert: "%s", key: "%s"}]}
                    %s
                  - name: plain
                    address: 127.0.0.1:0
                    %s
                """.formatted(files.cert(), files.key(), route, route))) {
            HttpResponse<String> secure = TlsClients.get(TlsClients.httpClient(ca.trustingContext()),
                    "https://127.0.0.1:" + g.gatehouse().listenerAddress("secure").getPort() + "/");
            assertThat(secure.headers().firstValue("strict-transport-security")).hasValue("max-age=31536000; includeSubDomains");
            HttpResponse<String> plain = g.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + g.gatehouse().listenerAddress("plain").getPort() + "/")).build());
            assertThat(plain.statusCode()).isEqualTo(200);
            assertThat(plain.headers().firstValue("strict-transport-security")).isEmpty();
        }
    }

    @Test
    void redirectsPlainHttpToHttpsOnAnotherPort() {
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: plain
                    address: 127.0.0.1:0
                    routes:
                      - {name: to-https, match: {path_prefix: /}, redirect: {scheme: https, port: 8443}}
                """)) {
            RawResponse r;
            try (var raw = g.raw()) {
                r = raw.send("GET /shop?item=1 HTTP/1.1\r\nHost: a.example:8080\r\n\r\n").readResponse(java.time.Duration.ofSeconds(5));
            }
            assertThat(r.status()).isEqualTo(301);
            assertThat(r.header("location")).isEqualTo("https://a.example:8443/shop?item=1");
        }
    }

    @Test
    void staplesTheConfiguredOcspResponse() throws Exception {
        byte[] ocsp = {0x30, 0x03, 0x0a, 0x01, 0x00}; // OCSPResponse{responseStatus: successful}, served as given
        Path ocspFile = Files.write(dir.resolve("edge.ocsp"), ocsp);
        PemFiles files = edge("edge");
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    tls: {provider: openssl, certificates: [{cert: "%s", key: "%s", ocsp_response: "%s"}]}
                    routes: [{name: ok, direct_response: {status: 200}}]
                """.formatted(files.cert(), files.key(), ocspFile))) {
            var client = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL).enableOcsp(true)
                    .trustManager(ca.certificate()).build();
            byte[] stapled = TlsClients.nettyOcsp(client, g.address());
            assertThat(stapled).isEqualTo(ocsp);
        }
    }

    /** A keep-alive GET over {@code s}; returns the response head and body. */
    private static String roundTrip(SSLSocket s) throws IOException {
        s.getOutputStream().write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        InputStream in = s.getInputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (!out.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\nok")) {
            int b = in.read();
            if (b < 0) break;
            out.write(b);
        }
        return out.toString(StandardCharsets.US_ASCII);
    }
}
