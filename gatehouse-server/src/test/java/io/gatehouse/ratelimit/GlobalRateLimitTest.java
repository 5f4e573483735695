package io.gatehouse.ratelimit;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.embedded.RedisServer;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code mode: global}: two edges share one limit through a real Redis (embedded redis-server), exactly; when Redis
 * stops, each limit follows its policy (open lets requests through, closed answers 503), and decisions come back by
 * themselves when Redis returns.
 */
class GlobalRateLimitTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    static RedisServer redis;
    static int redisPort;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void startRedis() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            redisPort = s.getLocalPort();
        }
        redis = new RedisServer(redisPort);
        redis.start();
    }

    @AfterAll
    static void stopRedis() throws Exception {
        redis.stop();
    }

    private Gatehouse edge(String route, String policy) throws Exception {
        return Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: %s
                        cluster: api
                        filters:
                          - rate_limit: {key: route, mode: global, on_redis_failure: %s, limits: [{rate: 20/h}]}
                redis: {address: "127.0.0.1:%d", timeout: 500ms}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(route, policy, redisPort, backend.address()), "global.yaml"));
    }

    private int get(Gatehouse g) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.listenerAddress("edge").getPort() + "/x"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    @Test
    void dailyAndMonthlyQuotasResetByTheWallClockInTheirTimeZone() throws Exception {
        // 23:59 on 31 January in Paris (UTC+1)
        io.gatehouse.clock.ManualClock clock = new io.gatehouse.clock.ManualClock(java.time.Instant.parse("2030-01-31T22:59:00Z"));
        Gatehouse g = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: quota-route
                        cluster: api
                        filters:
                          - quota: {key: client_ip, per_day: 2, per_month: 3, time_zone: Europe/Paris}
                redis: {address: "127.0.0.1:%d", timeout: 500ms}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(redisPort, backend.address()), "quota.yaml"), clock);
        try {
            assertThat(List.of(get(g), get(g))).containsOnly(200);
            HttpResponse<String> daily = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + g.listenerAddress("edge").getPort() + "/x")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(daily.statusCode()).isEqualTo(429);
            assertThat(daily.headers().firstValue("gatehouse-reason")).hasValue("quota_exceeded");
            assertThat(daily.headers().firstValue("retry-after")).hasValue("60");
            assertThat(daily.body()).contains("daily");
            clock.advance(Duration.ofMinutes(2));   // 1 February in Paris: a new day and a new month
            assertThat(List.of(get(g), get(g))).containsOnly(200);
            assertThat(get(g)).isEqualTo(429);
            clock.advance(Duration.ofDays(1));      // 2 February: a new day, the month has one request left
            assertThat(get(g)).isEqualTo(200);
            HttpResponse<String> monthly = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + g.listenerAddress("edge").getPort() + "/x")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(monthly.statusCode()).isEqualTo(429);
            assertThat(monthly.body()).contains("monthly");
            assertThat(Long.parseLong(monthly.headers().firstValue("retry-after").orElseThrow())).isBetween(26L * 86400, 27L * 86400);
        } finally {
            g.shutdown(Duration.ofSeconds(1));
        }
    }

    @Test
    void hybridEdgesSpendLeasedTokensLocallyAndNeverExceedTheLimit() throws Exception {
        io.gatehouse.clock.ManualClock clock = new io.gatehouse.clock.ManualClock();   // no refill while the test runs
        String yaml = """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: hybrid-route
                        cluster: api
                        filters:
                          - rate_limit: {key: route, mode: hybrid, sync_interval: 1s, limits: [{rate: 36000/h, burst: 40}]}
                redis: {address: "127.0.0.1:%d", timeout: 500ms}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(redisPort, backend.address());
        Gatehouse a = Gatehouse.start(ConfigLoader.parse(yaml, "hybrid.yaml"), clock);
        Gatehouse b = Gatehouse.start(ConfigLoader.parse(yaml, "hybrid.yaml"), clock);
        try {
            int allowed = 0;
            for (int i = 0; i < 40; i++) if (get(i % 2 == 0 ? a : b) == 200) allowed++;
            // leases of 10 (10/s × 1 s, a quarter of the burst): four round trips for forty decisions
            assertThat(allowed).isEqualTo(40);
            assertThat(calls(a) + calls(b)).isEqualTo(4.0);
            for (int i = 0; i < 20; i++) assertThat(get(i % 2 == 0 ? a : b)).as("the burst is spent").isEqualTo(429);
        } finally {
            a.shutdown(Duration.ofSeconds(1));
            b.shutdown(Duration.ofSeconds(1));
        }
    }

    private static double calls(Gatehouse g) {
        String scrape = g.telemetry().metrics().scrape(io.gatehouse.telemetry.Metrics.PROMETHEUS_CONTENT_TYPE);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("gatehouse_ratelimit_redis_calls_total\\{[^}]*\\} ([0-9.]+)").matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    @Test
    void twoEdgesHoldOneLimitExactly() throws Exception {
        Gatehouse a = edge("shared", "open");
        Gatehouse b = edge("shared", "open");
        try {
            int allowed = 0, limited = 0;
            for (int i = 0; i < 60; i++) {
                int status = get(i % 2 == 0 ? a : b);
                if (status == 200) allowed++;
                else if (status == 429) limited++;
            }
            assertThat(allowed).isEqualTo(20);
            assertThat(limited).isEqualTo(40);
        } finally {
            a.shutdown(Duration.ofSeconds(1));
            b.shutdown(Duration.ofSeconds(1));
        }
    }

    @Test
    void whenRedisStopsEachPolicyAppliesAndDecisionsResumeWhenItReturns() throws Exception {
        Gatehouse open = edge("open-route", "open");
        Gatehouse closed = edge("closed-route", "closed");
        try {
            for (int i = 0; i < 20; i++) assertThat(get(open)).isEqualTo(200);
            assertThat(get(open)).as("over the limit while Redis decides").isEqualTo(429);
            redis.stop();
            await().atMost(Duration.ofSeconds(10)).until(() -> get(open) == 200);   // fail open: requests pass
            assertThat(get(closed)).as("fail closed").isEqualTo(503);
            redis.start();
            // the limit's state is gone with the Redis process; decisions are Redis's again as soon as it answers
            await().atMost(Duration.ofSeconds(15)).until(() -> get(closed) == 200);
            for (int i = 0; i < 19; i++) get(closed);
            assertThat(List.of(get(closed), get(closed))).containsOnly(429);
        } finally {
            open.shutdown(Duration.ofSeconds(1));
            closed.shutdown(Duration.ofSeconds(1));
            if (!redis.isActive()) redis.start();
        }
    }
}
