package io.gatehouse.cache;

import com.sun.net.httpserver.HttpServer;
import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request coalescing over real sockets: an origin the test holds (it answers only when the test lets it) and counts
 * requests on, 1,000 concurrent HTTP/1.1 clients.
 */
class CacheCoalescingTest {
    static HttpServer origin;
    static final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    static final Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();
    static Gatehouse g;
    static final java.util.concurrent.ExecutorService originThreads = Executors.newCachedThreadPool();
    static final java.util.concurrent.ExecutorService clientThreads = Executors.newFixedThreadPool(4);

    @BeforeAll
    static void start() throws Exception {
        origin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 2000);
        origin.setExecutor(originThreads);
        origin.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            CountDownLatch gate = gates.get(path);
            try {
                if (gate != null && !gate.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("never released");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = ("body of " + path).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("cache-control", path.startsWith("/private") ? "no-store" : "max-age=60");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        origin.start();
        g = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: all
                        cluster: app
                        filters:
                          - cache: {coalesce_timeout: 25s}
                clusters:
                  - name: app
                    endpoints: ["127.0.0.1:%d"]
                admin: {address: "off"}
                """.formatted(origin.getAddress().getPort()), "coalesce.yaml"));
    }

    @AfterAll
    static void stop() {
        if (g != null) g.shutdown(Duration.ofSeconds(1));
        if (origin != null) origin.stop(0);
        originThreads.shutdownNow();
        clientThreads.shutdownNow();
    }

    double coalesced() {
        return g.telemetry().metrics().registry().get("gatehouse.cache.coalesced").counter().count();
    }

    List<CompletableFuture<HttpResponse<String>>> fire(HttpClient client, String path, int n) {
        URI uri = URI.create("http://127.0.0.1:" + g.listenerAddress("edge").getPort() + path);
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(client.sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        return all;
    }

    @Test
    void aThousandConcurrentMissesMakeOneOriginRequest() throws Exception {
        String path = "/popular";
        gates.put(path, new CountDownLatch(1));
        double before = coalesced();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(20))
                .executor(clientThreads).build();
        var all = fire(client, path, 1000);
        // every request but the first is waiting for the first's response before the origin answers at all
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> coalesced() - before >= 999);
        assertThat(counts.get(path).get()).isEqualTo(1);
        gates.get(path).countDown();
        for (var f : all) {
            HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("body of " + path);
        }
        assertThat(counts.get(path).get()).isEqualTo(1);
        double saved = g.telemetry().metrics().registry().get("gatehouse.cache.origin.saved").counter().count();
        assertThat(saved).isGreaterThanOrEqualTo(999);
    }

    @Test
    void anUncacheableResponseReleasesTheWaitersToTheOriginAtOnce() throws Exception {
        String path = "/private-page";
        gates.put(path, new CountDownLatch(1));
        double before = coalesced();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(20)).build();
        var all = fire(client, path, 20);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> coalesced() - before >= 19);
        assertThat(counts.get(path).get()).isEqualTo(1);
        gates.get(path).countDown();   // the first answer is no-store: the 19 others go to the origin, all at once
        for (var f : all) assertThat(f.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(counts.get(path).get()).isEqualTo(20);
    }
}
