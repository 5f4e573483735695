package io.gatehouse.app.links;

import com.fasterxml.jackson.databind.JsonNode;
import io.gatehouse.app.App;
import io.gatehouse.app.Engines;
import io.gatehouse.app.Http;
import io.gatehouse.app.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The links API over real HTTP, on real PostgreSQL (primary + replica) and Redis. */
@ExtendWith(Engines.class)
class LinksApiTest {
    static App app;
    static Http http;

    @BeforeAll
    static void start() {
        app = App.start(Engines.config("links-api"));
        http = new Http(app.port());
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    static JsonNode json(HttpResponse<String> r) throws Exception {
        return Json.MAPPER.readTree(r.body());
    }

    static String create(String user, String body) throws Exception {
        HttpResponse<String> r = http.send("POST", "/api/links", user, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return json(r).get("code").asText();
    }

    @Test
    void createThenFollowGives302WithNoStore() throws Exception {
        HttpResponse<String> created = http.send("POST", "/api/links", "alice", "{\"target\":\"https://example.com/a\"}");
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(created.headers().firstValue("Gatehouse-Lsn")).isPresent();
        assertThat(created.headers().firstValue("Set-Cookie")).hasValueSatisfying(c -> assertThat(c).startsWith("gh_lsn="));
        String code = json(created).get("code").asText();
        assertThat(code).matches("[0-9A-Za-z]{8}");

        HttpResponse<String> redirect = http.get("/" + code);
        assertThat(redirect.statusCode()).isEqualTo(302);
        assertThat(redirect.headers().firstValue("Location")).hasValue("https://example.com/a");
        assertThat(redirect.headers().firstValue("Cache-Control")).hasValue("no-store");
    }

    @Test
    void permanentLinkGives301WithABoundedLifetime() throws Exception {
        String code = create("alice", "{\"target\":\"https://example.com/p\",\"permanent\":true}");
        HttpResponse<String> r = http.get("/" + code);
        assertThat(r.statusCode()).isEqualTo(301);
        assertThat(r.headers().firstValue("Cache-Control")).hasValue("public, max-age=86400");
    }

    @Test
    void aliasIsUsedOnceAndReservedWordsAreRefused() throws Exception {
        String alias = "launch-" + System.nanoTime() % 100000;
        assertThat(create("alice", "{\"target\":\"https://example.com/l\",\"alias\":\"" + alias + "\"}")).isEqualTo(alias);
        HttpResponse<String> again = http.send("POST", "/api/links", "bob", "{\"target\":\"https://example.com/x\",\"alias\":\"" + alias + "\"}");
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(again.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        HttpResponse<String> reserved = http.send("POST", "/api/links", "bob", "{\"target\":\"https://example.com/x\",\"alias\":\"metrics\"}");
        assertThat(reserved.statusCode()).isEqualTo(400);
        assertThat(json(reserved).get("type").asText()).isEqualTo("/problems/reserved-alias");
    }

    @Test
    void unsafeTargetsAndBadInputAreProblems() throws Exception {
        HttpResponse<String> r = http.send("POST", "/api/links", "alice", "{\"target\":\"http://169.254.169.254/latest\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        JsonNode p = json(r);
        assertThat(p.get("type").asText()).isEqualTo("/problems/invalid-target");
        assertThat(p.get("status").asInt()).isEqualTo(400);
        assertThat(http.send("POST", "/api/links", "alice", "{\"target\":\"https://localhost:8080/\"}").statusCode()).isEqualTo(400);
        assertThat(http.send("POST", "/api/links", "alice", "{not json").statusCode()).isEqualTo(400);
        assertThat(http.send("POST", "/api/links", "alice", "{\"target\":\"https://e.com/\",\"bogus\":1}").statusCode()).isEqualTo(400);
        assertThat(http.send("POST", "/api/links", null, "{\"target\":\"https://example.com/\"}").statusCode()).isEqualTo(401);
        assertThat(http.send("POST", "/api/links", "alice", "{\"target\":\"https://example.com/\",\"expiresAt\":\"2000-01-01T00:00:00Z\"}").statusCode()).isEqualTo(400);
        HttpResponse<String> missing = http.get("/nosuchcode1");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    }

    @Test
    void updateIsSeenByTheVeryNextRedirect() throws Exception {
        String code = create("carol", "{\"target\":\"https://example.com/old\"}");
        assertThat(http.get("/" + code).headers().firstValue("Location")).hasValue("https://example.com/old"); // now cached
        HttpResponse<String> upd = http.send("PATCH", "/api/links/" + code, "carol", "{\"target\":\"https://example.com/new\"}");
        assertThat(upd.statusCode()).isEqualTo(200);
        assertThat(http.get("/" + code).headers().firstValue("Location")).hasValue("https://example.com/new");
        // someone else's link is not found, not forbidden: its existence is not disclosed
        assertThat(http.send("PATCH", "/api/links/" + code, "mallory", "{\"target\":\"https://evil.example/\"}").statusCode()).isEqualTo(404);
    }

    @Test
    void deleteRemovesTheLinkEvenWhenCached() throws Exception {
        String code = create("dave", "{\"target\":\"https://example.com/d\"}");
        assertThat(http.get("/" + code).statusCode()).isEqualTo(302);
        assertThat(http.send("DELETE", "/api/links/" + code, "eve", null).statusCode()).isEqualTo(404);
        assertThat(http.send("DELETE", "/api/links/" + code, "dave", null).statusCode()).isEqualTo(204);
        assertThat(http.get("/" + code).statusCode()).isEqualTo(404);
    }

    @Test
    void rolledUpCountsAreAddedToEachLinkInOneStatement() throws Exception {
        String owner = "grace-" + System.nanoTime();
        String a = create(owner, "{\"target\":\"https://example.com/g1\"}");
        String b = create(owner, "{\"target\":\"https://example.com/g2\"}");
        LinkStore store = app.links().store();
        // two codes of ours and one that does not exist (deleted since it was counted): that one is skipped
        app.database().write(c -> {
            store.addHits(c, java.util.Map.of(b, 5L, a, 2L, "zzNoSuch1", 9L));
            return null;
        });
        app.database().write(c -> {
            store.addHits(c, java.util.Map.of(a, 1L));   // adds to what is there
            store.addHits(c, java.util.Map.of());        // nothing to add: no statement
            return null;
        });
        assertThat(hitsInDatabase(a)).isEqualTo(3);
        assertThat(hitsInDatabase(b)).isEqualTo(5);
        assertThat(hitsInDatabase("zzNoSuch1")).isNull();
    }

    /** The link's rolled-up count, read on the primary; null when there is no such link. */
    static Long hitsInDatabase(String code) {
        return app.database().write(c -> {
            try (var s = c.prepareStatement("select hits from links where code = ?")) {
                s.setString(1, code);
                try (var rs = s.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : null;
                }
            }
        }).value();
    }

    @Test
    void metadataCountsHitsAndListShowsOnlyTheOwnersLinks() throws Exception {
        String owner = "frank-" + System.nanoTime();
        String a = create(owner, "{\"target\":\"https://example.com/1\"}");
        String b = create(owner, "{\"target\":\"https://example.com/2\"}");
        create("someone-else", "{\"target\":\"https://example.com/3\"}");
        for (int i = 0; i < 3; i++) assertThat(http.get("/" + a).statusCode()).isEqualTo(302);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(json(http.send("GET", "/api/links/" + a, owner, null)).get("hits").asLong()).isEqualTo(3));
        JsonNode meta = json(http.send("GET", "/api/links/" + a, owner, null));
        assertThat(meta.get("target").asText()).isEqualTo("https://example.com/1");
        assertThat(meta.get("owner").asText()).isEqualTo(owner);
        JsonNode list = json(http.send("GET", "/api/links", owner, null)).get("links");
        assertThat(list).hasSize(2);
        assertThat(list.findValuesAsText("code")).containsExactly(b, a);
        assertThat(http.send("GET", "/api/links/" + a, "not-the-owner", null).statusCode()).isEqualTo(404);
    }

    @Test
    void expiredLinkIsGone() throws Exception {
        // The app runs on the system clock, so the expiry is real time away: the create (refused once the moment has
        // passed) and the first redirect must both come before it. 5 s leaves room for a stall of a busy machine; the
        // 410 must still come, from the expiry alone (the link stays cached meanwhile).
        String expires = Instant.now().plusSeconds(5).toString();
        String code = create("gina", "{\"target\":\"https://example.com/e\",\"expiresAt\":\"" + expires + "\"}");
        assertThat(http.get("/" + code).statusCode()).isEqualTo(302);
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .until(() -> http.get("/" + code).statusCode() == 410);
    }

    @Test
    void healthAndMetrics() throws Exception {
        assertThat(http.get("/live").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            HttpResponse<String> ready = http.get("/ready");
            assertThat(ready.statusCode()).isEqualTo(200);
            JsonNode r = json(ready);
            assertThat(r.get("status").asText()).as(ready.body()).isEqualTo("ready");
            assertThat(r.at("/checks/postgres/status").asText()).isEqualTo("up");
            assertThat(r.at("/checks/redis/status").asText()).isEqualTo("up");
            assertThat(r.at("/checks/replicas/0/status").asText()).isEqualTo("up");
        });
        String code = create("hank", "{\"target\":\"https://example.com/m\"}");
        http.get("/" + code);
        http.get("/" + code);
        String metrics = http.get("/metrics").body();
        assertThat(metrics).contains("app_cache_requests_total{instance=\"links-api\",result=\"hit\"}")
                .contains("app_http_requests_seconds_count").contains("app_db_replica_lag_seconds")
                .contains("app_db_link_lookups_total{");
        // every metric says what it counts: "# HELP name text", the text not empty
        java.util.List<String> help = metrics.lines().filter(l -> l.startsWith("# HELP ")).toList();
        assertThat(help).hasSizeGreaterThan(10)
                .allSatisfy(l -> assertThat(l.split(" ", 4)).as(l).hasSize(4).satisfies(p -> assertThat(p[3]).isNotBlank()));
    }
}
