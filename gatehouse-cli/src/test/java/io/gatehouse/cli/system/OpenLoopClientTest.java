package io.gatehouse.cli.system;

import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestCertificates;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The generator's connections and failures, against a real backend on port 0. */
class OpenLoopClientTest {
    private TestBackend backend;

    @AfterEach
    void stop() {
        if (backend != null) backend.close();
    }

    private static TestResponse redirect() {
        return TestResponse.status(302).header("Location", "https://example.com/");
    }

    @Test
    void keepsItsConnectionsFromOneRunToTheNextAndRequestsEachPathUnderTheBase() throws Exception {
        backend = TestBackend.started().respond(req -> redirect());
        URI base = URI.create("http://127.0.0.1:" + backend.port() + "/r/");
        // One connection at most, so how many a busy moment would open is not in question: the second run must
        // find the first run's connection open and use it.
        try (OpenLoop.Client client = new OpenLoop.Client(base, 1, null)) {
            OpenLoop.Result first = client.run(List.of("a", "b"), new Zipf(2, 1.0), 200, Duration.ofSeconds(1),
                    Duration.ofSeconds(5), 1000, 1);
            int afterFirst = backend.connectionsAccepted();
            OpenLoop.Result second = client.run(List.of("a", "b"), new Zipf(2, 1.0), 200, Duration.ofSeconds(1),
                    Duration.ofSeconds(5), 1000, 2);
            assertThat(first.ok()).isEqualTo(first.sent()).isEqualTo(200);
            assertThat(second.ok()).isEqualTo(second.sent()).isEqualTo(200);
            assertThat(first.errors() + second.errors() + first.dropped() + second.dropped()).isZero();
            assertThat(backend.requestCount()).isEqualTo(400);
            assertThat(afterFirst).isEqualTo(1);
            assertThat(backend.connectionsAccepted()).isEqualTo(1);
            assertThat(backend.requests()).allSatisfy(r -> assertThat(r.uri()).isIn("/r/a", "/r/b"));
            assertThat(first.latencyMicros().getTotalCount()).isEqualTo(200);
            assertThat(first.latenessMicros().getTotalCount()).isEqualTo(200);
        }
    }

    @Test
    void aServerThatClosesAfterEachAnswerGetsANewConnectionPerRequest() throws Exception {
        backend = TestBackend.started().respond(req -> redirect().keepAlive(false));
        OpenLoop.Result r = OpenLoop.run(URI.create("http://127.0.0.1:" + backend.port() + "/"), List.of("x"), new Zipf(1, 0),
                100, Duration.ofSeconds(1), Duration.ofSeconds(5), 1000, 1);
        assertThat(r.ok()).isEqualTo(100);
        assertThat(r.errors()).isZero();
        assertThat(backend.connectionsAccepted()).isEqualTo(100);
    }

    @Test
    void errorStatusesCountAsErrorsWithTheirLatency() throws Exception {
        backend = TestBackend.started().respond(req -> TestResponse.status(503).body("busy"));
        OpenLoop.Result r = OpenLoop.run(URI.create("http://127.0.0.1:" + backend.port() + "/"), List.of("x"), new Zipf(1, 0),
                100, Duration.ofSeconds(1), Duration.ofSeconds(5), 1000, 1);
        assertThat(r.ok()).isZero();
        assertThat(r.errors()).isEqualTo(100);
        assertThat(r.latencyMicros().getTotalCount()).isEqualTo(100);
    }

    @Test
    void beyondItsConnectionBoundRequestsWaitAndTheWaitCountsAsLatency() throws Exception {
        // Each answer takes 50 ms: with two connections at 100/s, requests queue in the generator, and their latency
        // (from when they were due) grows with the queue; no third connection is opened.
        backend = TestBackend.started().respond(req -> redirect().delayHeaders(Duration.ofMillis(50)));
        try (OpenLoop.Client client = new OpenLoop.Client(URI.create("http://127.0.0.1:" + backend.port() + "/"), 2, null)) {
            OpenLoop.Result r = client.run(List.of("x"), new Zipf(1, 0), 100, Duration.ofMillis(500), Duration.ofSeconds(10), 1000, 1);
            assertThat(r.ok()).isEqualTo(50);
            assertThat(backend.connectionsAccepted()).isEqualTo(2);
            // 50 requests, two at a time, 50 ms each: the last one is answered about 1.25 s after the first was due,
            // 0.76 s after it was itself due. Sent as they came, all would take about 50 ms.
            assertThat(r.latencyMicros().getMaxValue()).isGreaterThan(500_000);
        }
    }

    @Test
    void anAnswerThatNeverComesIsAnErrorAfterTheTimeoutAndTheRunEnds() throws Exception {
        backend = TestBackend.started().respond(req -> redirect().delayHeaders(Duration.ofSeconds(30)));
        OpenLoop.Result r = OpenLoop.run(URI.create("http://127.0.0.1:" + backend.port() + "/"), List.of("x"), new Zipf(1, 0),
                20, Duration.ofMillis(500), Duration.ofMillis(300), 1000, 1);
        assertThat(r.sent()).isEqualTo(10);
        assertThat(r.errors()).isEqualTo(10);
        assertThat(r.ok()).isZero();
        assertThat(r.elapsed()).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aRefusedConnectionFailsTheRequestsInsteadOfHanging() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        OpenLoop.Result r = OpenLoop.run(URI.create("http://127.0.0.1:" + port + "/"), List.of("x"), new Zipf(1, 0),
                50, Duration.ofMillis(500), Duration.ofSeconds(2), 1000, 1);
        assertThat(r.sent()).isEqualTo(25);
        assertThat(r.errors()).isEqualTo(25);
        assertThat(r.ok()).isZero();
    }

    @Test
    void httpsTrustsTheGivenAuthority(@TempDir Path dir) throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority("Load CA");
        backend = new TestBackend().tls(ca.issue("edge", "localhost", "127.0.0.1").serverContext()).start()
                .respond(req -> redirect());
        Path trusted = ca.writeCertificate(dir.resolve("ca.crt"));
        URI base = URI.create("https://127.0.0.1:" + backend.port() + "/");
        try (OpenLoop.Client client = new OpenLoop.Client(base, 8, trusted)) {
            OpenLoop.Result r = client.run(List.of("x"), new Zipf(1, 0), 100, Duration.ofMillis(500), Duration.ofSeconds(5), 1000, 1);
            assertThat(r.ok()).isEqualTo(50);
            assertThat(r.errors()).isZero();
        }
        // Without that trust, the handshake fails and every request is an error.
        OpenLoop.Result untrusted = OpenLoop.run(base, List.of("x"), new Zipf(1, 0), 100, Duration.ofMillis(200),
                Duration.ofSeconds(5), 1000, 1);
        assertThat(untrusted.ok()).isZero();
        assertThat(untrusted.errors()).isEqualTo(untrusted.sent()).isPositive();
    }
}
