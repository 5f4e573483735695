package io.gatehouse.ratelimit;

import io.gatehouse.Gatehouse;
import io.gatehouse.Protocol;
import io.gatehouse.clock.ManualClock;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import redis.embedded.RedisServer;

import java.net.ServerSocket;
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
 * themselves when Redis returns. On HTTP/1.1 and on HTTP/2 (TLS, ALPN h2): one Redis for the class, flushed before
 * each test, edges started by each test.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Protocol.class)
class GlobalRateLimitTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    static RedisServer redis;
    static int redisPort;
    @Parameter
    Protocol protocol;
    private HttpClient client;

    /** This run's client, and an empty Redis: the two runs use the same route names. */
    @org.junit.jupiter.api.BeforeEach
    void clientAndEmptyRedis() {
        client = protocol.client();
        io.lettuce.core.RedisClient direct = io.lettuce.core.RedisClient.create("redis://127.0.0.1:" + redisPort);
        try (var conn = direct.connect()) {
            conn.sync().flushall();
        } finally {
            direct.shutdown();
        }
    }

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

    // Redis's timeout is generous (5 s): a round trip slowed by a loaded machine must not turn into a Redis failure
    // (and its policy), which is not what these tests are about; an outage they cause is a stopped Redis, refused at once
    private Gatehouse edge(String route, String policy) throws Exception {
        return Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: %s
                        cluster: api
                        filters:
                          - rate_limit: {key: route, mode: global, on_redis_failure: %s, limits: [{rate: 20/h}]}
                redis: {address: "127.0.0.1:%d", timeout: 5s}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), route, policy, redisPort, backend.address()), "global.yaml"));
    }

    private int get(Gatehouse g) throws Exception {
        return send(g).statusCode();
    }

    /** GET /x, checked to have come over this run's protocol. */
    private HttpResponse<String> send(Gatehouse g) throws Exception {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(protocol.uri(g.listenerAddress("edge").getPort(), "/x"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.version()).isEqualTo(protocol.version());
        return response;
    }

    @Test
    void dailyAndMonthlyQuotasResetByTheWallClockInTheirTimeZone() throws Exception {
        // Redis's timeout is generous here: a first connection slowed by a loaded machine would let the quota fail
        // open (its default policy), which is not what this test is about
        // 23:59 on 31 January in Paris (UTC+1)
        io.gatehouse.clock.ManualClock clock = new io.gatehouse.clock.ManualClock(java.time.Instant.parse("2030-01-31T22:59:00Z"));
        Gatehouse g = quotaEdge(clock);
        try {
            assertThat(List.of(get(g), get(g))).containsOnly(200);
            // the counters live in Redis: a restarted edge carries on where the last one stopped
            g.shutdown(Duration.ofSeconds(1));
            g = quotaEdge(clock);
            HttpResponse<String> daily = send(g);
            assertThat(daily.statusCode()).isEqualTo(429);
            assertThat(daily.headers().firstValue("gatehouse-reason")).hasValue("quota_exceeded");
            assertThat(daily.headers().firstValue("retry-after")).hasValue("60");
            assertThat(daily.body()).contains("daily");
            clock.advance(Duration.ofMinutes(2));   // 1 February in Paris: a new day and a new month
            assertThat(List.of(get(g), get(g))).containsOnly(200);
            assertThat(get(g)).isEqualTo(429);
            clock.advance(Duration.ofDays(1));      // 2 February: a new day, the month has one request left
            assertThat(get(g)).isEqualTo(200);
            HttpResponse<String> monthly = send(g);
            assertThat(monthly.statusCode()).isEqualTo(429);
            assertThat(monthly.body()).contains("monthly");
            assertThat(Long.parseLong(monthly.headers().firstValue("retry-after").orElseThrow())).isBetween(26L * 86400, 27L * 86400);
        } finally {
            g.shutdown(Duration.ofSeconds(1));
        }
    }

    private Gatehouse quotaEdge(io.gatehouse.clock.ManualClock clock) throws Exception {
        return Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: quota-route
                        cluster: api
                        filters:
                          - quota: {key: client_ip, per_day: 2, per_month: 3, time_zone: Europe/Paris}
                redis: {address: "127.0.0.1:%d", timeout: 5s}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), redisPort, backend.address()), "quota.yaml"), clock);
    }

    @Test
    void hybridEdgesSpendLeasedTokensLocallyAndNeverExceedTheLimit() throws Exception {
        io.gatehouse.clock.ManualClock clock = new io.gatehouse.clock.ManualClock();   // no refill while the test runs
        String yaml = """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: hybrid-route
                        cluster: api
                        filters:
                          - rate_limit: {key: route, mode: hybrid, sync_interval: 1s, limits: [{rate: 36000/h, burst: 40}]}
                redis: {address: "127.0.0.1:%d", timeout: 5s}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), redisPort, backend.address());
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

    /**
     * Many connections at once: their decisions go to Redis in batches (one EVALSHA for the requests an event loop
     * gathered while the previous batch was out), far fewer commands than requests, and each request still gets its
     * own exact decision: a limit of 50 admits exactly 50 of 400.
     */
    @Test
    void concurrentRequestsShareRoundTripsAndTheLimitStaysExact() throws Exception {
        ManualClock clock = new ManualClock();   // no refill while the test runs
        Gatehouse g = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: batched
                        cluster: api
                        filters:
                          - rate_limit: {key: route, mode: global, limits: [{rate: 50/h}]}
                redis: {address: "127.0.0.1:%d", timeout: 2s}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), redisPort, backend.address()), "batched.yaml"), clock);
        io.lettuce.core.RedisClient direct = io.lettuce.core.RedisClient.create("redis://127.0.0.1:" + redisPort);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(40);
        try (var conn = direct.connect()) {
            int n = 400;
            assertThat(get(g)).as("warm: a connection to Redis, the script loaded").isEqualTo(200);
            conn.sync().configResetstat();
            java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<Integer>> results = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return get(g);
                }));
            }
            start.countDown();
            int allowed = 0, limited = 0;
            for (var f : results) {
                int status = f.get(30, java.util.concurrent.TimeUnit.SECONDS);
                if (status == 200) allowed++;
                else if (status == 429) limited++;
            }
            assertThat(allowed).as("the warm-up took one of 50").isEqualTo(49);
            assertThat(limited).isEqualTo(n - 49);
            long commands = commandCalls(conn.sync().info("commandstats"), "evalsha") + commandCalls(conn.sync().info("commandstats"), "eval");
            System.out.printf("batched global limit: %d requests, %d Redis script calls, %.0f round trips counted by the edge%n",
                    n, commands, calls(g) - 1);
            assertThat(commands).as("script calls for %d requests", n).isPositive().isLessThanOrEqualTo(n / 4);
            assertThat(calls(g) - 1).as("round trips the edge counted").isEqualTo((double) commands);
        } finally {
            pool.shutdownNow();
            direct.shutdown();
            g.shutdown(Duration.ofSeconds(1));
        }
    }

    /** {@code cmdstat_NAME:calls=N,...} from INFO commandstats; 0 when the command never ran. */
    private static long commandCalls(String info, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("cmdstat_" + name + ":calls=([0-9]+)").matcher(info);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
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
