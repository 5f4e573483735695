package io.gatehouse.app.users;

import com.fasterxml.jackson.databind.JsonNode;
import io.gatehouse.app.db.Database;
import io.gatehouse.app.http.Identity;
import io.gatehouse.app.http.Json;
import io.gatehouse.app.http.ProblemException;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Sign-up, sign-in (a session cookie), sign-out, and who-am-I. */
public final class UserRoutes {
    public static final String SESSION_COOKIE = "gh_session";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{2,31}");
    // Verifying against this when the user does not exist costs the same as a real check: no user enumeration by timing.
    private final String dummyHash;

    private final Database db;
    private final Sessions sessions;
    private final PasswordHasher hasher = new PasswordHasher();

    public UserRoutes(Database db, Sessions sessions) {
        this.db = db;
        this.sessions = sessions;
        this.dummyHash = hasher.hash("not a password of anyone");
    }

    /** The identity of a request: the edge's header first, else a valid session cookie. */
    public Identity identity() {
        return req -> Identity.fromEdge(req).or(() -> sessions.user(req.headers().cookies().first(SESSION_COOKIE).orElse(null)));
    }

    public void routes(HttpRouting.Builder r) {
        r.post("/api/users", this::signUp)
                .post("/api/sessions", this::signIn)
                .delete("/api/sessions", this::signOut)
                .get("/api/session", (req, res) -> Json.send(res, 200, Map.of("user", identity().require(req))));
    }

    private void signUp(ServerRequest req, ServerResponse res) {
        JsonNode body = Json.body(req);
        String name = Json.text(body, "name");
        String password = Json.text(body, "password");
        if (name == null || !NAME.matcher(name).matches()) {
            throw ProblemException.badRequest("invalid-name", "a name is 3-32 characters of a-z, 0-9, '_', '.' and '-'");
        }
        if (password == null || password.length() < 10 || password.length() > 256) {
            throw ProblemException.badRequest("invalid-password", "a password is 10-256 characters");
        }
        String hash = hasher.hash(password);
        Database.Written<Integer> w = db.write(c -> {
            try (PreparedStatement s = c.prepareStatement("insert into users (name, password_hash) values (?, ?) on conflict do nothing")) {
                s.setString(1, name);
                s.setString(2, hash);
                return s.executeUpdate();
            }
        });
        if (w.value() == 0) throw new ProblemException(409, "name-taken", "Name taken", "'" + name + "' is taken");
        Json.send(res, 201, Map.of("name", name));
    }

    private void signIn(ServerRequest req, ServerResponse res) {
        JsonNode body = Json.body(req);
        String name = Optional.ofNullable(Json.text(body, "name")).orElse("");
        String password = Optional.ofNullable(Json.text(body, "password")).orElse("");
        String stored = db.onPrimary(c -> {
            try (PreparedStatement s = c.prepareStatement("select password_hash from users where name = ?")) {
                s.setString(1, name);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
        boolean ok = hasher.verify(password, stored != null ? stored : dummyHash) && stored != null;
        if (!ok) throw new ProblemException(401, "bad-credentials", "Unauthenticated", "wrong name or password");
        String token = sessions.open(name);
        res.header(HeaderNames.SET_COOKIE, SESSION_COOKIE + "=" + token + "; Path=/; Max-Age=" + sessions.lifetime().toSeconds()
                + "; HttpOnly; SameSite=Lax");
        Json.send(res, 200, Map.of("user", name));
    }

    private void signOut(ServerRequest req, ServerResponse res) {
        req.headers().cookies().first(SESSION_COOKIE).ifPresent(sessions::close);
        res.header(HeaderNames.SET_COOKIE, SESSION_COOKIE + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
        res.status(204).send();
    }
}
