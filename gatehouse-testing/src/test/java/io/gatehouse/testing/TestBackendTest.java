package io.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TestBackendTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @RegisterExtension
    final TestBackend backend = new TestBackend().name("origin");

    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(TIMEOUT)
            .build();

    @AfterEach
    void closeClient() {
        client.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(backend.uri(path)).timeout(TIMEOUT).build(),
                BodyHandlers.ofString());
    }

    private RawClient raw() {
        return RawClient.connect(backend.socketAddress());
    }

    @Test
    void answersWithItsNameAndRecordsTheRequest() throws Exception {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(backend.uri("/items?id=7"))
                .header("X-Trace", "abc")
                .POST(BodyPublishers.ofString("payload"))
                .build(), BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("origin");
        assertThat(response.headers().firstValue("X-Backend")).hasValue("origin");
        RecordedRequest request = backend.takeRequest(TIMEOUT);
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.uri()).isEqualTo("/items?id=7");
        assertThat(request.path()).isEqualTo("/items");
        assertThat(request.header("x-trace")).isEqualTo("abc");
        assertThat(request.bodyAsString()).isEqualTo("payload");
        assertThat(request.bodySize()).isEqualTo(7);
        assertThat(request.remoteAddress().getAddress().isLoopbackAddress()).isTrue();
        assertThat(request.connectionId()).isEqualTo(1);
        assertThat(backend.requestCount()).isEqualTo(1);
        assertThat(backend.address()).isEqualTo("127.0.0.1:" + backend.port());
    }

    @Test
    void countsKeptAliveConnectionsOnce() {
        try (RawClient first = raw(); RawClient second = raw()) {
            first.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(first.readResponse(TIMEOUT).bodyAsString()).isEqualTo("origin");
            first.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(first.readResponse(TIMEOUT).status()).isEqualTo(200);
            second.send("GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(second.readResponse(TIMEOUT).status()).isEqualTo(200);
        }

        assertThat(backend.connectionsAccepted()).isEqualTo(2);
        assertThat(backend.requests()).extracting(RecordedRequest::uri).containsExactly("/a", "/b", "/c");
        assertThat(backend.requests()).extracting(RecordedRequest::connectionId).containsExactly(1L, 1L, 2L);
        assertThat(backend.requests()).extracting(RecordedRequest::sequenceOnConnection).containsExactly(1, 2, 1);
    }

    @Test
    void answersPipelinedRequestsInOrderEvenWhenTheFirstIsSlow() {
        backend.enqueue(TestResponse.ok("first").delayHeaders(Duration.ofMillis(200)), TestResponse.ok("second"));
        try (RawClient client = raw()) {
            client.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(client.readResponse(TIMEOUT).bodyAsString()).isEqualTo("first");
            assertThat(client.readResponse(TIMEOUT).bodyAsString()).isEqualTo("second");
        }
    }

    @Test
    void playsTheQueueThenTheResponderThenTheDefault() throws Exception {
        backend.enqueue(TestResponse.status(503).body("queued"));
        backend.respond(request -> request.path().equals("/teapot") ? TestResponse.status(418) : null);

        assertThat(get("/teapot").body()).isEqualTo("queued");
        assertThat(get("/teapot").statusCode()).isEqualTo(418);
        HttpResponse<String> fallback = get("/other");
        assertThat(fallback.statusCode()).isEqualTo(200);
        assertThat(fallback.body()).isEqualTo("origin");
    }

    @Test
    void sendsCustomStatusHeadersAndChunkedBody() {
        backend.enqueue(TestResponse.status(201).reason("Made").header("X-A", "1").header("X-A", "2")
                .body("chunky").chunked());
        try (RawClient client = raw()) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = client.readResponse(TIMEOUT);

            assertThat(response.status()).isEqualTo(201);
            assertThat(response.reason()).isEqualTo("Made");
            assertThat(response.headers("X-A")).containsExactly("1", "2");
            assertThat(response.header("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(response.header("Content-Length")).isNull();
            assertThat(response.bodyAsString()).isEqualTo("chunky");
            assertThat(response.complete()).isTrue();
        }
    }

    @Test
    void answersHealthChecksFromTheHealthyFlagWithoutRecordingThem() throws Exception {
        assertThat(get("/health").statusCode()).isEqualTo(200);
        backend.healthy(false);
        assertThat(get("/health").statusCode()).isEqualTo(503);
        backend.enqueue(TestResponse.status(500));
        assertThat(get("/health").statusCode()).isEqualTo(503);

        assertThat(backend.healthChecks()).isEqualTo(3);
        assertThat(backend.requestCount()).isZero();
        assertThat(get("/work").statusCode()).isEqualTo(500);
    }

    @Test
    void delaysTheHeaders() {
        backend.enqueue(TestResponse.ok("late").delayHeaders(Duration.ofSeconds(1)));
        try (RawClient client = raw()) {
            long start = System.nanoTime();
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThatThrownBy(() -> client.readResponse(Duration.ofMillis(100)))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasCauseInstanceOf(SocketTimeoutException.class);

            assertThat(client.readResponse(TIMEOUT).bodyAsString()).isEqualTo("late");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        }
    }

    @Test
    void dripsTheBodyChunkByChunk() {
        backend.enqueue(TestResponse.ok("abcdef").dripBody(2, Duration.ofMillis(100)));
        try (RawClient client = raw()) {
            long start = System.nanoTime();
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = client.readResponse(TIMEOUT);

            assertThat(response.bodyAsString()).isEqualTo("abcdef");
            assertThat(response.header("Content-Length")).isEqualTo("6");
            // three chunks: the first at once, the next two 100 ms apart
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
        }
    }

    @Test
    void dripsAGeneratedBodyToo() {
        // a large slow body without holding it: the drip applies to a generated body as to a given one
        backend.enqueue(TestResponse.ok().generatedBody(40_000).dripBody(10_000, Duration.ofMillis(100)));
        try (RawClient client = raw()) {
            long start = System.nanoTime();
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = client.readResponse(TIMEOUT);

            assertThat(response.header("Content-Length")).isEqualTo("40000");
            assertThat(response.body()).isEqualTo(BodyPattern.bytes(40_000));
            // four pieces: the first at once, the next three 100 ms apart
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        }
    }

    @Test
    void resetsTheConnectionBeforeResponding() {
        backend.enqueue(TestResponse.ok().resetBeforeResponse());
        try (RawClient client = raw()) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(client.isClosedByPeer(TIMEOUT)).isTrue();
        }
        // every answer resets: the JDK client retries a GET once on a failed connection
        backend.respond(request -> TestResponse.ok().resetBeforeResponse());
        assertThatThrownBy(() -> get("/")).isInstanceOf(IOException.class);
        assertThat(backend.requestCount()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void closesWithoutResponding() {
        backend.enqueue(TestResponse.ok().closeWithoutResponse());
        try (RawClient client = raw()) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(client.readUntilClose(TIMEOUT)).isEmpty();
        }
        assertThat(backend.takeRequest(TIMEOUT).uri()).isEqualTo("/");
    }

    @Test
    void writesMalformedBytesVerbatimAndCloses() {
        String garbage = "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n";
        backend.enqueue(TestResponse.ok().malformed(garbage));
        try (RawClient client = raw()) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(new String(client.readUntilClose(TIMEOUT), StandardCharsets.ISO_8859_1)).isEqualTo(garbage);
        }
    }

    @Test
    void diesMidBodyAfterTheGivenBytes() {
        backend.enqueue(TestResponse.ok("0123456789").dieMidBody(4));
        try (RawClient client = raw()) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = client.readResponse(TIMEOUT);

            assertThat(response.header("Content-Length")).isEqualTo("10");
            assertThat(response.complete()).isFalse();
            assertThat(response.bodyAsString()).isEqualTo("0123");
        }
    }

    @Test
    void diesMidChunkedBodyWithoutTheLastChunk() {
        backend.enqueue(TestResponse.ok().chunked().dieMidBody(3));
        try (RawClient client = raw()) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = client.readResponse(TIMEOUT);

            assertThat(response.complete()).isFalse();
            assertThat(response.body()).isEqualTo(BodyPattern.bytes(3));
        }
    }

    @Test
    void sendsInterimResponsesBeforeTheFinalOne() {
        backend.enqueue(TestResponse.ok("final").interim(103, "Link", "</style.css>; rel=preload"));
        try (RawClient client = raw()) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse early = client.readResponse(TIMEOUT);
            RawResponse last = client.readResponse(TIMEOUT);

            assertThat(early.status()).isEqualTo(103);
            assertThat(early.isInterim()).isTrue();
            assertThat(early.header("Link")).isEqualTo("</style.css>; rel=preload");
            assertThat(last.status()).isEqualTo(200);
            assertThat(last.bodyAsString()).isEqualTo("final");
        }
    }

    @Test
    void answersHeadWithoutBodyAndKeepsTheConnectionUsable() {
        backend.enqueue(TestResponse.ok("body").interim(103), TestResponse.ok("next"));
        try (RawClient client = raw()) {
            client.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(client.readResponse(TIMEOUT).status()).isEqualTo(103);
            RawResponse head = client.readHeadResponse(TIMEOUT);
            assertThat(head.header("Content-Length")).isEqualTo("4");
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(client.readResponse(TIMEOUT).bodyAsString()).isEqualTo("next");
        }
    }

    @Test
    void closesAfterResponseWhenKeepAliveIsOff() {
        backend.enqueue(TestResponse.ok("bye").keepAlive(false));
        try (RawClient client = raw()) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = client.readResponse(TIMEOUT);

            assertThat(response.header("Connection")).isEqualTo("close");
            assertThat(response.bodyAsString()).isEqualTo("bye");
            assertThat(client.isClosedByPeer(TIMEOUT)).isTrue();
        }
    }

    @Test
    void delimitsTheBodyByClosingWhenAskedTo() {
        backend.enqueue(TestResponse.ok("until the end").bodyUntilClose());
        try (RawClient client = raw()) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = client.readResponse(TIMEOUT);

            assertThat(response.header("Content-Length")).isNull();
            assertThat(response.header("Transfer-Encoding")).isNull();
            assertThat(response.bodyAsString()).isEqualTo("until the end");
        }
    }

    @Test
    void streamsAGeneratedBodyThatMatchesThePattern() throws Exception {
        long size = 50L * 1024 * 1024;
        backend.enqueue(TestResponse.ok().generatedBody(size));
        HttpResponse<InputStream> response = client.send(HttpRequest.newBuilder(backend.uri("/big")).build(),
                BodyHandlers.ofInputStream());

        assertThat(response.headers().firstValueAsLong("Content-Length")).hasValue(size);
        try (InputStream body = response.body()) {
            assertThat(BodyPattern.firstMismatch(body, size)).isEqualTo(-1);
        }
    }

    @Test
    void streamsAGeneratedChunkedBody() {
        backend.enqueue(TestResponse.ok().generatedBody(300_000).chunked());
        try (RawClient client = raw()) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = client.readResponse(TIMEOUT);

            assertThat(response.header("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(response.complete()).isTrue();
            assertThat(response.body()).isEqualTo(BodyPattern.bytes(300_000));
        }
    }

    @Test
    void countsUploadsWithCrcInsteadOfKeepingThem() throws Exception {
        long size = 20L * 1024 * 1024;
        backend.countingUploads();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(backend.uri("/upload"))
                .POST(BodyPublishers.fromPublisher(
                        BodyPublishers.ofInputStream(() -> BodyPattern.inputStream(size)), size))
                .build(), BodyHandlers.ofString());

        long crc = BodyPattern.crc32(size);
        assertThat(response.headers().firstValueAsLong("X-Body-Bytes")).hasValue(size);
        assertThat(response.headers().firstValueAsLong("X-Body-Crc32")).hasValue(crc);
        assertThat(response.body()).isEqualTo(size + " " + crc);
        RecordedRequest request = backend.takeRequest(TIMEOUT);
        assertThat(request.bodySize()).isEqualTo(size);
        assertThat(request.bodyCrc32()).isEqualTo(crc);
        assertThat(request.body()).isEmpty();
    }

    @Test
    void echoesASmallBody() throws Exception {
        backend.echo();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(backend.uri("/echo"))
                .header("Content-Type", "application/json")
                .POST(BodyPublishers.ofString("{\"a\":1}"))
                .build(), BodyHandlers.ofString());

        assertThat(response.body()).isEqualTo("{\"a\":1}");
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    }

    @Test
    void echoesTheBodyWhileItIsStillBeingSent() throws Exception {
        int size = 8 * 1024 * 1024;
        backend.echo();
        try (RawClient client = raw()) {
            client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n");
            Thread sender = Thread.ofVirtual().start(() -> {
                byte[] chunk = new byte[64 * 1024];
                for (int offset = 0; offset < size; offset += chunk.length) {
                    BodyPattern.fill(chunk, 0, chunk.length, offset);
                    client.send(chunk);
                }
            });
            RawResponse response = client.readResponse(TIMEOUT);
            sender.join(TIMEOUT);

            assertThat(response.header("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(BodyPattern.firstMismatch(new java.io.ByteArrayInputStream(response.body()), size))
                    .isEqualTo(-1);
        }
        RecordedRequest request = backend.takeRequest(TIMEOUT);
        assertThat(request.bodySize()).isEqualTo(size);
        assertThat(request.bodyCrc32()).isEqualTo(BodyPattern.crc32(size));
    }

    @Test
    void answersExpectContinueBeforeReadingTheBody() {
        try (RawClient client = raw()) {
            client.send("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
            assertThat(client.readResponse(TIMEOUT).status()).isEqualTo(100);
            client.send("hello");
            assertThat(client.readResponse(TIMEOUT).status()).isEqualTo(200);
        }
        assertThat(backend.takeRequest(TIMEOUT).bodyAsString()).isEqualTo("hello");
    }

    @Test
    void rejectsExpectContinueWhenAskedTo() {
        backend.rejectExpectContinue();
        try (RawClient client = raw()) {
            client.send("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
            assertThat(client.readResponse(TIMEOUT).status()).isEqualTo(417);
            assertThat(client.isClosedByPeer(TIMEOUT)).isTrue();
        }
        assertThat(backend.takeRequest(TIMEOUT).bodySize()).isZero();
    }

    @Test
    void answers413BeyondTheAggregationLimit() {
        backend.maxAggregatedBody(10);
        try (RawClient client = raw()) {
            client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world");
            assertThat(client.readResponse(TIMEOUT).status()).isEqualTo(413);
            assertThat(client.isClosedByPeer(TIMEOUT)).isTrue();
        }
    }

    @Test
    void refusesConnectionsWhenStoppedAndServesTheSamePortAfterRestart() throws Exception {
        int port = backend.port();
        try (RawClient open = raw()) {
            open.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(open.readResponse(TIMEOUT).status()).isEqualTo(200);

            backend.stop();

            assertThat(open.isClosedByPeer(TIMEOUT)).isTrue();
            assertThat(backend.isRunning()).isFalse();
            assertThatThrownBy(this::raw).hasCauseInstanceOf(ConnectException.class);
            assertThatThrownBy(() -> get("/")).isInstanceOf(ConnectException.class);
        }

        backend.restart();

        assertThat(backend.port()).isEqualTo(port);
        assertThat(get("/").body()).isEqualTo("origin");
    }

    @Test
    void startsAndClosesOutsideJunit() throws Exception {
        int port;
        try (TestBackend other = TestBackend.started("other")) {
            port = other.port();
            assertThat(client.send(HttpRequest.newBuilder(other.uri("/")).build(), BodyHandlers.ofString()).body())
                    .isEqualTo("other");
        }
        assertThatThrownBy(() -> RawClient.connect("127.0.0.1", port)).hasCauseInstanceOf(ConnectException.class);
    }
}
