package io.gatehouse.listener;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static io.gatehouse.Prerequisites.require;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An HTTP/1.1 client that goes away while its request waits on a slow endpoint: a reset (RST) is noticed at once, not
 * when the endpoint finally answers, so the upstream call (its endpoint connection, its concurrency slot) ends then and
 * the access log says {@code client_gone} with 499. The edge keeps a read armed while a request is in flight (what a
 * pipelining client sends meanwhile waits in a bounded backlog). A half-close (FIN) after a whole request is not an
 * abort: the client is answered (RFC 9112 section 9.6). On both transports Gatehouse ships with; the cases that only
 * epoll can see are skipped on NIO with the reason (see docs/configuration.md, "Clients that leave").
 */
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {"nio", "epoll"})
class Http1ClientAbortTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("slow");
    @TempDir
    static Path dir;
    static GatehouseFixture edge;
    static Holder holder;
    static String edgeTransport;
    @Parameter
    String transport;

    @BeforeEach
    void startFor() {
        if (transport.equals("epoll")) require(Epoll.isAvailable(), "native epoll: " + Epoll.unavailabilityCause());
        // /quick answers at once, /soon after 300 ms, anything else after a minute: only the edge noticing that the
        // client left ends such a call sooner
        backend.respond(req -> req.path().startsWith("/quick") ? TestResponse.ok("quick " + req.path())
                : req.path().startsWith("/soon") ? TestResponse.ok("soon " + req.path()).delayHeaders(Duration.ofMillis(300))
                : TestResponse.ok("late").delayHeaders(Duration.ofMinutes(1)));
        if (transport.equals(edgeTransport)) return;
        stopEdge();
        edge = GatehouseFixture.start("""
                server: { transport: %s, event_loops: 1 }
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - { name: upload, match: { path_prefix: /upload }, cluster: hold, max_body_size: 0 }
                      - { name: all, cluster: app }
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                  - name: hold
                    endpoints: [ "127.0.0.1:%d" ]
                access_log: { path: "%s", format: json }
                admin: { address: "off" }
                """.formatted(transport, backend.address(), holder.port(), log()));
        edgeTransport = transport;
    }

    @BeforeAll
    static void startHolder() throws IOException {
        holder = new Holder();
    }

    @AfterAll
    static void stopAll() throws IOException {
        stopEdge();
        holder.close();
    }

    static void stopEdge() {
        if (edge != null) edge.close();
        edge = null;
        edgeTransport = null;
    }

    @Test
    void aClientThatResetsWhileItsRequestWaitsEndsTheUpstreamCallAtOnce() throws Exception {
        String path = "/rst-" + transport;
        Endpoint e = endpoint();
        try (Socket s = connect()) {
            send(s, "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
            awaitCall(e, path);
            s.setSoLinger(true, 0); // close() sends RST
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(e.inFlight()).as("upstream call cancelled").isZero());
        String line = awaitLogLine(path);
        assertThat(line).contains("\"status\":499").contains("client_gone");
    }

    @Test
    void aClientThatResetsWithAPipelinedRequestQueuedEndsTheUpstreamCallAtOnce() throws Exception {
        String path = "/rst-pipelined-" + transport, next = "/quick-never-" + transport;
        Endpoint e = endpoint();
        try (Socket s = connect()) {
            // both in one packet: the second waits in the edge's backlog, which does not hide the reset behind it
            send(s, "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\nGET " + next + " HTTP/1.1\r\nHost: t\r\n\r\n");
            awaitCall(e, path);
            s.setSoLinger(true, 0);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(e.inFlight()).as("upstream call cancelled").isZero());
        assertThat(awaitLogLine(path)).contains("\"status\":499").contains("client_gone");
        assertThat(backend.requests()).noneMatch(r -> r.path().equals(next));
    }

    @Test
    void aClientThatResetsPastThePipeliningLimitEndsTheUpstreamCallAtOnceOnEpoll() throws Exception {
        // past max_pipelined the edge stops reading (what comes is dropped anyway): only epoll sees the reset then
        if (transport.equals("nio")) {
            org.junit.jupiter.api.Assumptions.abort("nio: a reset past the pipelining limit is seen when the answer is written");
        }
        String path = "/rst-overflow-" + transport;
        Endpoint e = endpoint();
        try (Socket s = connect()) {
            send(s, "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n" + "GET /quick HTTP/1.1\r\nHost: t\r\n\r\n".repeat(40));
            awaitCall(e, path);
            s.setSoLinger(true, 0);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(e.inFlight()).as("upstream call cancelled").isZero());
        assertThat(awaitLogLine(path)).contains("\"status\":499").contains("client_gone");
    }

    @Test
    void aClientThatResetsWhileItsUploadIsHeldBackEndsTheUpstreamCallAtOnceOnEpoll() throws Exception {
        // NIO cannot see it: a reset is reported by a read only after the bytes already queued, and the edge does not
        // read a paused upload (that is the backpressure); epoll reports the socket's error (EPOLLERR) unasked
        if (transport.equals("nio")) {
            org.junit.jupiter.api.Assumptions.abort("nio: a reset behind an upload paused by the endpoint is seen when the upload resumes");
        }
        String path = "/upload/rst-" + transport;
        Endpoint e = endpoint("hold");
        Socket s = connect();
        try {
            Upload.start(s, path).awaitStalled(e);
            s.setSoLinger(true, 0);
        } finally {
            s.close(); // RST
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(e.inFlight()).as("upstream call cancelled").isZero());
        assertThat(awaitLogLine(path)).contains("\"status\":499").contains("client_aborted_body");
    }

    @Test
    void aClientThatHalfClosesAfterItsRequestIsStillAnswered() throws Exception {
        String path = "/soon-fin-" + transport;
        try (Socket s = connect()) {
            send(s, "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
            s.shutdownOutput();
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(answer).startsWith("HTTP/1.1 200").endsWith("soon " + path);
        }
        assertThat(awaitLogLine(path)).contains("\"status\":200").doesNotContain("client_gone");
    }

    @Test
    void pipelinedRequestsInOnePacketAreAllAnsweredInOrder() throws Exception {
        String first = "/soon-p1-" + transport, second = "/quick-p2-" + transport;
        try (RawClient c = RawClient.connect(edge.address())) {
            c.send("GET " + first + " HTTP/1.1\r\nHost: t\r\n\r\nGET " + second + " HTTP/1.1\r\nHost: t\r\n\r\n");
            RawResponse a = c.readResponse(Duration.ofSeconds(10));
            RawResponse b = c.readResponse(Duration.ofSeconds(10));
            assertThat(a.bodyAsString()).isEqualTo("soon " + first);
            assertThat(b.bodyAsString()).isEqualTo("quick " + second);
            // and the connection serves on
            c.send("GET /quick-p3 HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.readResponse(Duration.ofSeconds(10)).bodyAsString()).isEqualTo("quick /quick-p3");
        }
    }

    private Endpoint endpoint() {
        return endpoint("app");
    }

    private Endpoint endpoint(String cluster) {
        return edge.gatehouse().cluster(cluster).endpoints().get(0);
    }

    private void awaitCall(Endpoint e, String path) {
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.requests().stream().anyMatch(r -> r.path().equals(path)));
        assertThat(e.inFlight()).as("the one call in flight").isEqualTo(1);
    }

    private Path log() {
        return dir.resolve("access-" + transport + ".log");
    }

    private String awaitLogLine(String path) {
        return await().atMost(Duration.ofSeconds(10)).until(() -> logLines().stream()
                .filter(l -> l.contains("\"path\":\"" + path + "\"")).findFirst().orElse(null), l -> l != null);
    }

    private List<String> logLines() throws IOException {
        Path p = log();
        return Files.exists(p) ? Files.readAllLines(p) : List.of();
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(edge.address(), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    /** A large upload written from a thread of its own until the connection stops taking it. */
    static final class Upload {
        final AtomicLong written = new AtomicLong();
        final Thread writer;

        private Upload(Socket s, String path) {
            writer = Thread.ofPlatform().daemon().start(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(("POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + (1L << 30) + "\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    byte[] chunk = new byte[64 * 1024];
                    for (;;) {
                        out.write(chunk);
                        written.addAndGet(chunk.length);
                    }
                } catch (IOException closed) {
                    // the test closed the socket under the writer
                }
            });
        }

        static Upload start(Socket s, String path) {
            return new Upload(s, path);
        }

        /** The upstream call started and the client's sending stopped: two looks 300 ms apart see the same count. */
        void awaitStalled(Endpoint e) {
            await().atMost(Duration.ofSeconds(10)).until(() -> e.inFlight() == 1);
            AtomicLong seen = new AtomicLong(-1);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                    .until(() -> written.get() > 0 && written.get() == seen.getAndSet(written.get()));
        }
    }

    /** An endpoint that accepts, reads nothing, and holds its connections open until the end. */
    static final class Holder implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        final List<Socket> held = new CopyOnWriteArrayList<>();

        Holder() throws IOException {
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (true) held.add(server.accept());
                } catch (IOException closed) {
                    // closed at the end
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : held) s.close();
        }
    }

    private static void send(Socket s, String data) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(data.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }
}
