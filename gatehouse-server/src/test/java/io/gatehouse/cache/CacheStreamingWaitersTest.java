package io.gatehouse.cache;

import com.sun.net.httpserver.HttpServer;
import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import javax.net.ssl.SSLSocket;
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
 * Coalesced waiters are served while the response streams in (TLS; HTTP/1.1 and HTTP/2): the origin, which the test
 * holds halfway through the body, has sent one response, and every waiter already has the head and the first half;
 * a waiter whose client reads nothing stalls neither the origin read nor the other clients.
 */
class CacheStreamingWaitersTest {
    static final int HALF = 256 * 1024;
    static HttpServer origin;
    static final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    static final Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();
    static final Map<String, Integer> sizes = new ConcurrentHashMap<>();
    static final ExecutorService originThreads = Executors.newCachedThreadPool();
    @TempDir
    static Path dir;
    static TestCertificates.Authority ca;
    static Gatehouse g;
    static HttpClient h1, h2;

    static byte[] body(int size) {
        return body(size, null);
    }

    static byte[] body(int size, String lang) {
        int seed = lang == null ? 0 : lang.hashCode();
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (i * 31 + (i >> 10) + seed);
        return b;
    }

    @BeforeAll
    static void start() throws Exception {
        origin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 100);
        origin.setExecutor(originThreads);
        origin.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            int size = sizes.getOrDefault(path, 2 * HALF);
            // under /vary the representation depends on Accept-Language, and says so
            String lang = path.startsWith("/vary") ? exchange.getRequestHeaders().getFirst("accept-language") : null;
            byte[] all = body(size, lang);
            if (path.startsWith("/vary")) exchange.getResponseHeaders().set("vary", "accept-language");
            exchange.getResponseHeaders().set("cache-control", "max-age=60");
            exchange.sendResponseHeaders(200, size);
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
            exchange.close();
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
                      - name: all
                        cluster: app
                        filters:
                          - cache: {coalesce_timeout: 25s, max_object_size: 16MiB}
                clusters:
                  - name: app
                    endpoints: ["127.0.0.1:%d"]
                admin: {address: "off"}
                """.formatted(edge.cert(), edge.key(), origin.getAddress().getPort()), "streaming.yaml"));
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
        return g.telemetry().metrics().registry().get("gatehouse.cache.coalesced").counter().count();
    }

    static CompletableFuture<HttpResponse<InputStream>> get(HttpClient client, String path) {
        URI uri = URI.create("https://127.0.0.1:" + g.listenerAddress("edge").getPort() + path);
        return client.sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    static CompletableFuture<HttpResponse<InputStream>> get(HttpClient client, String path, String lang) {
        URI uri = URI.create("https://127.0.0.1:" + g.listenerAddress("edge").getPort() + path);
        return client.sendAsync(HttpRequest.newBuilder(uri).header("accept-language", lang).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void aWaiterWhoseRequestSelectsAnotherVariantIsNeverServedTheLeadersResponse(Version v) throws Exception {
        HttpClient client = v == Version.HTTP_2 ? h2 : h1;
        String path = "/vary-" + v;
        gates.put(path, new CountDownLatch(1));
        var leader = get(client, path, "en");
        await().atMost(Duration.ofSeconds(10)).until(() -> counts.containsKey(path));
        double before = coalesced();
        var french = get(client, path, "fr");   // same primary key, another variant: joins, must not take the stream
        var english = get(client, path, "en");  // the leader's variant: served from the stream
        await().atMost(Duration.ofSeconds(10)).until(() -> coalesced() - before >= 2);
        HttpResponse<InputStream> sameVariant = english.get(20, TimeUnit.SECONDS);   // while the origin is held
        assertThat(sameVariant.headers().firstValue("cache-status").orElseThrow()).contains("collapsed");
        assertThat(sameVariant.body().readNBytes(HALF)).isEqualTo(java.util.Arrays.copyOf(body(2 * HALF, "en"), HALF));
        assertThat(french).isNotDone();
        gates.get(path).countDown();
        assertThat(leader.get(20, TimeUnit.SECONDS).body().readAllBytes()).isEqualTo(body(2 * HALF, "en"));
        assertThat(french.get(20, TimeUnit.SECONDS).body().readAllBytes()).isEqualTo(body(2 * HALF, "fr"));
        assertThat(counts.get(path).get()).isEqualTo(2);   // the leader's and the French one's own
    }

    @ParameterizedTest
    @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
    void waitersGetTheHeadAndTheFirstBytesBeforeTheOriginFinishes(Version v) throws Exception {
        HttpClient client = v == Version.HTTP_2 ? h2 : h1;
        String path = "/streamed-" + v;
        gates.put(path, new CountDownLatch(1));
        double before = coalesced();
        var leader = get(client, path);
        await().atMost(Duration.ofSeconds(10)).until(() -> counts.containsKey(path));
        List<CompletableFuture<HttpResponse<InputStream>>> waiters = new ArrayList<>();
        for (int i = 0; i < 3; i++) waiters.add(get(client, path));
        byte[] expected = body(2 * HALF);
        for (var w : waiters) {
            HttpResponse<InputStream> r = w.get(20, TimeUnit.SECONDS);   // the head, while the origin is held
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("cache-status").orElseThrow()).contains("collapsed");
            assertThat(r.headers().firstValueAsLong("content-length")).hasValue(2L * HALF);
            byte[] first = r.body().readNBytes(HALF);
            assertThat(first).isEqualTo(java.util.Arrays.copyOf(expected, HALF));
        }
        // the origin has still not sent the second half: the waiters had the first while it streamed
        assertThat(gates.get(path).getCount()).isEqualTo(1);
        assertThat(coalesced() - before).isEqualTo(3);
        gates.get(path).countDown();
        for (var w : waiters) {
            InputStream rest = w.get().body();
            assertThat(rest.readAllBytes()).isEqualTo(java.util.Arrays.copyOfRange(expected, HALF, 2 * HALF));
        }
        assertThat(leader.get(20, TimeUnit.SECONDS).body().readAllBytes()).isEqualTo(expected);
        assertThat(counts.get(path).get()).isEqualTo(1);
        // and it was stored: the next one is a plain hit
        HttpResponse<byte[]> hit = client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + g.listenerAddress("edge").getPort() + path)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(hit.headers().firstValue("cache-status").orElseThrow()).contains("hit");
        assertThat(hit.body()).isEqualTo(expected);
        assertThat(counts.get(path).get()).isEqualTo(1);
    }

    @Test
    void aWaiterThatReadsNothingStallsNeitherTheOriginNorTheOthers() throws Exception {
        String path = "/slow-reader";
        int size = 8 << 20;
        sizes.put(path, size);
        gates.put(path, new CountDownLatch(1));
        var leader = get(h2, path);
        await().atMost(Duration.ofSeconds(10)).until(() -> counts.containsKey(path));
        // a client with a tiny receive window that reads only the head
        SSLSocket slow = (SSLSocket) ca.trustingContext().getSocketFactory().createSocket();
        slow.setReceiveBufferSize(4096);
        slow.connect(new InetSocketAddress("127.0.0.1", g.listenerAddress("edge").getPort()), 5000);
        slow.setSoTimeout(30_000);
        slow.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        slow.getOutputStream().flush();
        InputStream in = slow.getInputStream();
        String status = RawHttp.line(in);
        assertThat(status).contains("200");
        var fast = get(h1, path);
        await().atMost(Duration.ofSeconds(10)).until(() -> coalesced() >= 2);
        gates.get(path).countDown();
        byte[] expected = body(size);
        assertThat(leader.get(30, TimeUnit.SECONDS).body().readAllBytes()).isEqualTo(expected);
        assertThat(fast.get(30, TimeUnit.SECONDS).body().readAllBytes()).isEqualTo(expected);
        // the slow one gets everything when it reads at last
        while (!RawHttp.line(in).isEmpty()) {
            // the rest of the head
        }
        assertThat(in.readNBytes(size)).isEqualTo(expected);
        slow.close();
        assertThat(counts.get(path).get()).isEqualTo(1);
    }
}
