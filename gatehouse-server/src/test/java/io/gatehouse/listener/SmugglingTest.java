package io.gatehouse.listener;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Malformed and smuggling requests replayed over a raw socket through Gatehouse to a real backend: each is answered
 * by Gatehouse itself with the decoder's status and reason, the connection is closed, and neither the request nor a
 * request smuggled behind it ever reaches the backend.
 */
class SmugglingTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    /** Appended to smuggling attempts: a backend that ever records this path was smuggled to. */
    private static final String SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("origin");

    private static GatehouseFixture gatehouse;

    @BeforeAll
    static void startGatehouse() {
        gatehouse = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    limits: {max_uri_length: 1024, max_header_size: 4KiB, max_headers: 20, max_body_size: 1KiB}
                    routes:
                      - name: all
                        cluster: app
                clusters:
                  - name: app
                    endpoints: ["%s"]
                    outlier_detection: {consecutive_5xx: 0, consecutive_gateway_failures: 0}
                """.formatted(backend.address()));
    }

    @AfterAll
    static void stopGatehouse() {
        if (gatehouse != null) gatehouse.close();
    }

    static Stream<Arguments> rejectedRequests() {
        String longUri = "/" + "a".repeat(1030);
        String bigHeader = "X-Big: " + "b".repeat(5000) + "\r\n";
        StringBuilder manyHeaders = new StringBuilder();
        for (int i = 0; i < 25; i++) manyHeaders.append("X-H").append(i).append(": v\r\n");
        return Stream.of(
                arguments("CL+TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
                        400, "te+cl"),
                arguments("TE+CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n" + SMUGGLED + "\r\n0\r\n\r\n",
                        400, "te+cl"),
                arguments("duplicate CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 36\r\n\r\n" + SMUGGLED,
                        400, "duplicate content-length"),
                arguments("equal duplicate CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
                        400, "duplicate content-length"),
                arguments("CL comma list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
                        400, "invalid content-length"),
                arguments("negative CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n" + SMUGGLED,
                        400, "invalid content-length"),
                arguments("non-numeric CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3\r\n\r\n" + SMUGGLED,
                        400, "invalid content-length"),
                arguments("TE chunked, gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n" + SMUGGLED,
                        501, "unsupported transfer-encoding"),
                arguments("TE xchunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
                        501, "unsupported transfer-encoding"),
                arguments("TE in HTTP/1.0", "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
                        400, "te in http/1.0"),
                arguments("TE with obs-fold", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 36\r\n\r\n" + SMUGGLED,
                        400, "obs-fold"),
                arguments("obs-fold in any header", "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n",
                        400, "obs-fold"),
                arguments("bare CR in a header value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rX-B: c\r\n\r\n",
                        400, "bare CR"),
                arguments("NUL in a header value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n",
                        400, "control char"),
                arguments("control char in the request target", "GET /a\u0001b HTTP/1.1\r\nHost: a\r\n\r\n",
                        400, "control char"),
                arguments("control char in the method", "G\u0007ET / HTTP/1.1\r\nHost: a\r\n\r\n",
                        400, "control char"),
                arguments("tab between request-line parts", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n",
                        400, "control char"),
                arguments("whitespace before colon", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 36\r\n\r\n" + SMUGGLED,
                        400, "space before colon"),
                arguments("space in a header name", "GET / HTTP/1.1\r\nHost: a\r\nX Forwarded For: 1.2.3.4\r\n\r\n",
                        400, "space before colon"),
                arguments("two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                        400, "duplicate host"),
                arguments("missing Host in HTTP/1.1", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n",
                        400, "missing host"),
                arguments("invalid Host", "GET / HTTP/1.1\r\nHost: evil.com@a\r\n\r\n",
                        400, "invalid host"),
                arguments("Host with a bad port", "GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n",
                        400, "invalid host"),
                arguments("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
                        505, "unsupported version"),
                arguments("HTTP/2.0 in a request line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
                        505, "unsupported version"),
                arguments("lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n",
                        400, "invalid version"),
                arguments("over-long URI", "GET " + longUri + " HTTP/1.1\r\nHost: a\r\n\r\n",
                        414, "uri too long"),
                arguments("over-long request line", "GET /" + "a".repeat(4000) + " HTTP/1.1\r\nHost: a\r\n\r\n",
                        414, "request line too long"),
                arguments("over-large header section", "GET / HTTP/1.1\r\nHost: a\r\n" + bigHeader + "\r\n",
                        431, "headers too large"),
                arguments("too many headers", "GET / HTTP/1.1\r\nHost: a\r\n" + manyHeaders + "\r\n",
                        431, "too many headers"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejectedRequests")
    void rejectsMalformedHeadsAndClosesWithoutReachingTheBackend(String name, String request, int status, String reason) {
        try (RawClient client = gatehouse.raw()) {
            RawResponse response = client.send(request).readResponse(WAIT);

            assertThat(response.status()).as(name).isEqualTo(status);
            assertThat(response.header("gatehouse-reason")).as(name).isEqualTo(reason);
            assertThat(response.header("connection")).as(name).isEqualToIgnoringCase("close");
            assertThat(client.isClosedByPeer(WAIT)).as(name + ": closed by Gatehouse").isTrue();
        }
        assertBackendSawOnlyAControlRequest();
    }

    /**
     * Framing that breaks inside a chunked body: the head is valid and may already be on its way upstream (the proxy
     * streams), so the backend must never get a <em>complete</em> request, nor the request smuggled behind it.
     */
    static Stream<Arguments> brokenChunkedBodies() {
        String head = "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        return Stream.of(
                arguments("invalid chunk size", head + "zz\r\nabc\r\n0\r\n\r\n" + SMUGGLED, "invalid chunk size"),
                arguments("chunk size over 16 hex digits", head + "1FFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n" + SMUGGLED, "invalid chunk size"),
                arguments("chunk size overflowing a long", head + "8000000000000000\r\nabc\r\n0\r\n\r\n" + SMUGGLED, "invalid chunk size"),
                arguments("missing CRLF after chunk data", head + "3\r\nabcX0\r\n\r\n" + SMUGGLED, "missing CRLF after chunk data"),
                arguments("bare LF chunk line", head + "3\nabc\r\n0\r\n\r\n" + SMUGGLED, "chunk line not CRLF"),
                arguments("Content-Length in trailers", head + "3\r\nabc\r\n0\r\nContent-Length: 36\r\n\r\n" + SMUGGLED, "forbidden trailer"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenChunkedBodies")
    void rejectsBrokenChunkedBodiesWithoutForwardingACompleteRequest(String name, String request, String reason) {
        try (RawClient client = gatehouse.raw()) {
            RawResponse response = client.send(request).readResponse(WAIT);

            assertThat(response.status()).as(name).isEqualTo(400);
            assertThat(response.header("gatehouse-reason")).as(name).isEqualTo(reason);
            assertThat(client.isClosedByPeer(WAIT)).as(name + ": closed by Gatehouse").isTrue();
        }
        assertBackendSawOnlyAControlRequest();
    }

    @Test
    void answers413ToAContentLengthOverTheLimitWithoutForwardingTheBody() {
        try (RawClient client = gatehouse.raw()) {
            // the head announces more than max_body_size; only part of the body is sent: Gatehouse must not wait for it
            RawResponse response = client.send("POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 2048\r\n\r\n" + "x".repeat(100))
                    .readResponse(WAIT);

            assertThat(response.status()).isEqualTo(413);
            assertThat(response.header("gatehouse-reason")).isEqualTo("body_too_large");
            assertThat(response.header("connection")).isEqualToIgnoringCase("close");
            assertThat(client.isClosedByPeer(WAIT)).isTrue();
        }
        assertBackendSawOnlyAControlRequest();
    }

    @Test
    void answers413ToAChunkedBodyOverTheLimitWithoutForwardingACompleteRequest() {
        String chunk = "200\r\n" + "y".repeat(0x200) + "\r\n";
        try (RawClient client = gatehouse.raw()) {
            // 3 x 512 bytes > 1 KiB, then a well-formed end and a smuggled request
            client.send("POST /big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk + chunk + "0\r\n\r\n" + SMUGGLED);
            RawResponse response = client.readResponse(WAIT);

            assertThat(response.status()).isEqualTo(413);
            assertThat(response.header("gatehouse-reason")).isEqualTo("body_too_large");
            assertThat(client.isClosedByPeer(WAIT)).isTrue();
        }
        assertBackendSawOnlyAControlRequest();
    }

    @Test
    void acceptsABodyOfExactlyTheLimit() {
        backend.countingUploads();
        try (RawClient client = gatehouse.raw()) {
            RawResponse response = client.send("POST /exact HTTP/1.1\r\nHost: a\r\nContent-Length: 1024\r\n\r\n" + "z".repeat(1024))
                    .readResponse(WAIT);

            assertThat(response.status()).isEqualTo(200);
            assertThat(response.header("x-body-bytes")).isEqualTo("1024");
        }
    }

    @Test
    void answersWellFormedPipelinedRequestsInOrderOnOneConnection() {
        backend.respond(r -> TestResponse.ok("answer for " + r.path()));
        try (RawClient client = gatehouse.raw()) {
            client.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n");

            RawResponse first = client.readResponse(WAIT);
            RawResponse second = client.readResponse(WAIT);
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.bodyAsString()).isEqualTo("answer for /first");
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.bodyAsString()).isEqualTo("answer for /second");
            assertThat(client.isClosedByPeer(Duration.ofMillis(200))).as("kept alive").isFalse();
        }
        assertThat(backend.requests()).extracting(RecordedRequest::path).containsExactly("/first", "/second");
    }

    // A Connection header may name hop-by-hop headers to drop; naming the framing headers (or Host) must not strip
    // them, or the body would reach the backend unframed and be read there as the next request.
    @ParameterizedTest(name = "Connection: {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"content-length", "transfer-encoding", "host", "Content-Length, close"})
    void connectionHeaderCannotStripFramingOrHost(String token) {
        boolean chunked = token.equals("transfer-encoding");
        String body = chunked ? Integer.toHexString(SMUGGLED.length()) + "\r\n" + SMUGGLED + "\r\n0\r\n\r\n" : SMUGGLED;
        String framing = chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + SMUGGLED.length() + "\r\n";
        try (RawClient client = gatehouse.raw()) {
            client.send("POST /upload HTTP/1.1\r\nHost: a\r\nConnection: " + token + "\r\n" + framing + "\r\n" + body);
            RawResponse r = client.readResponse(WAIT);
            assertThat(r.status()).isEqualTo(200);
        }
        assertThat(backend.requests()).extracting(RecordedRequest::path).containsExactly("/upload");
        RecordedRequest upload = backend.requests().get(0);
        assertThat(upload.bodyAsString()).isEqualTo(SMUGGLED);
        assertThat(upload.header("host")).isEqualTo("a");
    }

    /**
     * Anything Gatehouse forwarded for the bad connection went out before it answered; a control request sent after
     * the answer proves the backend is reachable, and must then be the only request it recorded.
     */
    private static void assertBackendSawOnlyAControlRequest() {
        try (RawClient control = gatehouse.raw()) {
            RawResponse ok = control.send("GET /control HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(WAIT);
            assertThat(ok.status()).isEqualTo(200);
        }
        assertThat(backend.requests()).extracting(RecordedRequest::path).containsExactly("/control");
    }
}
