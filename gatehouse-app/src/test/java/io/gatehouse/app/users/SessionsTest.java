package io.gatehouse.app.users;

import com.fasterxml.jackson.databind.JsonNode;
import io.gatehouse.app.App;
import io.gatehouse.app.Engines;
import io.gatehouse.app.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Stateless instances: a session made on instance 1 keeps working on instance 2 after instance 1 is gone. */
@ExtendWith(Engines.class)
class SessionsTest {
    static App one, two;

    @BeforeAll
    static void start() {
        one = App.start(Engines.config("sessions-1"));
        two = App.start(Engines.config("sessions-2"));
    }

    @AfterAll
    static void stop() {
        one.close();
        two.close();
    }

    /** One browser: a cookie jar shared across both instances (as behind the edge, where both share a host). */
    static final java.net.CookieManager jar = new java.net.CookieManager();
    static final HttpClient browser = HttpClient.newBuilder().cookieHandler(jar).followRedirects(HttpClient.Redirect.NEVER).build();

    static HttpResponse<String> send(App app, String method, String path, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path)).timeout(Duration.ofSeconds(10))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) b.header("Content-Type", "application/json");
        HttpResponse<String> r = browser.send(b.build(), HttpResponse.BodyHandlers.ofString());
        // Cookies are per host:port in the jar; copy them to the other instance as a browser on one origin would.
        for (App other : new App[]{one, two}) {
            URI u = URI.create("http://127.0.0.1:" + other.port() + "/");
            r.headers().allValues("Set-Cookie").forEach(c -> java.net.HttpCookie.parse(c).forEach(h -> jar.getCookieStore().add(u, h)));
        }
        return r;
    }

    @Test
    void signInOnOneInstanceAndCarryOnThroughAnotherAfterTheFirstDies() throws Exception {
        String name = "user" + System.nanoTime() % 1_000_000;
        assertThat(send(one, "POST", "/api/users", "{\"name\":\"" + name + "\",\"password\":\"correct horse battery\"}").statusCode()).isEqualTo(201);
        assertThat(send(one, "POST", "/api/users", "{\"name\":\"" + name + "\",\"password\":\"another password\"}").statusCode()).isEqualTo(409);
        HttpResponse<String> wrong = send(one, "POST", "/api/sessions", "{\"name\":\"" + name + "\",\"password\":\"wrong password!\"}");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        HttpResponse<String> login = send(one, "POST", "/api/sessions", "{\"name\":\"" + name + "\",\"password\":\"correct horse battery\"}");
        assertThat(login.statusCode()).isEqualTo(200);
        assertThat(login.headers().firstValue("Set-Cookie")).hasValueSatisfying(c -> assertThat(c).startsWith("gh_session=").contains("HttpOnly"));

        one.close(); // instance 1 dies; nothing of the session was in it

        HttpResponse<String> me = send(two, "GET", "/api/session", null);
        assertThat(me.statusCode()).isEqualTo(200);
        assertThat(Json.MAPPER.readTree(me.body()).get("user").asText()).isEqualTo(name);
        HttpResponse<String> created = send(two, "POST", "/api/links", "{\"target\":\"https://example.com/s\"}");
        assertThat(created.statusCode()).isEqualTo(201);
        JsonNode link = Json.MAPPER.readTree(created.body());
        assertThat(link.get("owner").asText()).isEqualTo(name);

        assertThat(send(two, "DELETE", "/api/sessions", null).statusCode()).isEqualTo(204);
        jar.getCookieStore().removeAll();
        assertThat(send(two, "GET", "/api/session", null).statusCode()).isEqualTo(401);
    }

    @Test
    void passwordsAreStoredAsArgon2idAndVerified() {
        PasswordHasher h = new PasswordHasher();
        String phc = h.hash("a long passphrase");
        assertThat(phc).startsWith("$argon2id$v=19$m=19456,t=2,p=1$");
        assertThat(h.verify("a long passphrase", phc)).isTrue();
        assertThat(h.verify("a long passphrasf", phc)).isFalse();
        assertThat(h.hash("a long passphrase")).isNotEqualTo(phc); // salted
    }
}
