package io.gatehouse.app.db;

import com.fasterxml.jackson.databind.JsonNode;
import io.gatehouse.app.App;
import io.gatehouse.app.AppConfig;
import io.gatehouse.app.Engines;
import io.gatehouse.app.Http;
import io.gatehouse.app.http.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Read/write split with read-your-writes, on a real streaming replica whose replay is paused so that a stale read
 * would be visible.
 */
@ExtendWith(Engines.class)
class ReadYourWritesTest {
    static App app;

    /** An instance whose replicas leave the read pool beyond {@code maxLag} behind the primary (real time). */
    static App start(String instance, Duration maxLag) {
        AppConfig base = Engines.config(instance);
        Database.Settings d = base.database();
        return App.start(new AppConfig(base.instanceId(), base.host(), 0,
                new Database.Settings(d.primaryUrl(), d.replicaUrls(), d.user(), d.password(), 4, maxLag, Duration.ofMillis(100)),
                base.redisUri(), base.redisTimeout(), base.cacheTtl(), base.negativeTtl(), Duration.ZERO, null, base.publicBase(),
                base.ownHosts(), base.jobInterval(), false, base.hitFlushInterval()));
    }

    @AfterEach
    void resumeReplayAndStop() throws Exception {
        Engines.postgres().onReplica("select pg_wal_replay_resume()");
        if (app != null) app.close();
        app = null;
    }

    private static Replica replica() {
        return app.database().replicas().get(0);
    }

    @Test
    void aWriterReadsItsWriteWhileTheReplicaIsPausedAndOthersSeeTheReplica() throws Exception {
        // The routing by commit position is what this tests, not the lag bound: with the 1.5 s of the other test, a
        // stall of 1.5 s between the write and the stranger's read took the paused replica out of the read pool, and
        // the read went to the primary. A bound no stall reaches keeps the replica in (its stale read stays visible).
        app = start("ryw", Duration.ofMinutes(5));
        await().atMost(Duration.ofSeconds(30)).until(() -> replica().inReadPool());
        Engines.postgres().onReplica("select pg_wal_replay_pause()");
        Http writer = new Http(app.port());   // carries the gh_lsn cookie, like the browser that wrote
        Http stranger = new Http(app.port()); // has never written

        HttpResponse<String> created = writer.send("POST", "/api/links", "ryw-user", "{\"target\":\"https://example.com/ryw\"}");
        assertThat(created.statusCode()).isEqualTo(201);
        String code = Json.MAPPER.readTree(created.body()).get("code").asText();
        Lsn lsn = Lsn.parse(created.headers().firstValue("Gatehouse-Lsn").orElseThrow());
        assertThat(replica().replayed()).isLessThan(lsn);

        // Without the commit position the read goes to the (paused) replica: the stale read is real and visible.
        HttpResponse<String> stale = stranger.send("GET", "/api/links/" + code, "ryw-user", null);
        assertThat(stale.headers().firstValue("Gatehouse-Read-From")).hasValue("replica-1");
        assertThat(stale.statusCode()).isEqualTo(404);

        // With it (cookie), the replica is not far enough, so the primary answers: the writer sees its write.
        HttpResponse<String> mine = writer.send("GET", "/api/links/" + code, "ryw-user", null);
        assertThat(mine.statusCode()).isEqualTo(200);
        assertThat(mine.headers().firstValue("Gatehouse-Read-From")).hasValue("primary");
        // The same via the header, for API clients that do not keep cookies.
        HttpResponse<String> viaHeader = stranger.send("GET", "/api/links/" + code, "ryw-user", null, "Gatehouse-Lsn", lsn.toString());
        assertThat(viaHeader.headers().firstValue("Gatehouse-Read-From")).hasValue("primary");
        assertThat(viaHeader.statusCode()).isEqualTo(200);
        // The redirect path sees it too, even for the stranger: a replica "not found" is confirmed on the primary.
        assertThat(stranger.get("/" + code).statusCode()).isEqualTo(302);

        Engines.postgres().onReplica("select pg_wal_replay_resume()");
        await().atMost(Duration.ofSeconds(30)).until(() -> replica().replayed() != null && replica().replayed().atLeast(lsn));
        HttpResponse<String> caughtUp = writer.send("GET", "/api/links/" + code, "ryw-user", null);
        assertThat(caughtUp.statusCode()).isEqualTo(200);
        assertThat(caughtUp.headers().firstValue("Gatehouse-Read-From")).hasValue("replica-1");
    }

    @Test
    void aReplicaBeyondTheLagBoundLeavesTheReadPoolAndReturns() throws Exception {
        // A short lag bound so the test sees the replica leave the read pool quickly (it only waits for that).
        app = start("ryw-lag", Duration.ofMillis(1500));
        await().atMost(Duration.ofSeconds(30)).until(() -> replica().inReadPool());
        Engines.postgres().onReplica("select pg_wal_replay_pause()");
        Http client = new Http(app.port());
        // Keep writing so the primary moves on while the replica stands still.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            client.send("POST", "/api/links", "lagger", "{\"target\":\"https://example.com/lag\"}");
            return !replica().inReadPool();
        });
        assertThat(replica().lag()).isGreaterThan(Duration.ofMillis(1500));
        JsonNode ready = Json.MAPPER.readTree(client.get("/ready").body());
        assertThat(ready.get("status").asText()).isEqualTo("degraded");
        assertThat(ready.at("/checks/replicas/0/status").asText()).isEqualTo("lagging");
        assertThat(ready.at("/checks/replicas/0/lagMs").asLong()).isGreaterThanOrEqualTo(1500); // above 1.5 s, shown in whole milliseconds
        assertThat(client.get("/metrics").body()).containsPattern("app_db_replica_lag_seconds\\{[^}]*replica=\"replica-1\"[^}]*} [1-9]");
        // Reads without a position now go to the primary instead of the stale replica.
        HttpResponse<String> list = new Http(app.port()).send("GET", "/api/links", "lagger", null);
        assertThat(list.headers().firstValue("Gatehouse-Read-From")).hasValue("primary");

        Engines.postgres().onReplica("select pg_wal_replay_resume()");
        await().atMost(Duration.ofSeconds(30)).until(() -> replica().inReadPool());
        assertThat(new Http(app.port()).send("GET", "/api/links", "lagger", null).headers().firstValue("Gatehouse-Read-From"))
                .hasValue("replica-1");
    }
}
