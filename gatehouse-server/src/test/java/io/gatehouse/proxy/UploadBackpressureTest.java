package io.gatehouse.proxy;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.BodyPattern;
import org.junit.jupiter.api.Test;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An upload to an endpoint that stops reading: Gatehouse stops reading from the client (which is paused by TCP),
 * holds a bounded amount meanwhile, does not time the client out for it, and delivers every byte once the endpoint
 * reads again.
 */
class UploadBackpressureTest {
    private static final long BODY = 256L * 1024 * 1024;
    /** What the socket buffers on the way can hold (loopback autotuning included), with room to spare. */
    private static final long BUFFERS = 48L * 1024 * 1024;

    /** Reads at most {@code limit} bytes of {@code in}, then reports its end. */
    private static InputStream limited(InputStream in, long limit) {
        return new FilterInputStream(in) {
            long left = limit;

            @Override
            public int read() throws IOException {
                if (left <= 0) return -1;
                int b = super.read();
                if (b >= 0) left--;
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left <= 0) return -1;
                int n = super.read(b, off, (int) Math.min(len, left));
                if (n > 0) left -= n;
                return n;
            }
        };
    }

    @Test
    void anEndpointThatStopsReadingPausesTheClientWithBoundedMemory() throws Exception {
        CountDownLatch readAgain = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(2); // the common pool may have one thread only
        try (ServerSocket endpoint = new ServerSocket(0)) {
            // the endpoint reads the head, stops reading, then (when told) reads the body and checks every byte
            CompletableFuture<Long> endpointSaw = CompletableFuture.supplyAsync(() -> {
                try (Socket s = endpoint.accept()) {
                    InputStream in = s.getInputStream();
                    StringBuilder head = new StringBuilder();
                    while (!head.toString().endsWith("\r\n\r\n")) head.append((char) in.read());
                    readAgain.await(60, TimeUnit.SECONDS);
                    long mismatch = BodyPattern.firstMismatch(limited(in, BODY), BODY);
                    s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
                    return mismatch;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, threads);
            try (GatehouseFixture g = GatehouseFixture.start("""
                    listeners:
                      - name: edge
                        address: 127.0.0.1:0
                        timeouts: {request_body_idle: 500ms}
                        routes: [{name: all, cluster: app}]
                    clusters: [{name: app, endpoints: ["127.0.0.1:%d"]}]
                    """.formatted(endpoint.getLocalPort()));
                 Socket client = new Socket()) {
                client.connect(g.address(), 5000);
                client.setSoTimeout(30_000);
                AtomicLong written = new AtomicLong();
                CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
                    try {
                        OutputStream out = client.getOutputStream();
                        out.write(("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + BODY + "\r\n\r\n")
                                .getBytes(StandardCharsets.ISO_8859_1));
                        byte[] chunk = new byte[64 * 1024];
                        for (long at = 0; at < BODY; at += chunk.length) {
                            BodyPattern.fill(chunk, 0, chunk.length, at);
                            out.write(chunk);
                            written.addAndGet(chunk.length);
                        }
                        out.flush();
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }, threads);
                // the client's writes stop: two looks 300 ms apart see the same count
                AtomicLong seen = new AtomicLong(-1);
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                        .until(() -> written.get() > 0 && written.get() == seen.getAndSet(written.get()));
                assertThat(written.get()).as("bytes the client got rid of while the endpoint did not read")
                        .isLessThan(BUFFERS);
                // well past the body idle timeout: the client is not blamed for waiting on the endpoint
                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> !upload.isDone());
                readAgain.countDown();
                upload.get(60, TimeUnit.SECONDS);
                assertThat(endpointSaw.get(60, TimeUnit.SECONDS)).as("first wrong byte at the endpoint").isEqualTo(-1);
                assertThat(statusLine(client)).isEqualTo("HTTP/1.1 200 OK");
            }
        } finally {
            threads.shutdownNow();
        }
    }

    private static String statusLine(Socket client) throws IOException {
        InputStream in = client.getInputStream();
        StringBuilder line = new StringBuilder();
        for (int b; (b = in.read()) >= 0 && b != '\n'; ) line.append((char) b);
        return line.toString().strip();
    }
}
