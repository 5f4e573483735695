package io.gatehouse.compression;

import io.gatehouse.GatehouseFixture;
import io.netty.buffer.PoolArenaMetric;
import io.netty.buffer.PoolChunkListMetric;
import io.netty.buffer.PoolChunkMetric;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A big compressible response is compressed as it streams, never aggregated, and a client that stops reading stops
 * the origin. The origin writes text with blocking socket writes as fast as Gatehouse takes it and counts what it
 * wrote. Memory is measured as the bytes of live pooled direct buffers (chunk size less free bytes), not the pool's
 * size: chunks an earlier test left in the pool hide growth from {@code usedDirectMemory()}, live bytes do not.
 * Gatehouse is the only Netty user in this JVM while these run, so what they grow is what this exchange holds.
 */
class CompressedStreamingTest {
    private static final long MiB = 1024 * 1024;
    private static final long SIZE = 200 * MiB;
    /** Far more than the socket buffers on the way can hold, compressed or not. */
    private static final long STALL_SIZE = 1024 * MiB;
    /**
     * The write watermark (256 KiB) plus one upstream read batch and the encoder's output, with room for the pool's
     * thread caches (runs peak under 1 MiB): far below the 200 MiB a buffering proxy would hold, and below the ~10 MiB
     * it would hold even if it compressed all it read at once and queued only the gzip output (about 19:1 here).
     */
    private static final long LIVE_BOUND = 4 * MiB;
    private static final int LINE = 48;

    private static GatehouseFixture gatehouse;
    private static ServerSocket origin;
    private static ResourceLeakDetector.Level leakLevel;
    /** Body bytes the origin's socket took for the response in progress. */
    private static final AtomicLong originWritten = new AtomicLong();

    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    private final AtomicLong peakLive = new AtomicLong();
    private long baselineLive;

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
        Thread originThread = new Thread(CompressedStreamingTest::serveText, "text-origin");
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

    @BeforeEach
    void startSampling() {
        baselineLive = liveDirect();
        peakLive.set(baselineLive);
        // sampling, not waiting: the peak is whatever the exchange reached while it ran
        sampler.scheduleAtFixedRate(() -> peakLive.accumulateAndGet(liveDirect(), Math::max), 0, 5, TimeUnit.MILLISECONDS);
    }

    @AfterEach
    void stopSampling() {
        sampler.shutdownNow();
    }

    @Test
    void twoHundredMebibytesAreGzippedAsTheyStreamInBoundedMemory() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(gatehouse.uri("/big.log"))
                .header("Accept-Encoding", "gzip")
                .timeout(Duration.ofMinutes(1))
                .build();
        HttpResponse<InputStream> response = gatehouse.client().send(request, HttpResponse.BodyHandlers.ofInputStream());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-encoding")).hasValue("gzip");
        long wire;
        try (CountingStream counted = new CountingStream(response.body());
             InputStream decoded = new GZIPInputStream(counted, 64 * 1024)) {
            assertThat(firstMismatch(decoded, SIZE)).as("first wrong byte").isEqualTo(-1);
            wire = counted.count;
        }
        long peak = peakLive.accumulateAndGet(liveDirect(), Math::max) - baselineLive;
        System.out.printf("%d MiB compressed to %d KiB; peak live pooled direct memory %d KiB above the baseline%n",
                SIZE / MiB, wire / 1024, peak / 1024);
        assertThat(wire).as("compressed bytes on the wire").isLessThan(SIZE / 10);
        assertThat(peak).as("peak live pooled direct memory above the baseline").isLessThan(LIVE_BOUND);
    }

    @Test
    void aClientThatStopsReadingStallsTheOriginWhileGatehouseHoldsNoMoreThanItsWatermark() throws Exception {
        try (Socket client = new Socket()) {
            client.setReceiveBufferSize(64 * 1024); // before connect: a small window that fills at once
            client.connect(gatehouse.address(), 5000);
            client.setSoTimeout(10_000);
            OutputStream out = client.getOutputStream();
            out.write("GET /stall.log HTTP/1.1\r\nHost: a.example\r\nAccept-Encoding: gzip\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream raw = client.getInputStream();
            String head = readHead(raw);
            assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("content-encoding: gzip")
                    .containsIgnoringCase("transfer-encoding: chunked");
            InputStream decoded = new GZIPInputStream(new ChunkedStream(raw), 8 * 1024);
            long position = verify(decoded, 0, MiB);

            // The client stops reading. Streaming with backpressure, the origin stalls once the socket buffers and
            // Gatehouse's write watermark are full; a proxy that read on regardless would take all 1 GiB (and the
            // origin would not go quiet). The kernel buffers hold compressed bytes, hence tens of MiB of text.
            AtomicLong last = new AtomicLong(-1);
            await("the origin goes quiet while the client does not read")
                    .pollInterval(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10))
                    .until(() -> {
                        long now = originWritten.get();
                        return now == last.getAndSet(now);
                    });
            long stalledAt = originWritten.get();
            long held = peakLive.accumulateAndGet(liveDirect(), Math::max) - baselineLive;
            System.out.printf("origin stalled after %d KiB of %d MiB; peak live pooled direct memory %d KiB above the baseline%n",
                    stalledAt / 1024, STALL_SIZE / MiB, held / 1024);
            assertThat(stalledAt).as("bytes the origin wrote while the client did not read").isLessThan(STALL_SIZE / 4);
            assertThat(held).as("peak live pooled direct memory above the baseline").isLessThan(LIVE_BOUND);

            // reading again resumes the stream where it stopped, intact, and the origin writes again
            verify(decoded, position, 32 * MiB);
            await().atMost(Duration.ofSeconds(5)).until(() -> originWritten.get() > stalledAt);
        }
        assertThat(peakLive.get() - baselineLive).as("peak live pooled direct memory above the baseline").isLessThan(LIVE_BOUND);
    }

    /** Reads {@code length} bytes of the body from offset {@code position}, checking each; returns the new offset. */
    private static long verify(InputStream in, long position, long length) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long end = position + length;
        while (position < end) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, end - position));
            assertThat(n).as("bytes at offset " + position).isPositive();
            for (int k = 0; k < n; k++) {
                if (buf[k] != byteAt(position + k)) throw new AssertionError("wrong byte at offset " + (position + k));
            }
            position += n;
        }
        return position;
    }

    /** Answers each request with text, Content-Length framed: STALL_SIZE bytes for /stall.log, SIZE otherwise. */
    private static void serveText() {
        while (!origin.isClosed()) {
            try (Socket s = origin.accept()) {
                s.setSendBufferSize(64 * 1024); // little slack between the origin's count and what Gatehouse took
                String head = readHead(s.getInputStream());
                long size = head.startsWith("GET /stall.log ") ? STALL_SIZE : SIZE;
                originWritten.set(0);
                OutputStream out = s.getOutputStream();
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Length: " + size
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                byte[] piece = new byte[16 * 1024];
                for (long position = 0; position < size; ) {
                    int n = (int) Math.min(piece.length, size - position);
                    for (int k = 0; k < n; k++) piece[k] = byteAt(position + k);
                    out.write(piece, 0, n); // blocks while Gatehouse does not read
                    position += n;
                    originWritten.set(position);
                }
                out.flush();
            } catch (IOException e) {
                // the test ended or Gatehouse closed the connection
            }
        }
    }

    /** A message head up to its empty line, read byte by byte (it is small). */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new IOException("connection closed inside the head: " + head);
            head.append((char) b);
        }
        return head.toString();
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

    private static long firstMismatch(InputStream in, long size) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long position = 0;
        int n;
        while ((n = in.read(buf)) > 0) {
            for (int k = 0; k < n; k++) {
                if (buf[k] != byteAt(position + k)) return position + k;
            }
            position += n;
        }
        return position == size ? -1 : position;
    }

    /** Bytes in live pooled direct buffers: what the pool's chunks hold allocated, not the chunks' total size. */
    private static long liveDirect() {
        long live = 0;
        for (PoolArenaMetric arena : PooledByteBufAllocator.DEFAULT.metric().directArenas()) {
            live += arena.numActiveBytes(); // chunk sizes plus huge allocations
            for (PoolChunkListMetric list : arena.chunkLists()) {
                for (PoolChunkMetric chunk : list) live -= chunk.freeBytes();
            }
        }
        return live;
    }

    /** The body of a chunked message (RFC 9112 §7.1), trailers skipped. */
    private static final class ChunkedStream extends InputStream {
        private final InputStream in;
        private long left;    // of the current chunk
        private boolean done;

        ChunkedStream(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) return -1;
            if (left == 0) {
                String size = line();
                int semi = size.indexOf(';');
                left = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
                if (left == 0) {
                    while (!line().isEmpty()) {
                        // trailer fields
                    }
                    done = true;
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) throw new IOException("connection closed inside a chunk");
            left -= n;
            if (left == 0 && !line().isEmpty()) throw new IOException("no CRLF after a chunk");
            return n;
        }

        private String line() throws IOException {
            StringBuilder s = new StringBuilder();
            int b;
            while ((b = in.read()) != '\n') {
                if (b < 0) throw new IOException("connection closed inside a chunk line");
                if (b != '\r') s.append((char) b);
            }
            return s.toString();
        }
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
