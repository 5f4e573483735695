package io.gatehouse.app.links;

import com.fasterxml.jackson.databind.JsonNode;
import io.gatehouse.app.db.Database;
import io.gatehouse.app.http.Consistency;
import io.gatehouse.app.http.Identity;
import io.gatehouse.app.http.Json;
import io.gatehouse.app.http.ProblemException;
import io.helidon.http.Header;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;

/** The links HTTP API and the redirect itself. */
public final class LinkRoutes {
    // Made once: a cached header keeps its encoded bytes, so a redirect neither builds it nor encodes it again.
    private static final Header NO_STORE = HeaderValues.createCached(HeaderNames.CACHE_CONTROL, "no-store");
    private static final Header CACHE_A_DAY = HeaderValues.createCached(HeaderNames.CACHE_CONTROL, "public, max-age=86400");

    private final LinkService links;
    private final Identity identity;
    private final Clock clock;
    private final String publicBase;

    /** @param publicBase how short links are shown to users, e.g. {@code http://localhost:8080} */
    public LinkRoutes(LinkService links, Identity identity, Clock clock, String publicBase) {
        this.links = links;
        this.identity = identity;
        this.clock = clock;
        this.publicBase = publicBase;
    }

    /** Registers the API; the catch-all redirect route must come after every fixed path. */
    public void api(HttpRouting.Builder r) {
        r.post("/api/links", this::create)
                .get("/api/links", this::list)
                .get("/api/links/{code}", this::get)
                .patch("/api/links/{code}", this::update)
                .delete("/api/links/{code}", this::delete);
    }

    public void redirects(HttpRouting.Builder r) {
        r.get("/{code}", this::redirect);
    }

    private void create(ServerRequest req, ServerResponse res) {
        String owner = identity.require(req);
        JsonNode body = Json.body(req);
        for (var it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!List.of("target", "alias", "expiresAt", "permanent").contains(f)) {
                throw ProblemException.badRequest("unknown-field", "unknown field '" + f + "'");
            }
        }
        Instant expiresAt = instant(Json.text(body, "expiresAt"));
        Database.Written<Link> w = links.create(owner, Json.text(body, "target"), Json.text(body, "alias"), expiresAt,
                Json.bool(body, "permanent"));
        Consistency.wrote(res, w.lsn());
        res.header(HeaderNames.LOCATION, "/api/links/" + w.value().code());
        Json.send(res, 201, view(w.value()));
    }

    private void list(ServerRequest req, ServerResponse res) {
        String owner = identity.require(req);
        Database.Read<List<Link>> r = links.list(owner, Consistency.required(req));
        res.header("Gatehouse-Read-From", r.source());
        Json.send(res, 200, Map.of("links", r.value().stream().map(this::view).toList()));
    }

    private void get(ServerRequest req, ServerResponse res) {
        String owner = identity.require(req);
        String code = code(req);
        Database.Read<Link> r = links.get(owner, code, Consistency.required(req));
        res.header("Gatehouse-Read-From", r.source());
        if (r.value() == null) throw ProblemException.notFound("no link '" + code + "' of yours");
        Json.send(res, 200, view(r.value()));
    }

    private void update(ServerRequest req, ServerResponse res) {
        String owner = identity.require(req);
        JsonNode body = Json.body(req);
        Database.Written<Link> w = links.updateTarget(owner, code(req), Json.text(body, "target"));
        Consistency.wrote(res, w.lsn());
        Json.send(res, 200, view(w.value()));
    }

    private void delete(ServerRequest req, ServerResponse res) {
        String owner = identity.require(req);
        Database.Written<Long> w = links.delete(owner, code(req));
        Consistency.wrote(res, w.lsn());
        res.status(204).send();
    }

    private void redirect(ServerRequest req, ServerResponse res) {
        String code = code(req);
        Redirect r = links.resolve(code, Consistency.required(req));
        if (r == null) throw ProblemException.notFound("no link '" + code + "'");
        if (r.expired(clock.instant())) throw new ProblemException(410, "expired", "Gone", "the link '" + code + "' has expired");
        links.countHit(code);
        if (r.permanent()) {
            // Asked for by the owner: 301 lets browsers and the edge cache the answer. A bare 301 is cached by
            // browsers with no end, so the lifetime is stated: a day, after which an edit reaches everyone.
            res.status(301);
            res.header(CACHE_A_DAY);
        } else {
            // 302 by default, not 301: a browser keeps a 301 forever and stops asking, so every later visit
            // would be invisible to the hit counter and an edited target would never reach that browser.
            // no-store keeps browsers and the edge cache from answering in our place for the same reasons.
            res.status(302);
            res.header(NO_STORE);
        }
        res.header(HeaderNames.LOCATION, r.target());
        res.send();
    }

    private static String code(ServerRequest req) {
        return req.path().pathParameters().get("code");
    }

    private Instant instant(String text) {
        if (text == null) return null;
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw ProblemException.badRequest("invalid-expiry", "'expiresAt' must be an ISO-8601 instant like 2030-01-31T12:00:00Z");
        }
    }

    private Map<String, Object> view(Link l) {
        return Json.map("code", l.code(), "shortUrl", publicBase + "/" + l.code(), "target", l.target(), "owner", l.owner(),
                "permanent", l.permanent(), "expiresAt", l.expiresAt() == null ? null : l.expiresAt().toString(),
                "createdAt", l.createdAt().toString(), "updatedAt", l.updatedAt().toString(), "hits", l.hits());
    }
}
