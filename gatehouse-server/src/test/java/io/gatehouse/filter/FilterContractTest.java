package io.gatehouse.filter;

import io.gatehouse.FilterTypes;
import io.gatehouse.GatehouseFixture;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The filter contract's promises, over real sockets: misuse is caught rather than hung, a filter may proceed later
 * from another thread, a client that leaves meanwhile costs the endpoint nothing, and the completion hook fires once
 * for every kind of end, local answers included, with the route and request id already set. On HTTP/1.1 and on
 * HTTP/2 (TLS, ALPN h2), where the client that leaves resets its stream and keeps the connection.
 */
@org.junit.jupiter.params.ParameterizedClass(name = "{0}")
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
public class FilterContractTest {
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol protocol;

    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("origin");

    public record Behaviour(String kind) {}

    /** What the test filters saw; reset before each test. */
    static final List<Object> seen = new CopyOnWriteArrayList<>();
    static final AtomicInteger completions = new AtomicInteger();
    static final AtomicReference<HttpExchange> completed = new AtomicReference<>();
    /** Set by a test: the later filter proceeds when this completes. */
    static volatile CompletableFuture<Void> release = new CompletableFuture<>();
    static volatile CompletableFuture<Void> proceededLater = new CompletableFuture<>();

    @BeforeAll
    static void register() {
        FilterTypes.register("test_behaviour", Behaviour.class, (config, context) -> (exchange, chain) -> {
            switch (config.kind()) {
                case "twice" -> {
                    chain.proceed(exchange);
                    try {
                        chain.proceed(exchange);
                    } catch (IllegalStateException e) {
                        seen.add(e);
                    }
                }
                case "stall" -> {
                    // returns having neither answered nor proceeded: a bug
                }
                case "later" -> {
                    chain.later(exchange);
                    release.thenRunAsync(() -> {
                        chain.proceed(exchange); // from a thread that is not the event loop
                        proceededLater.complete(null);
                    });
                }
                case "observe" -> {
                    seen.add(exchange.eventLoop().inEventLoop() ? "on the event loop" : "elsewhere");
                    seen.add(exchange.requestId() == null ? "no id" : "id");
                    chain.proceed(exchange);
                }
                case "hook" -> {
                    exchange.onComplete(e -> {
                        completions.incrementAndGet();
                        completed.set(e);
                    });
                    chain.proceed(exchange);
                }
                default -> throw new IllegalArgumentException(config.kind());
            }
        });
    }

    private GatehouseFixture g;

    @BeforeEach
    void reset() {
        seen.clear();
        completions.set(0);
        completed.set(null);
        release = new CompletableFuture<>();
        proceededLater = new CompletableFuture<>();
    }

    @AfterEach
    void stop() {
        if (g != null) g.close();
    }

    private GatehouseFixture start(String... kinds) {
        StringBuilder filters = new StringBuilder();
        for (String k : kinds) {
            filters.append("\n          - ").append(k.contains(":") ? k : "test_behaviour: {kind: " + k + "}");
        }
        g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: app
                        cluster: app
                        filters:%s
                clusters:
                  - name: app
                    endpoints: ["%s"]
                """.formatted(protocol.listenerTls(), filters, backend.address()));
        client = protocol.client();
        return g;
    }

    private java.net.http.HttpClient client;

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(protocol.uri(g.address().getPort(), path)).timeout(Duration.ofSeconds(10));
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(r.version()).isEqualTo(protocol.version());
            return r;
        } catch (Exception e) {
            throw new AssertionError("request failed: " + e, e);
        }
    }

    private HttpResponse<String> get(String path) {
        return send(request(path).build());
    }

    @Test
    void proceedingTwiceIsRefusedAndTheRequestGoesUpstreamOnce() {
        start("twice");
        backend.enqueue(TestResponse.ok("once"));
        HttpResponse<String> r = get("/x");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("once");
        assertThat(seen).singleElement().isInstanceOf(IllegalStateException.class);
        assertThat(((Exception) seen.get(0)).getMessage()).contains("proceed called twice");
        assertThat(backend.requestCount()).isEqualTo(1);
    }

    @Test
    void aFilterThatNeitherAnswersNorProceedsGets500NotAHang() {
        start("stall", "hook");
        HttpResponse<String> r = get("/x");
        assertThat(r.statusCode()).isEqualTo(500);
        assertThat(r.headers().firstValue("gatehouse-reason")).hasValue("filter_did_not_proceed");
        assertThat(backend.requestCount()).isZero();
    }

    @Test
    void aFilterMayProceedLaterFromAnotherThreadAndTheChainGoesOnOnTheEventLoop() throws Exception {
        start("later", "observe");
        backend.enqueue(TestResponse.ok("later"));
        CompletableFuture<HttpResponse<String>> pending = client.sendAsync(request("/x").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(backend.requestCount()).isZero();
        release.complete(null);
        HttpResponse<String> r = pending.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("later");
        assertThat(seen).containsExactly("on the event loop", "id");
    }

    @Test
    void aClientThatLeavesWhileAFilterWaitsCostsTheEndpointNothing() throws Exception {
        start("hook", "later", "observe");
        if (protocol == io.gatehouse.Protocol.HTTP_1_1) {
            // a reset, not a FIN: a client that half-closes after its request is still owed the answer
            try (java.net.Socket client = new java.net.Socket(g.address().getAddress(), g.address().getPort())) {
                client.getOutputStream().write("GET /x HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                client.getOutputStream().flush();
                // the waiting filter is waiting
                await().atMost(Duration.ofSeconds(5)).until(() -> release.getNumberOfDependents() > 0);
                client.setSoLinger(true, 0);
            }
            // the client is gone: the exchange ends (once), then the filter proceeds
            await().atMost(Duration.ofSeconds(5)).until(() -> completions.get() == 1);
        } else {
            // RST_STREAM while the filter waits; the connection stays open, so only the stream says the client left
            try (io.gatehouse.listener.RawH2 c = io.gatehouse.listener.RawH2.connectTls(g.address())) {
                c.headers(1, true, io.gatehouse.listener.RawH2.get("/x"));
                await().atMost(Duration.ofSeconds(5)).until(() -> release.getNumberOfDependents() > 0);
                c.rst(1, 0x8); // CANCEL
                await().atMost(Duration.ofSeconds(5)).until(() -> completions.get() == 1);
                finishAfterTheClientLeft();
                assertThat(c.closedByPeer(Duration.ofMillis(200))).as("the connection outlives the stream").isFalse();
            }
            return;
        }
        finishAfterTheClientLeft();
    }

    private void finishAfterTheClientLeft() throws Exception {
        assertThat(completed.get().clientGone()).isTrue();
        assertThat(completed.get().status()).isEqualTo(499);
        release.complete(null);
        proceededLater.get(5, TimeUnit.SECONDS);
        // the resume runs on the exchange's event loop; a task queued there after it runs after it
        completed.get().eventLoop().submit(() -> null).get(5, TimeUnit.SECONDS);
        assertThat(seen).as("the filter after the waiting one never ran").isEmpty();
        assertThat(backend.requestCount()).isZero();
        assertThat(completions.get()).isEqualTo(1);
    }

    @Test
    void aLocalAnswerCompletesOnceUnderItsRouteWithItsRequestId() {
        start("hook", "buffer_request: {max_size: 1KiB}");
        // of unknown length (chunked): refused by the buffering filter, after the hook's filter ran
        byte[] big = "x".repeat(4096).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        HttpResponse<String> r = send(request("/x")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big))).build());
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(r.headers().firstValue("x-request-id")).isPresent();
        await().atMost(Duration.ofSeconds(5)).until(() -> completions.get() >= 1);
        HttpExchange ex = completed.get();
        assertThat(ex.route().name()).isEqualTo("app");
        assertThat(ex.localAnswer()).isTrue();
        assertThat(ex.status()).isEqualTo(413);
        assertThat(ex.failureReason()).isEqualTo("body_too_large");
        assertThat(ex.requestId()).isEqualTo(r.headers().firstValue("x-request-id").orElseThrow());
        assertThat(completions.get()).isEqualTo(1);
        assertThat(backend.requestCount()).isZero();
    }

    @Test
    void everyResponseCompletesExactlyOnce() {
        start("hook");
        backend.enqueue(TestResponse.ok("a"), TestResponse.ok("b"));
        assertThat(get("/a").statusCode()).isEqualTo(200);
        assertThat(get("/b").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> completions.get() == 2);
        assertThat(completed.get().endpoint()).isEqualTo(backend.address());
        assertThat(completed.get().responseBytes()).isPositive();
    }
}
