package io.gatehouse.cache;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpClient.Version;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The origin read of a stored response goes at the origin's pace, not the first client's; responses of unknown length
 * stream to coalesced waiters; one that turns out too big midway still reaches every client whole (TLS; HTTP/1.1 and
 * HTTP/2). The origin is the test's: it counts requests (and range requests), holds bodies halfway on a gate, sends
 * chunked bodies with or without an ETag, answers {@code Range}/{@code If-Range}, and says when it has written a
 * response to the end.
 */
class CacheOriginPaceTest {
    static final int HALF = 256 * 1024;
    static HttpServer origin;
    static final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    static final Map<String, AtomicInteger> ranges = new ConcurrentHashMap<>();
    static final Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();
    static final Map<String, Integer> sizes = new ConcurrentHashMap<>();
    static final Map<String, CountDownLatch> written = new ConcurrentHashMap<>();
    static final ExecutorService originThreads = Executors.newCachedThreadPool();
    @TempDir
    static Path dir;
    static TestCertificates.Authority ca;
    static Gatehouse g;
    static HttpClient h1, h2;

    static byte[] body(int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (i * 31 + (i >> 10));
        return b;
    }

    /** {@code /fixed-*}: Content-Length; {@code /chunked-*}: chunked; {@code etag} in the path: with a strong ETag. */
    static void serve(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String range = exchange.getRequestHeaders().getFirst("range");
        counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        int size = sizes.getOrDefault(path, 2 * HALF);
        byte[] all = body(size);
        boolean etag = path.contains("etag");
        exchange.getResponseHeaders().set("cache-control", "max-age=60");
        if (etag) exchange.getResponseHeaders().set("etag", "\"v1\"");
        boolean chunked = path.contains("chunked");
        if (range != null && etag && "\"v1\"".equals(exchange.getRequestHeaders().getFirst("if-range"))) {
            ranges.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            int from = Integer.parseInt(range.substring("bytes=".length(), range.indexOf('-')));
            exchange.getResponseHeaders().set("content-range", "bytes " + from + "-" + (size - 1) + "/" + size);
            exchange.sendResponseHeaders(206, chunked ? 0 : size - from);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(all, from, size - from);
            }
            return;
        }
        exchange.sendResponseHeaders(200, chunked ? 0 : size);
        OutputStream out = exchange.getResponseBody();
        out.write(all, 0, HALF);
        out.flush();
        CountDownLatch gate = gates.get(path);
        try {
            if (gate != null && !gate.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("never released");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.write(all, HALF, size - HALF);
        out.close();
        exchange.close();
        written.computeIfAbsent(path, p -> new CountDownLatch(1)).countDown();
    }

    @BeforeAll
    static void start() throws Exception {
        origin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
        origin.setExecutor(originThreads);
        origin.createContext("/", exchange -> {
            try {
                serve(exchange);
            } catch (IOException | RuntimeException e) {
                exchange.close();
            }
        });
        origin.start();
        TestCertificates.PemFiles edge = (ca = TestCertificates.authority("Test CA")).issue("edge", "localhost", "127.0.0.1").writeTo(dir, "edge");
        g = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    tls:
                      certificates: [{cert: "%s", key: "%s"}]
                    routes:
                      - name: small
                        match: {path_prefix: /small}
                        cluster: app
                        filters:
                          - cache: {coalesce_timeout: 25s, max_object_size: 1MiB}
                      - name: all
                        cluster: app
                        filters:
                          - cache: {coalesce_timeout: 25s, max_object_size: 16MiB}
                clusters:
                  - name: app
                    endpoints: ["127.0.0.1:%d"]
                admin: {address: "off"}
                """.formatted(edge.cert(), edge.key(), origin.getAddress().getPort()), "origin-pace.yaml"));
        h1 = HttpClient.newBuilder().version(Version.HTTP_1_1).sslContext(ca.trustingContext()).connectTimeout(Duration.ofSeconds(5)).build();
        h2 = HttpClient.newBuilder().version(Version.HTTP_2).sslContext(ca.trustingContext()).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        if (g != null) g.shutdown(Duration.ofSeconds(1));
        if (origin != null) origin.stop(0);
        originThreads.shutdownNow();
    }

    static double coalesced() {
        return g.telemetry().metrics().registry().find("gatehouse.cache.coalesced").counters().stream()
                .mapToDouble(c -> c.count()).sum();
    }

    static URI uri(String path) {
        return URI.create("https://127.0.0.1:" + g.listenerAddress("edge").getPort() + path);
    }

    static CompletableFuture<HttpResponse<InputStream>> get(HttpClient client, String path) {
        return client.sendAsync(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /** A client that sends its request and then reads nothing (a tiny receive window: the edge cannot push much). */
    static SSLSocket stalled(String path) throws IOException {
        SSLSocket s = (SSLSocket) ca.trustingContext().getSocketFactory().createSocket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", g.listenerAddress("edge").getPort()), 5000);
        s.setSoTimeout(30_000);
        s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
        return s;
    }

    static boolean written(String path) {
        CountDownLatch l = written.get(path);
        return l != null && l.getCount() == 0;
    }

    // ---- 1. the first client does not pace the origin read ----

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void aFirstClientThatReadsNothingPacesNeitherTheOriginNorTheWaiters(Version v) throws Exception {
        String path = "/fixed-idle-first-" + v;
        int size = 8 << 20;
        sizes.put(path, size);
        gates.put(path, new CountDownLatch(1));
        double before = coalesced();
        SSLSocket first = stalled(path);
        first.startHandshake();
        await().atMost(Duration.ofSeconds(10)).until(() -> counts.containsKey(path));
        var second = get(v == Version.HTTP_2 ? h2 : h1, path);
        await().atMost(Duration.ofSeconds(10)).until(() -> coalesced() - before >= 1);
        gates.get(path).countDown();
        byte[] expected = body(size);
        HttpResponse<InputStream> r = second.get(30, TimeUnit.SECONDS);
        assertThat(r.headers().firstValue("cache-status").orElseThrow()).contains("collapsed");
        assertThat(r.body().readAllBytes()).isEqualTo(expected);
        // the origin wrote all 8 MiB and its handler returned while the first client has read nothing
        assertThat(written.get(path).await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(counts.get(path).get()).isEqualTo(1);
        RawHttp.Response slow = RawHttp.read(first.getInputStream());
        first.close();
        assertThat(slow.status()).isEqualTo(200);
        assertThat(slow.body()).isEqualTo(expected);
    }

    @Test
    void aSlowFirstClientOnALargeObjectDoesNotHoldTheOriginConnection() throws Exception {
        String path = "/fixed-slow-first";
        int size = 12 << 20;
        sizes.put(path, size);
        SSLSocket first = stalled(path);
        first.startHandshake();
        // nobody else asks: the origin still writes the whole body, and the object is stored, before the client reads
        assertThat(written.computeIfAbsent(path, p -> new CountDownLatch(1)).await(20, TimeUnit.SECONDS)).isTrue();
        byte[] expected = body(size);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HttpResponse<byte[]> hit = h2.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(hit.headers().firstValue("cache-status").orElseThrow()).contains("hit");
            assertThat(hit.body()).isEqualTo(expected);
        });
        assertThat(counts.get(path).get()).isEqualTo(1);
        // the origin connection went back to the pool: the next miss reuses one rather than waiting for the client
        String next = "/fixed-after-slow-first";
        sizes.put(next, 2 * HALF);
        HttpResponse<byte[]> other = h1.send(HttpRequest.newBuilder(uri(next)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(other.body()).isEqualTo(body(2 * HALF));
        RawHttp.Response slow = RawHttp.read(first.getInputStream());
        first.close();
        assertThat(slow.body()).isEqualTo(expected);
    }

    // ---- 2. responses of unknown length stream to waiters ----

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void aChunkedObjectStreamsToFiftyCoalescedWaitersWithOneOriginRequest(Version v) throws Exception {
        HttpClient client = v == Version.HTTP_2 ? h2 : h1;
        String path = "/chunked-fifty-" + v;
        gates.put(path, new CountDownLatch(1));
        double before = coalesced();
        var leader = get(client, path);
        await().atMost(Duration.ofSeconds(10)).until(() -> counts.containsKey(path));
        List<CompletableFuture<HttpResponse<InputStream>>> waiters = new ArrayList<>();
        for (int i = 0; i < 50; i++) waiters.add(get(client, path));
        await().atMost(Duration.ofSeconds(20)).until(() -> coalesced() - before >= 50);
        byte[] expected = body(2 * HALF);
        for (var w : waiters) {
            HttpResponse<InputStream> r = w.get(20, TimeUnit.SECONDS);   // the head while the origin is held
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("cache-status").orElseThrow()).contains("collapsed");
            assertThat(r.headers().firstValue("content-length")).isEmpty();
            assertThat(r.body().readNBytes(HALF)).isEqualTo(Arrays.copyOf(expected, HALF));
        }
        assertThat(gates.get(path).getCount()).isEqualTo(1);   // all of that before the origin sent its second half
        gates.get(path).countDown();
        for (var w : waiters) assertThat(w.get().body().readAllBytes()).isEqualTo(Arrays.copyOfRange(expected, HALF, 2 * HALF));
        assertThat(leader.get(20, TimeUnit.SECONDS).body().readAllBytes()).isEqualTo(expected);
        assertThat(counts.get(path).get()).isEqualTo(1);
        HttpResponse<byte[]> hit = client.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(hit.headers().firstValue("cache-status").orElseThrow()).contains("hit");
        assertThat(hit.body()).isEqualTo(expected);
        assertThat(counts.get(path).get()).isEqualTo(1);
    }

    /**
     * 3 MiB chunked through a route whose max_object_size is 1 MiB, with waiters (one of which reads nothing) already
     * streaming when it outgrows the buffer: every client gets all the bytes, the first one from the origin's own
     * response, the waiters by a range request from where the buffer ended (If-Range on the ETag) or, without a
     * validator, a whole GET whose first bytes are skipped.
     */
    @ParameterizedTest
    @CsvSource({"HTTP_1_1,etag", "HTTP_2,etag", "HTTP_1_1,plain", "HTTP_2,plain"})
    void aChunkedObjectThatTurnsOutTooBigReachesEveryClientWhole(Version v, String validator) throws Exception {
        HttpClient client = v == Version.HTTP_2 ? h2 : h1;
        String path = "/small/chunked-too-big-" + validator + "-" + v;
        int size = 3 << 20;
        sizes.put(path, size);
        gates.put(path, new CountDownLatch(1));
        double before = coalesced();
        var leader = get(client, path);
        await().atMost(Duration.ofSeconds(10)).until(() -> counts.containsKey(path));
        SSLSocket idle = stalled(path);
        idle.startHandshake();
        List<CompletableFuture<HttpResponse<InputStream>>> waiters = new ArrayList<>();
        for (int i = 0; i < 3; i++) waiters.add(get(client, path));
        await().atMost(Duration.ofSeconds(20)).until(() -> coalesced() - before >= 4);
        byte[] expected = body(size);
        for (var w : waiters) {
            HttpResponse<InputStream> r = w.get(20, TimeUnit.SECONDS);
            assertThat(r.body().readNBytes(HALF)).isEqualTo(Arrays.copyOf(expected, HALF));   // mid-stream
        }
        gates.get(path).countDown();
        // the idle waiter stalls no one: the others finish while it has read nothing past its head
        assertThat(leader.get(30, TimeUnit.SECONDS).body().readAllBytes()).isEqualTo(expected);
        for (var w : waiters) assertThat(w.get().body().readAllBytes()).isEqualTo(Arrays.copyOfRange(expected, HALF, size));
        RawHttp.Response slow = RawHttp.read(idle.getInputStream());
        idle.close();
        assertThat(slow.status()).isEqualTo(200);
        assertThat(slow.body()).isEqualTo(expected);
        // one response for the leader, one continuation per waiter; range requests exactly when there is a validator
        assertThat(counts.get(path).get()).isEqualTo(1 + 4);
        assertThat(ranges.getOrDefault(path, new AtomicInteger()).get()).isEqualTo(validator.equals("etag") ? 4 : 0);
        // not stored: the next request goes to the origin
        HttpResponse<byte[]> again = client.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(again.body()).isEqualTo(expected);
        assertThat(counts.get(path).get()).isEqualTo(1 + 4 + 1);
    }
}
