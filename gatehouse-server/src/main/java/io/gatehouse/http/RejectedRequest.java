package io.gatehouse.http;

import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Objects;

/**
 * Emitted by {@link Http1RequestDecoder} instead of (or in the middle of) a request that breaks HTTP/1.1 framing or
 * syntax. The decoder discards everything that follows on the connection: answer with {@code status} and close.
 *
 * @param status what to answer (400, 414, 431, 501 or 505)
 * @param reason short, stable, greppable cause such as {@code te+cl}, {@code obs-fold} or {@code bare CR}; safe to log
 */
public record RejectedRequest(HttpResponseStatus status, String reason) {
    public RejectedRequest {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(reason, "reason");
    }
}
