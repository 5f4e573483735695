package io.gatehouse.app.http;

import io.gatehouse.app.db.Lsn;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Read-your-writes across requests: a write answers with its commit position in a header (for API clients) and a
 * cookie (for browsers); later reads bring it back, and the database layer sends them to a replica only once the
 * replica has replayed that far. The cookie lives a minute: after that any healthy replica has the write.
 */
public final class Consistency {
    public static final HeaderName LSN_HEADER = HeaderNames.create("Gatehouse-Lsn");
    public static final String LSN_COOKIE = "gh_lsn";

    private Consistency() {}

    public static void wrote(ServerResponse res, Lsn lsn) {
        res.header(LSN_HEADER, lsn.toString());
        res.header(HeaderNames.SET_COOKIE, LSN_COOKIE + "=" + lsn + "; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
    }

    /** The newest position the client has written, from the header or the cookie; null if none or malformed. */
    public static Lsn required(ServerRequest req) {
        Lsn header = Lsn.parseOrNull(req.headers().first(LSN_HEADER).orElse(null));
        Lsn cookie = Lsn.parseOrNull(req.headers().cookies().first(LSN_COOKIE).orElse(null));
        if (header == null) return cookie;
        if (cookie == null) return header;
        return header.atLeast(cookie) ? header : cookie;
    }
}
