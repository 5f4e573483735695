package io.gatehouse.app.http;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

import java.util.Optional;

/**
 * Who is calling. API clients authenticate at the edge (API keys, JWT), which then sets {@link #USER_HEADER}; the
 * app trusts that header because only the edge can reach it (instances listen on loopback or a private network,
 * and the edge strips the header from what clients send). Browsers use a session cookie instead (see users).
 */
@FunctionalInterface
public interface Identity {
    HeaderName USER_HEADER = HeaderNames.create("X-Gatehouse-User");

    Optional<String> of(ServerRequest req);

    /** The identity the edge asserted, if any. */
    static Optional<String> fromEdge(ServerRequest req) {
        return req.headers().first(USER_HEADER).filter(u -> !u.isBlank() && u.length() <= 64);
    }

    default String require(ServerRequest req) {
        return of(req).orElseThrow(() -> new ProblemException(401, "unauthenticated", "Unauthenticated",
                "sign in, or call through the edge with an API key"));
    }
}
