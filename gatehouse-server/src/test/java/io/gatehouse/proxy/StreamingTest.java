package io.gatehouse.proxy;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.BodyPattern;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Bodies far bigger than any buffer stream through Gatehouse in bounded memory, both ways, and a client that stops
 * reading stops the backend (backpressure) instead of filling Gatehouse's memory. Gatehouse, the backend and the client
 * share this JVM, so the pooled allocator's direct memory bounds what all three hold at once.
 */
class StreamingTest {
    private static final long MiB = 1024 * 1024;
    private static final long DOWNLOAD = 2048 * MiB;
    private static final long UPLOAD = 1024 * MiB;
    private static final long SLOW_DOWNLOAD = 256 * MiB;
    /** Peak direct memory of the pooled allocator above its level before the transfer. */
    private static final long DIRECT_BOUND = 64 * MiB;
    private static final long HEAP_BOUND = 256 * MiB;

    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("origin");

    private static GatehouseFixture gatehouse;
    private static ResourceLeakDetector.Level leakLevel;

    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    private final AtomicLong peakDirect = new AtomicLong();
    private long baselineDirect;

    @BeforeAll
    static void startGatehouse() {
        // Paranoid leak tracking (the build's default) records a stack trace per buffer touch: on GiBs of traffic
        // that is minutes of CPU; leaks are what the other test classes look for.
        leakLevel = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        gatehouse = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - {name: all, cluster: app}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                """.formatted(backend.address()));
    }

    @AfterAll
    static void stopGatehouse() {
        if (gatehouse != null) gatehouse.close();
        ResourceLeakDetector.setLevel(leakLevel);
    }

    @BeforeEach
    void startSampling() {
        baselineDirect = usedDirect();
        peakDirect.set(baselineDirect);
        // sampling, not waiting: the peak is whatever the transfer reached while it ran
        sampler.scheduleAtFixedRate(this::sample, 0, 5, TimeUnit.MILLISECONDS);
    }

    @AfterEach
    void stopSampling() {
        sampler.shutdownNow();
    }

    @Test
    void downloadsTwoGibibytesInBoundedMemory() throws Exception {
        backend.enqueue(TestResponse.ok().generatedBody(DOWNLOAD));

        HttpResponse<InputStream> response = gatehouse.client().send(
                HttpRequest.newBuilder(gatehouse.uri("/download")).build(), HttpResponse.BodyHandlers.ofInputStream());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValueAsLong("content-length")).hasValue(DOWNLOAD);
        try (InputStream body = response.body()) {
            assertThat(BodyPattern.firstMismatch(body, DOWNLOAD)).as("first wrong byte").isEqualTo(-1);
        }
        assertBoundedMemory();
    }

    @Test
    void uploadsAGibibyteInBoundedMemory() throws Exception {
        backend.countingUploads();
        HttpRequest request = HttpRequest.newBuilder(gatehouse.uri("/upload"))
                .POST(HttpRequest.BodyPublishers.fromPublisher(
                        HttpRequest.BodyPublishers.ofInputStream(() -> BodyPattern.inputStream(UPLOAD)), UPLOAD))
                .build();

        HttpResponse<String> response = gatehouse.client().send(request, HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        long crc = BodyPattern.crc32(UPLOAD);
        RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
        assertThat(seen.header("content-length")).isEqualTo(Long.toString(UPLOAD));
        assertThat(seen.bodySize()).isEqualTo(UPLOAD);
        assertThat(seen.bodyCrc32()).isEqualTo(crc);
        assertThat(response.headers().firstValue("x-body-crc32")).hasValue(Long.toString(crc));
        assertBoundedMemory();
    }

    @Test
    void uploadsAChunkedBodyIntact() throws Exception {
        backend.countingUploads();
        long size = 64 * MiB;
        HttpRequest request = HttpRequest.newBuilder(gatehouse.uri("/upload"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> BodyPattern.inputStream(size))) // no length: chunked
                .build();

        HttpResponse<String> response = gatehouse.client().send(request, HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
        assertThat(seen.header("transfer-encoding")).isEqualToIgnoringCase("chunked");
        assertThat(seen.bodySize()).isEqualTo(size);
        assertThat(seen.bodyCrc32()).isEqualTo(BodyPattern.crc32(size));
    }

    @Test
    void aClientThatStopsReadingStopsTheBackend() throws IOException {
        backend.enqueue(TestResponse.ok().generatedBody(SLOW_DOWNLOAD));
        try (Socket socket = new Socket()) {
            socket.setReceiveBufferSize(64 * 1024);
            socket.connect(gatehouse.address(), 5000);
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write("GET /slow HTTP/1.1\r\nHost: a.example\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            skipHead(in);

            byte[] piece = new byte[64 * 1024];
            long position = 0;
            long nextPause = 0;
            while (position < SLOW_DOWNLOAD) {
                if (position >= nextPause) {
                    // Not reading at all for a while: with backpressure the backend stalls once the socket buffers and
                    // Gatehouse's write watermark are full; without it, it would push the rest into Gatehouse's memory.
                    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
                            .until(() -> peakDirect.get() - baselineDirect < DIRECT_BOUND);
                    nextPause += 64 * MiB;
                }
                int n = in.read(piece, 0, (int) Math.min(piece.length, SLOW_DOWNLOAD - position));
                assertThat(n).as("bytes at offset " + position).isPositive();
                for (int i = 0; i < n; i++) {
                    if (piece[i] != BodyPattern.byteAt(position + i)) {
                        throw new AssertionError("wrong byte at offset " + (position + i));
                    }
                }
                position += n;
            }
        }
        assertBoundedMemory();
    }

    /** Reads the response head byte by byte (it is small) and checks it is a 200 with the announced length. */
    private static void skipHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new AssertionError("connection closed inside the head: " + head);
            head.append((char) b);
        }
        assertThat(head.toString()).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + SLOW_DOWNLOAD);
    }

    private void assertBoundedMemory() {
        sample();
        System.out.printf("peak pooled direct memory %d KiB above a baseline of %d KiB%n",
                (peakDirect.get() - baselineDirect) / 1024, baselineDirect / 1024);
        assertThat(peakDirect.get() - baselineDirect).as("peak pooled direct memory above the baseline")
                .isLessThan(DIRECT_BOUND);
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        memory.gc();
        assertThat(memory.getHeapMemoryUsage().getUsed()).as("heap in use after the transfer").isLessThan(HEAP_BOUND);
    }

    private void sample() {
        long used = usedDirect();
        peakDirect.accumulateAndGet(used, Math::max);
    }

    private static long usedDirect() {
        return PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
    }
}
