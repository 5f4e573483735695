package io.gatehouse.tls;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestCertificates;
import io.gatehouse.testing.TestCertificates.Authority;
import io.gatehouse.testing.TestCertificates.PemFiles;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.gatehouse.Prerequisites.require;
import static org.assertj.core.api.Assertions.assertThat;

/** curl, an HTTP/2 client outside the JVM: h2c with prior knowledge, and h2 chosen by ALPN over TLS. */
class CurlHttp2Test {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("origin");

    @TempDir
    Path dir;

    private final Authority ca = TestCertificates.authority("Test CA");

    @BeforeAll
    static void curlWithHttp2() throws Exception {
        String version;
        try {
            version = run(List.of("curl", "-V")).output();
        } catch (IOException e) {
            version = "";
        }
        require(version.lines().anyMatch(l -> l.startsWith("Features:") && l.contains("HTTP2")),
                "curl with HTTP/2 support (curl -V lists HTTP2) is not installed (apt-get install curl; .ci/run does)");
    }

    @Test
    void curlWithPriorKnowledgeGets200OverH2c() throws Exception {
        backend.respond(req -> TestResponse.ok("plain " + req.path()));
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    http2: {h2c: true}
                    routes: [{name: all, cluster: app}]
                clusters:
                  - name: app
                    endpoints: ["%s"]
                """.formatted(backend.address()))) {
            Result r = run(List.of("curl", "-sS", "--http2-prior-knowledge", "-w", "\n%{http_code} %{http_version}",
                    "http://127.0.0.1:" + g.address().getPort() + "/h2c"));
            assertThat(r.exit()).as(r.output()).isZero();
            assertThat(r.output()).isEqualTo("plain /h2c\n200 2");
        }
    }

    @Test
    void curlOverTlsNegotiatesH2ThroughAlpnAndGets200() throws Exception {
        backend.respond(req -> TestResponse.ok("secure " + req.path()));
        PemFiles edge = ca.issue("edge", "localhost", "127.0.0.1").writeTo(dir, "edge");
        Path caFile = ca.writeCertificate(dir.resolve("ca.pem"));
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    tls:
                      certificates: [{cert: "%s", key: "%s"}]
                    routes: [{name: all, cluster: app}]
                clusters:
                  - name: app
                    endpoints: ["%s"]
                """.formatted(edge.cert(), edge.key(), backend.address()))) {
            Result r = run(List.of("curl", "-sS", "--http2", "--cacert", caFile.toString(),
                    "-w", "\n%{http_code} %{http_version}", "https://localhost:" + g.address().getPort() + "/tls"));
            assertThat(r.exit()).as(r.output()).isZero();
            assertThat(r.output()).isEqualTo("secure /tls\n200 2");

            // the same listener still serves a client that offers HTTP/1.1 only
            Result h1 = run(List.of("curl", "-sS", "--http1.1", "--cacert", caFile.toString(),
                    "-w", "\n%{http_code} %{http_version}", "https://localhost:" + g.address().getPort() + "/tls"));
            assertThat(h1.output()).isEqualTo("secure /tls\n200 1.1");
        }
    }

    private record Result(int exit, String output) {}

    private static Result run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("curl did not finish: " + command);
        }
        return new Result(p.exitValue(), out);
    }
}
