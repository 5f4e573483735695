package io.gatehouse.testing;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * A scripted answer of a {@link TestBackend}: a fluent builder for the status, headers and body, and for the
 * misbehaviours a proxy must survive (slow headers, dripping body, resets, malformed bytes, death mid-body).
 *
 * <p>By default the body is framed with {@code Content-Length}; {@link #chunked()} switches to chunked encoding and
 * {@link #bodyUntilClose()} to a body delimited by closing the connection. A {@code Content-Length} or
 * {@code Transfer-Encoding} header set explicitly with {@link #header} is sent as given (so a test can lie about
 * the length). Every response also carries {@code X-Backend: <backend name>} unless it sets that header itself.
 *
 * <p>Instances are mutable builders: configure one completely before handing it to the backend, and don't change it
 * afterwards (the same instance may be returned by a {@link TestBackend#respond responder} many times).
 */
public final class TestResponse {

    /** What the backend does instead of (or on top of) writing a well-formed response. */
    enum Action { RESPOND, RESET_BEFORE_RESPONSE, CLOSE_WITHOUT_RESPONSE, MALFORMED, DIE_MID_BODY }

    /** A 1xx response sent before the final one. */
    record Interim(int status, List<Map.Entry<String, String>> headers) {
    }

    private static final byte[] NO_BYTES = new byte[0];

    int status;
    String reason;
    final List<Map.Entry<String, String>> headers = new ArrayList<>();
    byte[] body = NO_BYTES;
    long generatedBodyLength = -1;
    boolean chunked;
    boolean untilClose;
    boolean keepAlive = true;
    Duration headersDelay = Duration.ZERO;
    CompletionStage<?> release;
    int dripChunkSize;
    Duration dripInterval = Duration.ZERO;
    final List<Interim> interims = new ArrayList<>();
    Action action = Action.RESPOND;
    String raw;
    long bytesBeforeDeath;

    private TestResponse(int status) {
        this.status = status;
    }

    /** {@code 200 OK} with an empty body. */
    public static TestResponse ok() {
        return new TestResponse(200);
    }

    /** {@code 200 OK} with a {@code text/plain; charset=utf-8} body. */
    public static TestResponse ok(String body) {
        return new TestResponse(200).header("Content-Type", "text/plain; charset=utf-8").body(body);
    }

    /** A response with the given status code and an empty body. */
    public static TestResponse status(int status) {
        return new TestResponse(status);
    }

    /** Sets the status code (and the standard reason phrase). */
    public TestResponse statusCode(int status) {
        this.status = status;
        return this;
    }

    /** Sets a custom reason phrase. */
    public TestResponse reason(String reason) {
        this.reason = reason;
        return this;
    }

    /** Adds a header (repeat the call for repeated headers). */
    public TestResponse header(String name, Object value) {
        headers.add(Map.entry(name, String.valueOf(value)));
        return this;
    }

    /** Sets the body to the UTF-8 bytes of {@code body}. */
    public TestResponse body(String body) {
        return body(body.getBytes(StandardCharsets.UTF_8));
    }

    /** Sets the body. */
    public TestResponse body(byte[] body) {
        this.body = body.clone();
        this.generatedBodyLength = -1;
        return this;
    }

    /**
     * Streams {@code length} bytes of {@link BodyPattern} as the body (any size, GiB included), generated chunk by
     * chunk only while the connection is writable, so neither side needs the body in memory.
     */
    public TestResponse generatedBody(long length) {
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0: " + length);
        }
        this.generatedBodyLength = length;
        this.body = NO_BYTES;
        return this;
    }

    /** Frames the body with {@code Transfer-Encoding: chunked} instead of {@code Content-Length}. */
    public TestResponse chunked() {
        this.chunked = true;
        return this;
    }

    /** Sends no length at all: the body ends when the backend closes the connection (HTTP/1.0 style). */
    public TestResponse bodyUntilClose() {
        this.untilClose = true;
        return this;
    }

    /** {@code keepAlive(false)} sends {@code Connection: close} and closes the connection after the response. */
    public TestResponse keepAlive(boolean keepAlive) {
        this.keepAlive = keepAlive;
        return this;
    }

    /** Waits {@code delay} after the request was read before sending anything (a slow backend). */
    public TestResponse delayHeaders(Duration delay) {
        this.headersDelay = Objects.requireNonNull(delay);
        return this;
    }

    /**
     * Sends nothing until {@code release} completes (then waits any {@link #delayHeaders} delay as well): a backend
     * that stays busy exactly as long as the test needs, however slow the machine, where a fixed delay could run out
     * before the test has done what it must while the response is outstanding.
     */
    public TestResponse holdUntil(CompletionStage<?> release) {
        this.release = Objects.requireNonNull(release);
        return this;
    }

    /**
     * Sends the headers, then the body {@code chunkSize} bytes at a time, one chunk immediately and the next ones
     * every {@code interval} (a slow body).
     */
    public TestResponse dripBody(int chunkSize, Duration interval) {
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunkSize must be > 0: " + chunkSize);
        }
        this.dripChunkSize = chunkSize;
        this.dripInterval = Objects.requireNonNull(interval);
        return this;
    }

    /**
     * Sends a 1xx interim response (e.g. {@code 103} Early Hints) before the final response; call once per interim
     * response, in order.
     *
     * @param headerNamesAndValues alternating names and values, e.g. {@code "Link", "</a.css>; rel=preload"}
     */
    public TestResponse interim(int status, String... headerNamesAndValues) {
        if (status < 100 || status > 199 || status == 101) {
            throw new IllegalArgumentException("not an interim status: " + status);
        }
        if (headerNamesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("header names and values must come in pairs");
        }
        List<Map.Entry<String, String>> interimHeaders = new ArrayList<>();
        for (int i = 0; i < headerNamesAndValues.length; i += 2) {
            interimHeaders.add(Map.entry(headerNamesAndValues[i], headerNamesAndValues[i + 1]));
        }
        interims.add(new Interim(status, List.copyOf(interimHeaders)));
        return this;
    }

    /** Resets the connection (RST, via {@code SO_LINGER 0}) right after reading the request, sending nothing. */
    public TestResponse resetBeforeResponse() {
        this.action = Action.RESET_BEFORE_RESPONSE;
        return this;
    }

    /** Closes the connection (FIN) right after reading the request, sending nothing. */
    public TestResponse closeWithoutResponse() {
        this.action = Action.CLOSE_WITHOUT_RESPONSE;
        return this;
    }

    /**
     * Writes {@code rawBytes} (each char as one ISO-8859-1 byte) instead of a response, then closes the connection;
     * e.g. {@code "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"}. Interim responses and {@link #delayHeaders}
     * still apply first.
     */
    public TestResponse malformed(String rawBytes) {
        this.action = Action.MALFORMED;
        this.raw = Objects.requireNonNull(rawBytes);
        return this;
    }

    /**
     * Sends the headers announcing a longer body than will ever come, then {@code bytesBeforeDeath} body bytes, then
     * resets the connection. The announced {@code Content-Length} is the body's length if it is longer than
     * {@code bytesBeforeDeath}, else {@code bytesBeforeDeath + 1}; missing body bytes are {@link BodyPattern} bytes.
     * With {@link #chunked()} the bytes go out as one chunk and no terminating chunk follows.
     */
    public TestResponse dieMidBody(long bytesBeforeDeath) {
        if (bytesBeforeDeath < 0) {
            throw new IllegalArgumentException("bytesBeforeDeath must be >= 0: " + bytesBeforeDeath);
        }
        this.action = Action.DIE_MID_BODY;
        this.bytesBeforeDeath = bytesBeforeDeath;
        return this;
    }

    /** The body length this response would send when it behaves (the generated length, or the bytes' length). */
    long bodyLength() {
        return generatedBodyLength >= 0 ? generatedBodyLength : body.length;
    }

    boolean hasHeader(String name) {
        return headers.stream().anyMatch(h -> h.getKey().equalsIgnoreCase(name));
    }

    @Override
    public String toString() {
        return "TestResponse[" + status + ", " + action + ", " + bodyLength() + " body bytes]";
    }
}
