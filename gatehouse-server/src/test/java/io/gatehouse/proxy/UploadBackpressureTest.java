package io.gatehouse.proxy;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.Protocol;
import io.gatehouse.testing.BodyPattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
 * An upload to an endpoint that stops reading: Gatehouse stops taking the client's body, holds a bounded amount
 * meanwhile, does not time the client out for it, and delivers every byte once the endpoint reads again. On HTTP/1.1
 * the client is paused by TCP (the edge stops reading the connection); on HTTP/2 by the stream's flow-control window
 * (the edge keeps reading the connection, but returns a stream's window only as the endpoint takes its bytes).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Protocol.class)
class UploadBackpressureTest {
    private static final long BODY = 256L * 1024 * 1024;
    /** What the socket buffers on the way can hold (loopback autotuning included), with room to spare. */
    private static final long BUFFERS = 48L * 1024 * 1024;

    @Parameter
    Protocol protocol;

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
        ExecutorService threads = Executors.newFixedThreadPool(3); // the common pool may have one thread only
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
                        %s
                        timeouts: {request_body_idle: 500ms}
                        routes: [{name: all, cluster: app}]
                    clusters: [{name: app, endpoints: ["127.0.0.1:%d"]}]
                    """.formatted(protocol.listenerTls(), endpoint.getLocalPort()))) {
                AtomicLong written = new AtomicLong();
                CompletableFuture<String> upload = protocol == Protocol.HTTP_1_1
                        ? http1Upload(g.address(), written, threads)
                        : http2Upload(g.address().getPort(), written, threads);
                // the client's sending stops: two looks 300 ms apart see the same count
                AtomicLong seen = new AtomicLong(-1);
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                        .until(() -> written.get() > 0 && written.get() == seen.getAndSet(written.get()));
                System.out.printf("%s: the client got rid of %d bytes of %d while the endpoint did not read%n",
                        protocol, written.get(), BODY);
                assertThat(written.get()).as("bytes the client got rid of while the endpoint did not read")
                        .isLessThan(BUFFERS);
                // well past the body idle timeout: the client is not blamed for waiting on the endpoint
                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10)).until(() -> !upload.isDone()); // room for a stall
                assertThat(written.get()).as("still held back a second later").isLessThan(BUFFERS);
                readAgain.countDown();
                assertThat(endpointSaw.get(90, TimeUnit.SECONDS)).as("first wrong byte at the endpoint").isEqualTo(-1);
                assertThat(upload.get(30, TimeUnit.SECONDS)).isEqualTo("200 ok");
                assertThat(written.get()).isEqualTo(BODY);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    /** The upload on a raw HTTP/1.1 socket (paused by TCP when the edge stops reading); its status and body. */
    private static CompletableFuture<String> http1Upload(InetSocketAddress edge, AtomicLong written, ExecutorService threads) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket client = new Socket()) {
                client.connect(edge, 5000);
                client.setSoTimeout(60_000);
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
                String status = line(client).split(" ")[1];
                while (!line(client).isEmpty()) {
                    // the rest of the head: the endpoint's body is two bytes
                }
                return status + " " + new String(client.getInputStream().readNBytes(2), StandardCharsets.ISO_8859_1);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, threads);
    }

    /**
     * The upload over HTTP/2 (TLS, the JDK client, which sends only what the stream's flow-control window allows):
     * {@code written} counts what the client took from the body, so it stalls when the edge stops opening the window.
     */
    private static CompletableFuture<String> http2Upload(int port, AtomicLong written, ExecutorService threads) {
        HttpClient client = Protocol.HTTP_2.clientBuilder().executor(threads).build();
        HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.fromPublisher(
                HttpRequest.BodyPublishers.ofInputStream(() -> counted(BodyPattern.inputStream(BODY), written)), BODY);
        HttpRequest request = HttpRequest.newBuilder(Protocol.HTTP_2.uri(port, "/upload"))
                .timeout(Duration.ofSeconds(120)).POST(body).build();
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            return r.statusCode() + " " + r.body();
        });
    }

    private static InputStream counted(InputStream in, AtomicLong count) {
        return new FilterInputStream(in) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) count.addAndGet(n);
                return n;
            }
        };
    }

    private static String line(Socket client) throws IOException {
        InputStream in = client.getInputStream();
        StringBuilder line = new StringBuilder();
        for (int b; (b = in.read()) >= 0 && b != '\n'; ) line.append((char) b);
        return line.toString().strip();
    }
}
