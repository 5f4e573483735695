package io.gatehouse.auth;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.Protocol;
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
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code basic_auth} (bcrypt and argon2id, checked off the event loop) and {@code mtls_identity}, over real sockets.
 * On HTTP/1.1 and on HTTP/2: basic auth over TLS with ALPN h2, and mTLS with a client certificate over TLS that
 * negotiates h2 (on HTTP/1.1, the same TLS listener spoken to as HTTP/1.1).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Protocol.class)
class BasicAndMtlsAuthTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("internal");
    @Parameter
    Protocol protocol;

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

    /** Sends and checks that the answer came over this run's protocol. */
    HttpResponse<String> send(HttpClient client, HttpRequest request) {
        try {
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(response.version()).isEqualTo(protocol.version());
            return response;
        } catch (Exception e) {
            throw new AssertionError("request failed: " + e, e);
        }
    }

    @Test
    void usersWithBcryptOrArgon2HashesLogInAndWrongPasswordsDoNot() {
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
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
                """.formatted(protocol.listenerTls(), bcrypt("correct horse"), argon2id("battery staple"), backend.address()))) {
            HttpClient client = protocol.client();
            java.util.function.Function<HttpRequest.Builder, HttpResponse<String>> send = b -> send(client, b.timeout(Duration.ofSeconds(10)).build());
            java.util.function.Function<String, HttpRequest.Builder> at = path -> HttpRequest.newBuilder(protocol.uri(g.address().getPort(), path));
            for (int i = 0; i < 2; i++) { // the second time from the remembered check
                HttpResponse<String> alice = send.apply(at.apply("/x").header("authorization", basic("alice", "correct horse")));
                assertThat(alice.statusCode()).isEqualTo(200);
                RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
                assertThat(seen.header("x-consumer")).isEqualTo("alice");
                assertThat(seen.header("x-consumer-groups")).isEqualTo("ops");
            }
            assertThat(send.apply(at.apply("/x").header("authorization", basic("bob", "battery staple"))).statusCode()).isEqualTo(200);
            HttpResponse<String> wrong = send.apply(at.apply("/x").header("authorization", basic("alice", "Correct horse")));
            assertThat(wrong.statusCode()).isEqualTo(401);
            assertThat(wrong.headers().firstValue("gatehouse-reason")).hasValue("wrong_password");
            assertThat(wrong.headers().firstValue("www-authenticate")).hasValue("Basic realm=\"Operations\", charset=\"UTF-8\"");
            assertThat(wrong.body()).doesNotContain("horse");
            assertThat(send.apply(at.apply("/x").header("authorization", basic("mallory", "x")))
                    .headers().firstValue("gatehouse-reason")).hasValue("unknown_user");
            assertThat(send.apply(at.apply("/x")).headers().firstValue("gatehouse-reason")).hasValue("missing_credentials");
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
            HttpClient billing = HttpClient.newBuilder().version(protocol.version())
                    .sslContext(ca.issue("CN=billing", "spiffe://example.org/billing").clientContext(ca)).build();
            HttpResponse<String> ok = send(billing, HttpRequest.newBuilder(URI.create(url)).build());
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(backend.takeRequest(Duration.ofSeconds(5)).header("x-consumer")).isEqualTo("spiffe://example.org/billing");

            HttpClient stranger = HttpClient.newBuilder().version(protocol.version())
                    .sslContext(ca.issue("CN=other", "spiffe://example.org/other").clientContext(ca)).build();
            HttpResponse<String> no = send(stranger, HttpRequest.newBuilder(URI.create(url)).build());
            assertThat(no.statusCode()).isEqualTo(401);
            assertThat(no.headers().firstValue("gatehouse-reason")).hasValue("unknown_client_certificate");

            HttpClient none = HttpClient.newBuilder().version(protocol.version()).sslContext(ca.trustingContext()).build();
            assertThat(send(none, HttpRequest.newBuilder(URI.create(url)).build())
                    .headers().firstValue("gatehouse-reason")).hasValue("missing_client_certificate");
        }
    }
}
