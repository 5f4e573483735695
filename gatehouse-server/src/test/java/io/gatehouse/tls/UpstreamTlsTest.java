package io.gatehouse.tls;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.cluster.health.HealthStatus;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestCertificates;
import io.gatehouse.testing.TestCertificates.Authority;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** TLS from Gatehouse to endpoints: trust, hostname verification, and health checks that speak TLS too. */
class UpstreamTlsTest {
    @TempDir
    Path dir;

    private final Authority ca = TestCertificates.authority("Upstream CA");
    private TestBackend secureBackend;
    private Path caFile;

    @BeforeEach
    void startBackend() {
        caFile = ca.writeCertificate(dir.resolve("upstream-ca.crt"));
        secureBackend = new TestBackend().name("secure").tls(ca.issue("backend", "backend.internal", "127.0.0.1").serverContext()).start();
    }

    @AfterEach
    void stopBackend() {
        secureBackend.close();
    }

    private GatehouseFixture start(String tls, String healthCheck) {
        return GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [{name: all, match: {path_prefix: /}, cluster: secure}]
                clusters:
                  - name: secure
                    endpoints: ["%s"]
                    tls: %s
                %s
                """.formatted(secureBackend.address(), tls, healthCheck.indent(4).stripTrailing()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void proxiesOverTlsWhenTheCertificateMatchesTheEndpoint(String provider) {
        try (GatehouseFixture g = start("{ca: \"" + caFile + "\", provider: " + provider + "}", "")) {
            HttpResponse<String> r = g.get("/over-tls");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("x-backend")).hasValue("secure");
            assertThat(secureBackend.takeRequest(Duration.ofSeconds(5)).path()).isEqualTo("/over-tls");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void answers502WhenTheCertificateIsForAnotherName(String provider) {
        try (GatehouseFixture g = start("{ca: \"" + caFile + "\", server_name: wrong.example, provider: " + provider + "}", "")) {
            HttpResponse<String> r = g.get("/x");
            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(r.headers().firstValue("gatehouse-reason")).hasValue("tls_hostname_mismatch");
        }
    }

    @Test
    void aMatchingServerNameIsSentAndVerified() {
        try (GatehouseFixture g = start("{ca: \"" + caFile + "\", server_name: backend.internal}", "")) {
            assertThat(g.get("/named").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void hostnameVerificationCanBeTurnedOff() {
        try (GatehouseFixture g = start("{ca: \"" + caFile + "\", server_name: wrong.example, verify_hostname: false}", "")) {
            assertThat(g.get("/x").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void anUntrustedCertificateIsRefused() {
        Path otherCa = TestCertificates.authority("Other CA").writeCertificate(dir.resolve("other.crt"));
        try (GatehouseFixture g = start("{ca: \"" + otherCa + "\"}", "")) {
            HttpResponse<String> r = g.get("/x");
            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(r.headers().firstValue("gatehouse-reason")).hasValueSatisfying(v -> assertThat(v).startsWith("tls_"));
        }
    }

    @Test
    void healthChecksSpeakTlsToo() {
        String check = "health_check: {type: http, path: /health, interval: 100ms, timeout: 2s, healthy_threshold: 1, unhealthy_threshold: 1}";
        try (GatehouseFixture g = start("{ca: \"" + caFile + "\"}", check)) {
            var checker = g.gatehouse().cluster("secure").healthChecker();
            Endpoint endpoint = g.gatehouse().cluster("secure").endpoints().get(0);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                HealthStatus status = checker.status(endpoint);
                assertThat(status.lastResult()).isEqualTo(HealthStatus.Result.SUCCESS);
                assertThat(status.consecutiveSuccesses()).isPositive();
            });
            assertThat(secureBackend.healthChecks()).isPositive(); // the probes reached the backend's HTTP layer, over TLS
        }
    }
}
