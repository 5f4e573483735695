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
    void pastItsBoundsTheBufferHoldsOffTheEndpointAndTheBodyStillArrivesWhole() throws Exception {
        try (Gatehouse g = SlowReaderTest.start(backend, Ticker.systemTicker(), "    response_buffering: {memory: 1m}");
             Socket reader = stalledReader(g)) {
            Endpoint e = g.cluster("app").endpoints().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> e.inFlight() == 1);
            // 1 MiB of memory cannot hold 16 MiB: the endpoint waits for the client
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> e.inFlight() == 1);
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
