package io.gatehouse.app.links;

import com.fasterxml.jackson.databind.JsonNode;
import io.gatehouse.app.App;
import io.gatehouse.app.AppConfig;
import io.gatehouse.app.Engines;
import io.gatehouse.app.Http;
import io.gatehouse.app.cache.EmbeddedRedis;
import io.gatehouse.app.cache.Redis;
import io.gatehouse.app.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Redirect counts are batched in memory and flushed once per interval. Flushes are triggered by the test
 * ({@code hitFlushInterval} zero: no timer), so nothing here waits on time. The instances get a Redis of their own,
 * so {@code INFO commandstats} counts only their commands.
 */
@ExtendWith(Engines.class)
class HitCounterTest {
    static EmbeddedRedis redisServer;
    static Redis probe;
    static App app;
    static Http http;

    @BeforeAll
    static void start() throws Exception {
        redisServer = EmbeddedRedis.start(0, "16mb", "allkeys-lfu");
        probe = new Redis(redisServer.uri(), Engines.REDIS_TIMEOUT, Duration.ofMillis(1));
        app = App.start(config("hits-1", redisServer.uri()));
        http = new Http(app.port());
    }

    /**
     * Near cache far longer than the test, no periodic jobs during it (the roll-up would move counts), manual flushes,
     * and a Redis timeout a stall does not reach: a flush whose script timed out goes to PostgreSQL instead (and the
     * script may still run), so the counts in Redis would be off for a reason other than the counting.
     */
    static AppConfig config(String instance, String redisUri) {
        return AppConfig.defaults(instance, Engines.postgres().primaryJdbcUrl(), List.of(Engines.postgres().replicaJdbcUrl()), redisUri)
                .withRedisTimeout(Engines.REDIS_TIMEOUT)
                .withNearCacheTtl(Duration.ofMinutes(10))
                .withJobInterval(Duration.ofHours(1))
                .withHitFlushInterval(Duration.ZERO);
    }

    @AfterAll
    static void stop() throws Exception {
        app.close();
        probe.close();
        redisServer.close();
    }

    static String create(App on, String target) {
        return on.links().create("hits-owner", target, null, null, false).value().code();
    }

    static long inRedis(String code) {
        String v = probe.call(c -> c.hget(HitCounter.HITS_KEY, code));
        return v == null ? 0 : Long.parseLong(v);
    }

    /** Calls per command since the last CONFIG RESETSTAT, without the probe's own INFO and CONFIG. */
    static Map<String, Long> commandsSinceReset() {
        Map<String, Long> calls = new HashMap<>();
        for (String line : probe.call(c -> c.info("commandstats")).split("\r?\n")) {
            if (!line.startsWith("cmdstat_")) continue;
            String name = line.substring("cmdstat_".length(), line.indexOf(':'));
            if (name.equals("info") || name.startsWith("config")) continue;
            int at = line.indexOf("calls=") + "calls=".length();
            calls.put(name, Long.parseLong(line.substring(at, line.indexOf(',', at))));
        }
        return calls;
    }

    @Test
    void countsAreExactAfterAFlushEvenWhileFlushesRaceTheRedirects() throws Exception {
        String hot = create(app, "https://example.com/exact-hot");
        String cold = create(app, "https://example.com/exact-cold");
        int threads = 8, perThread = 20_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> counting = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < threads; t++) {
                int id = t;
                counting.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) app.links().countHit(i % 4 == 0 && id == 0 ? cold : hot);
                    return null;
                }));
            }
            go.countDown();
            // Flushes while the counting goes on: every increment must land in exactly one batch.
            while (!counting.stream().allMatch(Future::isDone)) app.links().hits().flush();
            for (Future<?> f : counting) f.get(30, TimeUnit.SECONDS);
        }
        app.links().hits().flush();
        assertThat(app.links().hits().unflushed()).isZero();
        assertThat(inRedis(hot)).isEqualTo((long) threads * perThread - perThread / 4);
        assertThat(inRedis(cold)).isEqualTo(perThread / 4);
    }

    /** A clock the test moves by hand. */
    static final class TestClock extends Clock {
        final AtomicLong millis = new AtomicLong(1_000_000);

        @Override public ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(ZoneId zone) { return this; }
        @Override public Instant instant() { return Instant.ofEpochMilli(millis.get()); }
        void advance(Duration d) { millis.addAndGet(d.toMillis()); }
    }

    @Test
    void aCodeThatGoesIdleLeavesTheMapAndKeepsEveryCount() {
        TestClock clock = new TestClock();
        HitCounter hits = new HitCounter(probe, app.database(), app.links().store(), Duration.ZERO, "idle-test",
                new SimpleMeterRegistry(), clock);
        String code = "idle-" + System.nanoTime();
        for (int i = 0; i < 3; i++) hits.hit(code);
        assertThat(hits.flush()).isEqualTo(1);
        clock.advance(HitCounter.IDLE);
        hits.flush(); // idle for a minute: its counter leaves the map, but is still drained for another minute
        for (int i = 0; i < 2; i++) hits.hit(code); // a fresh counter
        assertThat(hits.flush()).isEqualTo(1);
        clock.advance(HitCounter.IDLE);
        hits.flush();
        hits.hit(code);
        hits.close(); // a clean stop flushes
        assertThat(inRedis(code)).isEqualTo(6);
        assertThat(hits.unflushed()).isZero();
    }

    @Test
    void aHotCodeRedirectedAThousandTimesMakesAHandfulOfRedisCommands() {
        String code = create(app, "https://example.com/hot");
        assertThat(http.get("/" + code).statusCode()).isEqualTo(302); // the miss that fills both caches
        // On a starved machine a fill can time out (and is then not kept): warm until this instance holds the code.
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            assertThat(http.get("/" + code).statusCode()).isEqualTo(302);
            return app.links().cache().nearHas(code);
        });
        app.links().hits().flush();
        long before = inRedis(code);
        probe.call(c -> c.configResetstat());

        for (int i = 0; i < 1000; i++) assertThat(http.get("/" + code).statusCode()).isEqualTo(302);
        // Near-cache hits counted in memory: not one command reached Redis.
        Map<String, Long> early = commandsSinceReset();
        assertThat(early.values().stream().mapToLong(Long::longValue).sum()).as(early.toString()).isZero();

        assertThat(app.links().hits().flush()).isEqualTo(1);
        Map<String, Long> calls = commandsSinceReset();
        assertThat(calls).containsEntry("eval", 1L).containsEntry("hincrby", 1L);
        assertThat(calls.values().stream().mapToLong(Long::longValue).sum()).isLessThanOrEqualTo(3);
        assertThat(inRedis(code) - before).isEqualTo(1000);
    }

    @Test
    void aLargeBatchGoesAsScriptsOfAHundredCodesAndEveryCountArrives() {
        HitCounter hits = app.links().hits();
        hits.flush(); // what earlier tests left
        String prefix = "chunk" + System.nanoTime() % 100_000 + "-";
        for (int i = 0; i < 250; i++) {
            for (int n = 0; n <= i % 3; n++) hits.hit(prefix + i);
        }
        probe.call(c -> c.configResetstat());

        assertThat(hits.flush()).isEqualTo(250);
        // Redis runs one command at a time: three short scripts (100, 100, 50 codes) instead of one long one
        Map<String, Long> calls = commandsSinceReset();
        assertThat(calls).containsEntry("eval", 3L).containsEntry("hincrby", 250L);
        for (int i = 0; i < 250; i++) assertThat(inRedis(prefix + i)).as(prefix + i).isEqualTo(i % 3 + 1);
        assertThat(hits.unflushed()).isZero();
    }

    @Test
    void theStatsEndpointShowsFlushedCounts() throws Exception {
        String owner = "hits-stats-" + System.nanoTime();
        JsonNode made = Json.MAPPER.readTree(http.send("POST", "/api/links", owner, "{\"target\":\"https://example.com/stats\"}").body());
        String code = made.get("code").asText();
        for (int i = 0; i < 7; i++) assertThat(http.get("/" + code).statusCode()).isEqualTo(302);
        assertThat(hits(owner, code)).isZero(); // still in this instance's memory
        app.links().hits().flush();
        assertThat(hits(owner, code)).isEqualTo(7);
    }

    static long hits(String owner, String code) throws Exception {
        return Json.MAPPER.readTree(http.send("GET", "/api/links/" + code, owner, null).body()).get("hits").asLong();
    }

    @Test
    void aCleanStopFlushes() {
        App other = App.start(config("hits-2", redisServer.uri()));
        String code = create(other, "https://example.com/stop");
        Http otherHttp = new Http(other.port());
        for (int i = 0; i < 5; i++) assertThat(otherHttp.get("/" + code).statusCode()).isEqualTo(302);
        assertThat(inRedis(code)).isZero();
        other.close();
        assertThat(inRedis(code)).isEqualTo(5);
    }

    @Test
    void withoutRedisTheBatchGoesToPostgreSQL() {
        App noCache = App.start(config("hits-nocache", null));
        try {
            String code = create(noCache, "https://example.com/no-cache");
            Http h = new Http(noCache.port());
            for (int i = 0; i < 4; i++) assertThat(h.get("/" + code).statusCode()).isEqualTo(302);
            assertThat(noCache.links().hits().flush()).isEqualTo(1);
            assertThat(noCache.database().onPrimary(c -> noCache.links().store().find(c, code)).hits()).isEqualTo(4);
        } finally {
            noCache.close();
        }
    }

    @Test
    void whileRedisIsDownTheBatchGoesToPostgreSQL() throws Exception {
        EmbeddedRedis own = EmbeddedRedis.start(0, "16mb", "allkeys-lfu");
        App a = App.start(config("hits-redis-down", own.uri()));
        try {
            String code = create(a, "https://example.com/redis-down");
            Http h = new Http(a.port());
            for (int i = 0; i < 6; i++) assertThat(h.get("/" + code).statusCode()).isEqualTo(302);
            own.stop();
            assertThat(a.links().hits().flush()).isEqualTo(1);
            assertThat(a.links().hits().unflushed()).isZero();
            assertThat(a.database().onPrimary(c -> a.links().store().find(c, code)).hits()).isEqualTo(6);
        } finally {
            a.close();
            own.close();
        }
    }
}
