package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;

/**
 * Responses Gatehouse writes itself: errors (with a short reason in the {@code Gatehouse-Reason} header, so an
 * operator tells "no healthy endpoint" from "upstream timed out"), direct responses and redirects. A gRPC request
 * gets its error the gRPC way instead ({@link GrpcStatus}).
 */
public final class LocalResponse {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LocalResponse.class);
    /** Response header naming why Gatehouse itself answered. */
    public static final AsciiString REASON_HEADER = AsciiString.cached("gatehouse-reason");
    /** The exchange's request id, on local answers as on proxied ones. */
    public static final AsciiString REQUEST_ID_HEADER = AsciiString.cached("x-request-id");

    private LocalResponse() {}

    /** An error answer: status, reason header, and the reason as a one-line text body. */
    public static FullHttpResponse error(HttpResponseStatus status, String reason) {
        FullHttpResponse r = text(status, status.reasonPhrase().toLowerCase() + ": " + reason + "\n", null);
        r.headers().set(REASON_HEADER, reason);
        return r;
    }

    public static FullHttpResponse text(HttpResponseStatus status, String body, String contentType) {
        ByteBuf content = Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8));
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType == null ? "text/plain; charset=utf-8" : contentType);
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        return r;
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    public static final String PROBLEM_JSON = "application/problem+json";

    /**
     * An API error as RFC 9457 problem details: {@code type} {@code about:blank} (the status says what kind of problem),
     * the status's title, a {@code detail} for the client, and Gatehouse's {@code reason} as an extension member and
     * in the reason header. Never put a credential or a secret in {@code detail}.
     */
    public static FullHttpResponse problem(HttpResponseStatus status, String reason, String detail) {
        java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("type", "about:blank");
        body.put("title", status.reasonPhrase());
        body.put("status", status.code());
        if (detail != null) body.put("detail", detail);
        body.put("reason", reason);
        String json;
        try {
            json = JSON.writeValueAsString(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        FullHttpResponse r = text(status, json + "\n", PROBLEM_JSON);
        r.headers().set(REASON_HEADER, reason);
        return r;
    }

    /** Sends an error for {@code exchange} unless its response already started, in which case it aborts it. */
    public static void fail(HttpExchange exchange, HttpResponseStatus status, String reason) {
        exchange.failureReason(reason);
        if (log.isInfoEnabled() && status.code() != 404) {
            log.info("{} {} {} -> {} {}", exchange.listener(), exchange.request().method(), exchange.path(), status.code(), reason);
        } else if (log.isDebugEnabled()) {
            log.debug("{} {} {} -> {} {}", exchange.listener(), exchange.request().method(), exchange.path(), status.code(), reason);
        }
        if (exchange.responseStarted()) {
            exchange.response().abort(reason);
            return;
        }
        if (GrpcStatus.isGrpc(exchange.request())) {
            GrpcStatus.send(exchange, GrpcStatus.code(status, reason), reason);
            return;
        }
        send(exchange, error(status, reason));
    }

    /**
     * Writes and flushes a complete response Gatehouse made itself, through the filters' sinks (so HSTS, compression
     * and metering see it too), and marks the exchange as answered here.
     */
    public static void send(HttpExchange exchange, FullHttpResponse response) {
        exchange.localAnswer(true);
        if (exchange.requestIdValue() != null && !response.headers().contains(REQUEST_ID_HEADER)) {
            response.headers().set(REQUEST_ID_HEADER, exchange.requestIdValue());
        }
        exchange.response().write(response);
        exchange.response().flush();
    }
}
