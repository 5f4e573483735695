package io.gatehouse.auth;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestCertificates;
import io.gatehouse.testing.TestCertificates.Authority;
import io.gatehouse.testing.TestCertificates.PemFiles;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code basic_auth} (bcrypt and argon2id, checked off the event loop) and {@code mtls_identity}, over real sockets. */
class BasicAndMtlsAuthTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("internal");

    @TempDir
    Path dir;

    static String bcrypt(String password) {
        byte[] salt = new byte[16];
        new java.security.SecureRandom().nextBytes(salt);
        return OpenBSDBCrypt.generate("2b", password.toCharArray(), salt, 4);
    }

    static String argon2id(String password) {
        byte[] salt = "saltsaltsaltsalt".getBytes(StandardCharsets.US_ASCII);
        Argon2BytesGenerator g = new Argon2BytesGenerator();
        g.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id).withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(1024).withIterations(1).withParallelism(1).withSalt(salt).build());
        byte[] hash = new byte[32];
        g.generateBytes(password.getBytes(StandardCharsets.UTF_8), hash);
        Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
        return "$argon2id$v=19$m=1024,t=1,p=1$" + b64.encodeToString(salt) + "$" + b64.encodeToString(hash);
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void usersWithBcryptOrArgon2HashesLogInAndWrongPasswordsDoNot() {
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: ops
                        cluster: internal
                        filters: [{basic_auth: {realm: Operations}}]
                consumers:
                  - {name: alice, password_hash: "%s", groups: [ops]}
                  - {name: bob, password_hash: "%s"}
                clusters:
                  - name: internal
                    endpoints: ["%s"]
                """.formatted(bcrypt("correct horse"), argon2id("battery staple"), backend.address()))) {
            for (int i = 0; i < 2; i++) { // the second time from the remembered check
                HttpResponse<String> alice = g.send(HttpRequest.newBuilder(g.uri("/x")).header("authorization", basic("alice", "correct horse")).build());
                assertThat(alice.statusCode()).isEqualTo(200);
                RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
                assertThat(seen.header("x-consumer")).isEqualTo("alice");
                assertThat(seen.header("x-consumer-groups")).isEqualTo("ops");
            }
            assertThat(g.send(HttpRequest.newBuilder(g.uri("/x")).header("authorization", basic("bob", "battery staple")).build())
                    .statusCode()).isEqualTo(200);
            HttpResponse<String> wrong = g.send(HttpRequest.newBuilder(g.uri("/x")).header("authorization", basic("alice", "Correct horse")).build());
            assertThat(wrong.statusCode()).isEqualTo(401);
            assertThat(wrong.headers().firstValue("gatehouse-reason")).hasValue("wrong_password");
            assertThat(wrong.headers().firstValue("www-authenticate")).hasValue("Basic realm=\"Operations\", charset=\"UTF-8\"");
            assertThat(wrong.body()).doesNotContain("horse");
            assertThat(g.send(HttpRequest.newBuilder(g.uri("/x")).header("authorization", basic("mallory", "x")).build())
                    .headers().firstValue("gatehouse-reason")).hasValue("unknown_user");
            assertThat(g.get("/x").headers().firstValue("gatehouse-reason")).hasValue("missing_credentials");
        }
    }

    @Test
    void aVerifiedClientCertificateNamesTheConsumer() throws Exception {
        Authority ca = TestCertificates.authority("Test CA");
        PemFiles edge = ca.issue("edge", "localhost", "127.0.0.1").writeTo(dir, "edge");
        Path clientCa = ca.writeCertificate(dir.resolve("client-ca.crt"));
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    tls:
                      certificates: [{cert: "%s", key: "%s"}]
                      client_auth: request
                      client_ca: "%s"
                    routes:
                      - name: internal
                        cluster: internal
                        filters: [{mtls_identity: {}}]
                consumers:
                  - {name: "spiffe://example.org/billing", groups: [payments]}
                clusters:
                  - name: internal
                    endpoints: ["%s"]
                """.formatted(edge.cert(), edge.key(), clientCa, backend.address()))) {
            String url = "https://localhost:" + g.address().getPort() + "/pay";
            HttpClient billing = HttpClient.newBuilder().sslContext(ca.issue("CN=billing", "spiffe://example.org/billing").clientContext(ca)).build();
            HttpResponse<String> ok = billing.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(backend.takeRequest(Duration.ofSeconds(5)).header("x-consumer")).isEqualTo("spiffe://example.org/billing");

            HttpClient stranger = HttpClient.newBuilder().sslContext(ca.issue("CN=other", "spiffe://example.org/other").clientContext(ca)).build();
            HttpResponse<String> no = stranger.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(no.statusCode()).isEqualTo(401);
            assertThat(no.headers().firstValue("gatehouse-reason")).hasValue("unknown_client_certificate");

            HttpClient none = HttpClient.newBuilder().sslContext(ca.trustingContext()).build();
            assertThat(none.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
                    .headers().firstValue("gatehouse-reason")).hasValue("missing_client_certificate");
        }
    }
}
