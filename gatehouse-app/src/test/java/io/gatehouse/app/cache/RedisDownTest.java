package io.gatehouse.app.cache;

import com.fasterxml.jackson.databind.JsonNode;
import io.gatehouse.app.App;
import io.gatehouse.app.AppConfig;
import io.gatehouse.app.Engines;
import io.gatehouse.app.Http;
import io.gatehouse.app.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Redis lost: the app serves from the database, says "degraded" on /ready, and recovers when Redis is back. */
@ExtendWith(Engines.class)
class RedisDownTest {
    static EmbeddedRedis redis;
    static App app;
    static Http http;

    @BeforeAll
    static void start() throws Exception {
        redis = EmbeddedRedis.start(0, "16mb", "allkeys-lru");
        AppConfig c = AppConfig.defaults("redis-down", Engines.postgres().primaryJdbcUrl(),
                List.of(Engines.postgres().replicaJdbcUrl()), redis.uri())
                .withNearCacheTtl(Duration.ZERO) // the database, not the near cache, must answer while Redis is down
                // Redis is taken away by stopping it (refused at once), so the timeout is not what this tests; the
                // 1 s default could trip the switch after the restart too and the last read would go to the database.
                .withRedisTimeout(Engines.REDIS_TIMEOUT);
        app = App.start(c);
        http = new Http(app.port());
    }

    @AfterAll
    static void stop() throws Exception {
        app.close();
        redis.close();
    }

    @Test
    void servesFromTheDatabaseWhileRedisIsDownAndRecovers() throws Exception {
        HttpResponse<String> created = http.send("POST", "/api/links", "ivy", "{\"target\":\"https://example.com/r\"}");
        assertThat(created.statusCode()).isEqualTo(201);
        String code = Json.MAPPER.readTree(created.body()).get("code").asText();
        assertThat(http.get("/" + code).statusCode()).isEqualTo(302);

        redis.stop();
        long before = app.links().store().lookups();
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = http.get("/" + code);
            assertThat(r.statusCode()).isEqualTo(302);
            assertThat(r.headers().firstValue("Location")).hasValue("https://example.com/r");
        }
        assertThat(app.links().store().lookups() - before).isPositive(); // the database answered
        HttpResponse<String> ready = http.get("/ready");
        assertThat(ready.statusCode()).isEqualTo(200); // still takes traffic
        JsonNode report = Json.MAPPER.readTree(ready.body());
        assertThat(report.get("status").asText()).isEqualTo("degraded");
        assertThat(report.at("/checks/redis/status").asText()).isEqualTo("down");

        // Writes keep working; their tombstones wait for Redis.
        HttpResponse<String> upd = http.send("PATCH", "/api/links/" + code, "ivy", "{\"target\":\"https://example.com/r2\"}");
        assertThat(upd.statusCode()).isEqualTo(200);
        assertThat(app.links().cache().pendingTombstones()).isEqualTo(1);
        assertThat(http.get("/" + code).headers().firstValue("Location")).hasValue("https://example.com/r2");

        redis.restart();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            JsonNode r = Json.MAPPER.readTree(http.get("/ready").body());
            assertThat(r.get("status").asText()).isEqualTo("ready");
        });
        assertThat(app.links().cache().pendingTombstones()).isZero();
        assertThat(http.get("/" + code).headers().firstValue("Location")).hasValue("https://example.com/r2");
        long afterRecovery = app.links().store().lookups();
        assertThat(http.get("/" + code).statusCode()).isEqualTo(302);
        assertThat(app.links().store().lookups()).isEqualTo(afterRecovery); // cached again
    }
}
