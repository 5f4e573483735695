package io.gatehouse.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * gRPC over HTTP (the protocol's "PROTOCOL-HTTP2" document): telling a gRPC request apart, its {@code grpc-timeout},
 * and answering it with a gRPC status when Gatehouse itself fails it. A gRPC client reads the outcome from
 * {@code grpc-status}/{@code grpc-message} in the trailers of an HTTP 200, not from the HTTP status.
 */
public final class GrpcStatus {
    public static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    public static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
    public static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
    private static final AsciiString APPLICATION_GRPC = AsciiString.cached("application/grpc");

    public static final int DEADLINE_EXCEEDED = 4, PERMISSION_DENIED = 7, RESOURCE_EXHAUSTED = 8, UNIMPLEMENTED = 12,
            INTERNAL = 13, UNAVAILABLE = 14, UNAUTHENTICATED = 16, UNKNOWN = 2;

    private GrpcStatus() {}

    /** A gRPC request: its content type is {@code application/grpc} or {@code application/grpc+…}. */
    public static boolean isGrpc(io.netty.handler.codec.http.HttpRequest request) {
        String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, "application/grpc", 0, 16)
                && (type.length() == 16 || type.charAt(16) == '+' || type.charAt(16) == ';');
    }

    /**
     * The status for Gatehouse's own failure: {@code status} and {@code reason} as given to {@link LocalResponse#fail}.
     * Over-limit reasons are RESOURCE_EXHAUSTED, timeouts DEADLINE_EXCEEDED, a malformed upstream answer INTERNAL; the
     * rest follows gRPC's HTTP-to-status table (503 and connection failures UNAVAILABLE).
     */
    public static int code(HttpResponseStatus status, String reason) {
        if (reason != null) {
            if (reason.startsWith("cluster_max_") || reason.contains("overflow") || reason.contains("rate_limit")) {
                return RESOURCE_EXHAUSTED;
            }
            if (reason.contains("timeout")) return DEADLINE_EXCEEDED;
            if (reason.startsWith("invalid_response") || reason.equals("unexpected_101")) return INTERNAL;
        }
        return switch (status.code()) {
            case 400 -> INTERNAL;
            case 401 -> UNAUTHENTICATED;
            case 403 -> PERMISSION_DENIED;
            case 404 -> UNIMPLEMENTED;
            case 408, 504 -> DEADLINE_EXCEEDED;
            case 413, 429 -> RESOURCE_EXHAUSTED;
            case 502, 503 -> UNAVAILABLE;
            default -> UNKNOWN;
        };
    }

    /**
     * Answers a gRPC request with {@code code}: HTTP 200, {@code application/grpc}, no messages, and the status in
     * the trailers (an HTTP/1.1 client gets them as chunked trailers, an HTTP/2 client as the final HEADERS frame);
     * Gatehouse's reason header in the head as for any local answer.
     */
    public static void send(HttpExchange exchange, int code, String message) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        HttpHeaders h = head.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_GRPC);
        h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        h.set(LocalResponse.REASON_HEADER, message);
        LastHttpContent last = trailers(code, message);
        exchange.localAnswer(true);
        if (exchange.requestIdValue() != null) h.set(LocalResponse.REQUEST_ID_HEADER, exchange.requestIdValue());
        exchange.response().write(head);
        exchange.response().write(last);
        exchange.response().flush();
    }

    /**
     * The end of a gRPC response cut short by Gatehouse after its head went out: an empty last content whose trailers
     * carry {@code code} and {@code message}, so the client learns the call's outcome instead of seeing a reset.
     */
    public static LastHttpContent trailers(int code, String message) {
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        last.trailingHeaders().set(GRPC_STATUS, Integer.toString(code));
        last.trailingHeaders().set(GRPC_MESSAGE, encodeMessage(message));
        return last;
    }

    /** Percent-encodes a grpc-message as the spec asks (printable ASCII except '%' stays). */
    static String encodeMessage(String message) {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= 0x20 && c <= 0x7e && c != '%') sb.append((char) c);
            else sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                    .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
        }
        return sb.toString();
    }

    /**
     * The {@code grpc-timeout} header in nanoseconds (1 to 8 digits and a unit H, M, S, m, u, n), or -1 when absent
     * or malformed.
     */
    public static long timeoutNanos(HttpHeaders headers) {
        String v = headers.get(GRPC_TIMEOUT);
        if (v == null || v.length() < 2 || v.length() > 9) return -1;
        long n = 0;
        for (int i = 0; i < v.length() - 1; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') return -1;
            n = n * 10 + (c - '0');
        }
        TimeUnit unit = switch (v.charAt(v.length() - 1)) {
            case 'H' -> TimeUnit.HOURS;
            case 'M' -> TimeUnit.MINUTES;
            case 'S' -> TimeUnit.SECONDS;
            case 'm' -> TimeUnit.MILLISECONDS;
            case 'u' -> TimeUnit.MICROSECONDS;
            case 'n' -> TimeUnit.NANOSECONDS;
            default -> null;
        };
        return unit == null ? -1 : unit.toNanos(n);
    }
}
