package io.gatehouse.compression;

import io.gatehouse.GatehouseFixture;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A big compressible response is compressed as it streams, never aggregated: 200 MiB of text from an origin that
 * writes it with blocking socket writes (so it only goes as fast as Gatehouse takes it), while Gatehouse's pooled
 * direct memory stays bounded. (TestBackend's generated bodies are random, hence incompressible, and its echo mode
 * does not fit the JDK client, which sends a whole request body before it reads the response.)
 */
class CompressedStreamingTest {
    private static final long MiB = 1024 * 1024;
    private static final long SIZE = 200 * MiB;
    private static final long DIRECT_BOUND = 64 * MiB;
    private static final int LINE = 48;

    private static GatehouseFixture gatehouse;
    private static ServerSocket origin;
    private static Thread originThread;
    private static ResourceLeakDetector.Level leakLevel;

    @BeforeAll
    static void start() {
        // paranoid leak tracking on hundreds of MiB is minutes of CPU; the other compression tests look for leaks
        leakLevel = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try {
            origin = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        originThread = new Thread(CompressedStreamingTest::serveText, "text-origin");
        originThread.setDaemon(true);
        originThread.start();
        gatehouse = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - {name: all, cluster: app, compression: {types: [text/plain]}}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                """.formatted("127.0.0.1:" + origin.getLocalPort()));
    }

    /** Answers each request with SIZE bytes of text, Content-Length framed. */
    private static void serveText() {
        while (!origin.isClosed()) {
            try (Socket s = origin.accept()) {
                InputStream in = s.getInputStream();
                int matched = 0;
                while (matched < 4) { // skip the request head
                    int b = in.read();
                    if (b < 0) break;
                    matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
                }
                OutputStream out = s.getOutputStream();
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Length: " + SIZE
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                text(SIZE).transferTo(out);
            } catch (IOException e) {
                // the test ended or Gatehouse closed the connection
            }
        }
    }

    @AfterAll
    static void stop() {
        if (gatehouse != null) gatehouse.close();
        try {
            origin.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        ResourceLeakDetector.setLevel(leakLevel);
    }

    @Test
    void twoHundredMebibytesAreGzippedAsTheyStreamInBoundedMemory() throws Exception {
        long baseline = usedDirect();
        AtomicLong peak = new AtomicLong(baseline);
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> peak.accumulateAndGet(usedDirect(), Math::max), 0, 5, TimeUnit.MILLISECONDS);
        try {
            HttpRequest request = HttpRequest.newBuilder(gatehouse.uri("/big.log"))
                    .header("Accept-Encoding", "gzip")
                    .timeout(Duration.ofMinutes(3))
                    .build();
            HttpResponse<InputStream> response = gatehouse.client().send(request, HttpResponse.BodyHandlers.ofInputStream());

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("content-encoding")).hasValue("gzip");
            long wire;
            try (CountingStream counted = new CountingStream(response.body());
                 InputStream decoded = new GZIPInputStream(counted, 64 * 1024)) {
                assertThat(firstMismatch(decoded)).as("first wrong byte").isEqualTo(-1);
                wire = counted.count;
            }
            System.out.printf("%d MiB compressed to %d KiB; peak pooled direct memory %d KiB above the baseline%n",
                    SIZE / MiB, wire / 1024, (peak.get() - baseline) / 1024);
            assertThat(wire).as("compressed bytes on the wire").isLessThan(SIZE / 10);
        } finally {
            sampler.shutdownNow();
        }
        assertThat(peak.get() - baseline).as("peak pooled direct memory above the baseline").isLessThan(DIRECT_BOUND);
    }

    /** Byte {@code i} of the body: fixed-width numbered lines, compressible like logs or JSON but never constant. */
    private static byte byteAt(long i) {
        long line = i / LINE;
        int col = (int) (i % LINE);
        if (col == LINE - 1) return '\n';
        String prefix = "line ";
        if (col < prefix.length()) return (byte) prefix.charAt(col);
        int digit = col - prefix.length();
        if (digit < 12) {
            long v = line;
            for (int k = 11; k > digit; k--) v /= 10;
            return (byte) ('0' + v % 10);
        }
        return (byte) "  of a compressible streaming body.........".charAt(Math.min(digit - 12, 42));
    }

    private static InputStream text(long length) {
        return new InputStream() {
            long position;

            @Override
            public int read() {
                return position < length ? byteAt(position++) & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (position >= length) return -1;
                int n = (int) Math.min(len, length - position);
                for (int k = 0; k < n; k++) b[off + k] = byteAt(position + k);
                position += n;
                return n;
            }
        };
    }

    private static long firstMismatch(InputStream in) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long position = 0;
        int n;
        while ((n = in.read(buf)) > 0) {
            for (int k = 0; k < n; k++) {
                if (buf[k] != byteAt(position + k)) return position + k;
            }
            position += n;
        }
        return position == SIZE ? -1 : position;
    }

    private static long usedDirect() {
        return PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
    }

    private static final class CountingStream extends java.io.FilterInputStream {
        long count;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) count++;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) count += n;
            return n;
        }
    }
}
