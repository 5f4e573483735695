package io.gatehouse.cache;

import com.sun.net.httpserver.HttpServer;
import io.gatehouse.Protocol;
import io.gatehouse.clock.ManualClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Request coalescing's time bound and its scale, over real sockets on HTTP/1.1 and HTTP/2. The origin holds the
 * first request of a path until the test lets it go (later ones answer at once), numbers its answers, and counts
 * requests. {@code coalesce_timeout} runs on the server's clock, which the test moves (a {@link ManualClock}): the
 * {@code /slow} route's 20 s pass in no time, and a waiter is let go when the clock, not the wall, says so. The other
 * route keeps 25 s, and the clock stands still while the thousand waiters there wait.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Protocol.class)
class CacheCoalescingTimeoutTest {
    static HttpServer origin;
    static final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    static final Map<String, CountDownLatch> holdFirst = new ConcurrentHashMap<>();
    static final ExecutorService originThreads = Executors.newCachedThreadPool();
    static CacheEdge edge;
    static ManualClock clock;
    @Parameter
    Protocol protocol;

    @BeforeAll
    static void startOrigin() throws Exception {
        origin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 2000);
        origin.setExecutor(originThreads);
        origin.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            int n = counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            CountDownLatch gate = holdFirst.get(path);
            try {
                if (n == 1 && gate != null && !gate.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("never released");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = ("body of " + path + " #" + n).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("cache-control", path.startsWith("/private") ? "no-store" : "max-age=60");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        origin.start();
    }

    @BeforeEach
    void startFor() {
        if (edge != null && edge.protocol == protocol) return;
        stopEdge();
        counts.clear();
        holdFirst.clear();
        clock = new ManualClock();
        edge = CacheEdge.start(protocol, """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    {tls}
                    http2: {max_concurrent_streams: 300}
                    routes:
                      - name: bounded
                        match: {path_prefix: /slow}
                        cluster: app
                        filters: [cache: {x_cache: true, coalesce_timeout: 20s}]
                      - name: all
                        cluster: app
                        filters: [cache: {x_cache: true, coalesce_timeout: 25s}]
                clusters:
                  - name: app
                    endpoints: ["127.0.0.1:%d"]
                admin: {address: "off"}
                """.formatted(origin.getAddress().getPort()), clock);
    }

    static void stopEdge() {
        if (edge != null) edge.close();
        edge = null;
    }

    @AfterAll
    static void stop() {
        stopEdge();
        if (origin != null) origin.stop(0);
        originThreads.shutdownNow();
    }

    double coalesced(String route) {
        return edge.counter("gatehouse.cache.coalesced", route);
    }

    CompletableFuture<HttpResponse<String>> fire(HttpClient client, String path) {
        return client.sendAsync(HttpRequest.newBuilder(edge.uri(path)).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aWaiterWhoseFlightOutlastsTheTimeoutGoesToTheOriginItself() throws Exception {
        String p = "/slow";
        CountDownLatch gate = new CountDownLatch(1);
        holdFirst.put(p, gate);
        try {
            var leader = fire(edge.client, p);
            await().atMost(Duration.ofSeconds(10)).until(() -> counts.containsKey(p) && counts.get(p).get() == 1);
            double before = coalesced("bounded");
            var waiter = fire(edge.client, p);
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(() -> coalesced("bounded") > before);

            // short of its bound on the clock, it keeps waiting (the flight looks at the clock every 50 ms)
            clock.advance(Duration.ofSeconds(19));
            // atMost leaves room for a stall; both parts only ever turn false, so a longer atMost cannot let a flap pass
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10)).until(() -> !waiter.isDone() && counts.get(p).get() == 1);
            // past it, it goes to the origin itself at once: 20 s on the clock, far less on the wall
            clock.advance(Duration.ofSeconds(2));
            HttpResponse<String> w = waiter.get(10, TimeUnit.SECONDS);
            assertThat(w.version()).isEqualTo(protocol.version());
            assertThat(w.statusCode()).isEqualTo(200);
            assertThat(w.body()).isEqualTo("body of " + p + " #2");
            assertThat(leader).isNotDone();
            assertThat(counts.get(p).get()).isEqualTo(2);

            gate.countDown();
            HttpResponse<String> l = leader.get(10, TimeUnit.SECONDS);
            assertThat(l.statusCode()).isEqualTo(200);
            assertThat(l.body()).isEqualTo("body of " + p + " #1");
            assertThat(counts.get(p).get()).isEqualTo(2);
            assertThat(edge.xCache(p)).isEqualTo("HIT");
        } finally {
            gate.countDown();
        }
    }

    @Test
    void anUncacheableResponseReleasesTheWaitersToTheOriginAtOnce() throws Exception {
        String p = "/private-page";
        CountDownLatch gate = new CountDownLatch(1);
        holdFirst.put(p, gate);
        try {
            double before = coalesced("all");
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 20; i++) all.add(fire(edge.client, p));
            await().atMost(Duration.ofSeconds(30)).until(() -> coalesced("all") - before >= 19);
            assertThat(counts.get(p).get()).isEqualTo(1);
            // the first answer is no-store: the 19 waiters go to the origin at once (no serialisation behind one
            // another, Varnish's hit-for-pass trap), with the clock standing still, so no timeout let them go
            gate.countDown();
            java.util.Set<String> bodies = new java.util.HashSet<>();
            for (var f : all) {
                HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
                assertThat(r.version()).isEqualTo(protocol.version());
                assertThat(r.statusCode()).isEqualTo(200);
                bodies.add(r.body());
            }
            assertThat(counts.get(p).get()).isEqualTo(20);
            assertThat(bodies).as("each its own origin answer").hasSize(20);
        } finally {
            gate.countDown();
        }
    }

    @Test
    void aThousandConcurrentMissesMakeOneOriginRequest() throws Exception {
        String p = "/popular";
        CountDownLatch gate = new CountDownLatch(1);
        holdFirst.put(p, gate);
        // four clients: on HTTP/2 four connections of 250 streams each (the listener allows 300)
        List<HttpClient> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            HttpClient c = protocol.client();
            assertThat(c.send(HttpRequest.newBuilder(edge.uri("/warm-" + i)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);   // its connection is up
            clients.add(c);
        }
        try {
            double before = coalesced("all");
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 1000; i++) all.add(fire(clients.get(i % 4), p));
            await().atMost(Duration.ofSeconds(60)).until(() -> coalesced("all") - before >= 999);
            assertThat(counts.get(p).get()).isEqualTo(1);
            gate.countDown();
            for (var f : all) {
                HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
                assertThat(r.version()).isEqualTo(protocol.version());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("body of " + p + " #1");
            }
            assertThat(counts.get(p).get()).isEqualTo(1);
        } finally {
            gate.countDown();
            for (HttpClient c : clients) c.close();
        }
    }
}
