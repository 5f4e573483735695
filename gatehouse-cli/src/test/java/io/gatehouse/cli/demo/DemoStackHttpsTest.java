package io.gatehouse.cli.demo;

import io.gatehouse.tls.LocalAuthority;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code gatehouse up}'s HTTPS listener: a local CA made once, trusted by a client that is given only ca.crt. */
class DemoStackHttpsTest {
    @TempDir
    Path home;

    @Test
    void servesHttpsWithALocalCaMadeOnceAndReused() throws Exception {
        LocalAuthority.Files first = LocalAuthority.ensure(home);
        assertThat(first.created()).isTrue();
        assertThat(Files.getPosixFilePermissions(first.edgeKey())).containsExactlyInAnyOrder(
                PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        byte[] ca = Files.readAllBytes(first.ca());
        LocalAuthority.Files again = LocalAuthority.ensure(home);
        assertThat(again.created()).isFalse();
        assertThat(Files.readAllBytes(again.ca())).isEqualTo(ca);

        try (DemoStack stack = DemoStack.start("127.0.0.1:0", "127.0.0.1:0", again, "off", List.of(0, 0, 0))) {
            HttpClient client = HttpClient.newBuilder().sslContext(trusting(first.ca())).connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                    URI.create("https://localhost:" + stack.tlsAddress().getPort() + "/")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("strict-transport-security")).hasValue("max-age=3600");
        }
    }

    private static SSLContext trusting(Path caFile) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(caFile)) {
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
