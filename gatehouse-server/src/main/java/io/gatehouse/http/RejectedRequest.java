package io.gatehouse.http;

import io.netty.handler.codec.http.HttpResponseStatus;

/** Emitted by the request decoder instead of a request it refuses; the connection answers it and closes. */
public record RejectedRequest(HttpResponseStatus status, String reason) {
}
