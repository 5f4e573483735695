package io.gatehouse.auth;

import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Refusals of an authentication filter: 401 with {@code WWW-Authenticate} for missing or bad credentials, 403 for
 * valid ones that are not allowed. Bodies are {@code application/problem+json} (RFC 9457) that say what was wrong and
 * never echo the credential. Each refusal is logged with its reason and counted by reason
 * ({@code gatehouse_auth_failures_total{route, method, reason}}: reasons are a fixed set).
 */
final class AuthFailures {
    private static final Logger log = LoggerFactory.getLogger(AuthFailures.class);

    private final String listener;
    private final String route;
    private final String method;           // api_key, jwt
    private final String challenge;        // the WWW-Authenticate scheme: Bearer, ApiKey
    private final MeterRegistry registry;
    private final String fixedChallenge;   // a whole WWW-Authenticate value (Basic's charset), or null
    private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

    AuthFailures(String listener, String route, String method, String challenge, MeterRegistry registry) {
        this(listener, route, method, challenge, registry, challenge + " realm=\"" + route + "\"");
    }

    /** @param fixedChallenge the WWW-Authenticate value of every 401, or null for none */
    AuthFailures(String listener, String route, String method, String challenge, MeterRegistry registry, String fixedChallenge) {
        this.listener = listener;
        this.route = route;
        this.method = method;
        this.challenge = challenge;
        this.registry = registry;
        this.fixedChallenge = fixedChallenge;
    }

    /** 401: no credential, or one we cannot accept. {@code detail} is for the client; it never holds the credential. */
    void unauthorized(HttpExchange exchange, String reason, String detail) {
        FullHttpResponse r = LocalResponse.problem(HttpResponseStatus.UNAUTHORIZED, reason, detail);
        if (challenge.equals("Bearer")) {
            String error = reason.equals("missing_credentials") ? "" : ", error=\"invalid_token\", error_description=\"" + reason + "\"";
            r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, fixedChallenge + error);
        } else if (fixedChallenge != null) {
            r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, fixedChallenge);
        }
        refuse(exchange, r, reason);
    }

    /** 503: the check itself cannot be made now (overloaded); nothing was decided about the credential. */
    void unavailable(HttpExchange exchange, String reason, String detail) {
        FullHttpResponse r = LocalResponse.problem(HttpResponseStatus.SERVICE_UNAVAILABLE, reason, detail);
        r.headers().set(HttpHeaderNames.RETRY_AFTER, 1);
        refuse(exchange, r, reason);
    }

    /** 403: a valid credential whose consumer may not do this. */
    void forbidden(HttpExchange exchange, String reason, String detail) {
        refuse(exchange, LocalResponse.problem(HttpResponseStatus.FORBIDDEN, reason, detail), reason);
    }

    void refuse(HttpExchange exchange, FullHttpResponse response, String reason) {
        exchange.failureReason(reason);
        log.info("{} {} {}: {} refused: {} (client {})", listener, exchange.request().method(), exchange.path(), method, reason,
                exchange.connection().remoteIp());
        if (registry != null) {
            counters.computeIfAbsent(reason, r -> Counter.builder("gatehouse.auth.failures")
                    .description("Requests refused by an authentication filter, by reason")
                    .tag("listener", listener).tag("route", route).tag("method", method).tag("reason", r)
                    .register(registry)).increment();
        }
        LocalResponse.send(exchange, response);
    }
}
