package io.gatehouse.listener;

import io.gatehouse.Gatehouse;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.testing.BodyPattern;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

import static io.gatehouse.listener.SlowReaderTest.readHead;
import static io.gatehouse.listener.SlowReaderTest.stalledReader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code response_buffering}: a response the client does not take yet is held in memory, then in a temporary file,
 * so the endpoint's connection is released before the client has read it; past both bounds, backpressure as before.
 * The HTTP/1.1 cases stall a TCP reader (a socket that reads nothing); the HTTP/2 case stalls one stream by flow
 * control, over TLS, while the connection stays readable.
 */
class ResponseBufferingTest {
    private static final long BODY = 16L * 1024 * 1024;

    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("origin");

    @BeforeEach
    void bigBody() {
        backend.respond(req -> TestResponse.ok().generatedBody(BODY));
    }

    /**
     * Temporary files of {@code dir} open in this process. The file is unlinked as soon as it is opened
     * (DELETE_ON_CLOSE on Linux), so nothing is left behind even by a crash: only the open descriptors show it.
     */
    private static long tempFiles(Path dir) throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith(dir + "/gatehouse-response-");
                } catch (Exception gone) {
                    return false; // closed meanwhile
                }
            }).count();
        }
    }

    @Test
    void theEndpointIsReleasedBeforeASlowClientReadsTheBody() throws Exception {
        Path dir = Files.createTempDirectory("gatehouse-buffering");
        try (Gatehouse g = SlowReaderTest.start(backend, Ticker.systemTicker(),
                "    response_buffering: {memory: 1m, temp_file: 32m, temp_dir: \"" + dir + "\"}");
             Socket reader = stalledReader(g)) {
            Cluster cluster = g.cluster("app");
            Endpoint e = cluster.endpoints().get(0);
            // the whole response is in Gatehouse while the client has read nothing: the endpoint's connection is idle
            await().atMost(Duration.ofSeconds(20)).until(() -> e.inFlight() == 0 && cluster.idleConnections() == 1);
            assertThat(tempFiles(dir)).as("temporary files while the client reads").isEqualTo(1);
            InputStream in = reader.getInputStream();
            assertThat(readHead(in).toLowerCase()).startsWith("http/1.1 200").contains("content-length: " + BODY);
            assertThat(BodyPattern.firstMismatch(in, BODY)).as("first wrong byte").isEqualTo(-1);
            await().atMost(Duration.ofSeconds(5)).until(() -> tempFiles(dir) == 0);
        } finally {
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void anHttp2StreamWhoseWindowIsShutHasItsEndpointReleasedAndStillGetsTheWholeBody() throws Exception {
        Path dir = Files.createTempDirectory("gatehouse-buffering");
        try (Gatehouse g = Gatehouse.start(io.gatehouse.config.ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    http2: {send_timeout: 1h}
                    routes: [{name: all, cluster: app}]
                clusters:
                  - name: app
                    endpoints: ["%s"]
                    response_buffering: {memory: 1m, temp_file: 32m, temp_dir: "%s"}
                admin: {address: "off"}
                """.formatted(io.gatehouse.Protocol.HTTP_2.listenerTls(), backend.address(), dir), "test.yaml"));
             RawH2 c = RawH2.connectTls(g.listenerAddress("edge"))) {
            Cluster cluster = g.cluster("app");
            Endpoint e = cluster.endpoints().get(0);
            c.headers(1, true, RawH2.get("/big"));
            // the default 64 KiB windows stay shut: the rest is held by Gatehouse, and the endpoint is free
            await().atMost(Duration.ofSeconds(20)).until(() -> e.inFlight() == 0 && cluster.idleConnections() == 1);
            assertThat(tempFiles(dir)).as("temporary files while the stream waits").isEqualTo(1);
            c.windowUpdate(0, (int) BODY);
            c.windowUpdate(1, (int) BODY);
            long received = 0;
            boolean ended = false;
            byte[] want = new byte[0];
            while (!ended) {
                RawH2.Frame f = c.next(Duration.ofSeconds(10));
                assertThat(f).as("frame after %d bytes", received).isNotNull();
                assertThat(f.type()).as("frame type after %d bytes", received).isNotEqualTo(RawH2.RST_STREAM).isNotEqualTo(-1);
                if (f.type() == RawH2.HEADERS && f.stream() == 1) assertThat(f.status()).isEqualTo("200");
                if (f.type() == RawH2.DATA) {
                    if (want.length < f.payload().length) want = new byte[f.payload().length];
                    BodyPattern.fill(want, 0, f.payload().length, received);
                    assertThat(java.util.Arrays.equals(want, 0, f.payload().length, f.payload(), 0, f.payload().length))
                            .as("bytes at %d", received).isTrue();
                    received += f.payload().length;
                    ended = (f.flags() & RawH2.END_STREAM) != 0;
                }
            }
            assertThat(received).isEqualTo(BODY);
            await().atMost(Duration.ofSeconds(5)).until(() -> tempFiles(dir) == 0);
        } finally {
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void pastItsBoundsTheBufferHoldsOffTheEndpointAndTheBodyStillArrivesWhole() throws Exception {
        try (Gatehouse g = SlowReaderTest.start(backend, Ticker.systemTicker(), "    response_buffering: {memory: 1m}");
             Socket reader = stalledReader(g)) {
            Endpoint e = g.cluster("app").endpoints().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> e.inFlight() == 1);
            // 1 MiB of memory cannot hold 16 MiB: the endpoint waits for the client
            // atMost leaves room for a stall (in flight drops to 0 only when the response is read, below)
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(10)).until(() -> e.inFlight() == 1);
            InputStream in = reader.getInputStream();
            assertThat(readHead(in).toLowerCase()).startsWith("http/1.1 200");
            assertThat(BodyPattern.firstMismatch(in, BODY)).as("first wrong byte").isEqualTo(-1);
            await().atMost(Duration.ofSeconds(5)).until(() -> e.inFlight() == 0);
        }
    }

    @Test
    void aClientLeavingWithTheResponseHeldDeletesTheTemporaryFile() throws Exception {
        Path dir = Files.createTempDirectory("gatehouse-buffering");
        try (Gatehouse g = SlowReaderTest.start(backend, Ticker.systemTicker(),
                "    response_buffering: {memory: 64k, temp_file: 32m, temp_dir: \"" + dir + "\"}")) {
            Endpoint e = g.cluster("app").endpoints().get(0);
            try (Socket reader = stalledReader(g)) {
                await().atMost(Duration.ofSeconds(20)).until(() -> e.inFlight() == 0);
                assertThat(tempFiles(dir)).isEqualTo(1);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> tempFiles(dir) == 0);
        } finally {
            Files.deleteIfExists(dir);
        }
    }
}
