package io.gatehouse.cluster.health;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.gatehouse.LogCapture;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.transport.Transport;
import io.gatehouse.config.ClusterConfig.HealthCheckConfig;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class HealthCheckerTest {
    private static EventLoopGroup group;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    /** Server request counts seen by the change listener, one per transition. */
    private final List<Integer> changesAt = new CopyOnWriteArrayList<>();

    /** The cluster whose upstream client the probes go through (its own endpoint list does not matter here). */
    private static Cluster carrier;

    @BeforeAll
    static void startLoops() {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        carrier = new Cluster(new ClusterConfig("api", List.of(ClusterConfig.EndpointConfig.of("127.0.0.1:1")), null,
                null, null, null, null, null, null, null), Ticker.systemTicker(), Transport.select("nio"), group);
    }

    @AfterAll
    static void stopLoops() throws InterruptedException {
        carrier.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private static HealthChecker checker(HealthCheckConfig config, List<Endpoint> endpoints, Runnable onChange) {
        return new HealthChecker("api", config, endpoints, group, carrier.client(), Ticker.systemTicker(), onChange,
                Map.of(), HealthEvents.NONE);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose.reversed()) c.close();
    }

    private ScriptedHealthServer server() throws IOException {
        ScriptedHealthServer server = new ScriptedHealthServer();
        toClose.add(server);
        return server;
    }

    private static HealthCheckConfig config(String type, String path, String host, int timeoutMillis,
                                            int healthy, int unhealthy) {
        return new HealthCheckConfig(type, path, host, Duration.ofMillis(50), 0.1, Duration.ofMillis(timeoutMillis),
                healthy, unhealthy, null);
    }

    private static Endpoint endpoint(InetSocketAddress address) {
        return new Endpoint("127.0.0.1:" + address.getPort(), address, 1, false, Ticker.systemTicker());
    }

    private HealthChecker start(HealthCheckConfig config, Endpoint endpoint, ScriptedHealthServer server) {
        HealthChecker checker = checker(config, List.of(endpoint), () -> changesAt.add(server == null ? -1 : server.requestCount()));
        toClose.add(checker);
        checker.start();
        return checker;
    }

    private static InetSocketAddress refusingAddress() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort());
        }
    }

    @Test
    void probeSendsGetWithPathHostUserAgentAndConnectionClose() throws IOException {
        ScriptedHealthServer server = server();
        Endpoint e = endpoint(server.address());
        start(config("http", "/healthz", "api.internal", 1000, 2, 3), e, server);

        await().atMost(Duration.ofSeconds(5)).until(() -> server.requestCount() >= 1);
        List<String> head = server.request(0);
        assertThat(head.get(0)).isEqualTo("GET /healthz HTTP/1.1");
        assertThat(head).anySatisfy(h -> assertThat(h).isEqualToIgnoringCase("host: api.internal"));
        assertThat(head).anySatisfy(h -> assertThat(h).isEqualToIgnoringCase("user-agent: gatehouse-health/1"));
        assertThat(head).anySatisfy(h -> assertThat(h).isEqualToIgnoringCase("connection: close"));
    }

    @Test
    void hostHeaderDefaultsToTheEndpointAddress() throws IOException {
        ScriptedHealthServer server = server();
        Endpoint e = endpoint(server.address());
        start(config("http", null, null, 1000, 2, 3), e, server);

        await().atMost(Duration.ofSeconds(5)).until(() -> server.requestCount() >= 1);
        assertThat(server.request(0).get(0)).isEqualTo("GET /health HTTP/1.1");
        assertThat(server.request(0)).anySatisfy(h -> assertThat(h).isEqualToIgnoringCase("host: " + e.address()));
    }

    @Test
    void twoFailuresBelowTheThresholdLeaveTheEndpointHealthy() throws IOException {
        ScriptedHealthServer server = server().script(200, 503, 503);
        Endpoint e = endpoint(server.address());
        HealthChecker checker = start(config("http", "/", null, 1000, 2, 3), e, server);

        await().atMost(Duration.ofSeconds(5)).until(() -> {
            HealthStatus s = checker.status(e);
            return server.requestCount() >= 5 && s.lastFailureReason() != null && s.consecutiveSuccesses() >= 2;
        });
        assertThat(e.activeHealthy()).isTrue();
        assertThat(changesAt).isEmpty();
        HealthStatus status = checker.status(e);
        assertThat(status.healthy()).isTrue();
        assertThat(status.lastFailureReason()).isEqualTo("status 503");
        assertThat(status.lastTransitionNanos()).isZero();
    }

    @Test
    void unhealthyAfterThresholdFailuresAndHealthyAgainAfterThresholdSuccesses() throws IOException {
        ScriptedHealthServer server = server().script(200, 503, 503, 503);
        Endpoint e = endpoint(server.address());
        long createdAt = e.availableSinceNanos();
        HealthChecker checker = start(config("http", "/", null, 1000, 2, 3), e, server);

        await().atMost(Duration.ofSeconds(5)).until(() -> changesAt.size() >= 2);
        // 1 success, then 3 failures: unhealthy at the 4th request; 2 successes: healthy at the 6th.
        assertThat(changesAt).startsWith(4, 6);
        assertThat(e.activeHealthy()).isTrue();
        HealthStatus status = checker.status(e);
        assertThat(status.lastFailureReason()).isEqualTo("status 503");
        assertThat(status.lastTransitionNanos()).isPositive();
        // Slow start ramps from the recovery, not from when the endpoint was created.
        assertThat(e.availableSinceNanos()).isGreaterThan(createdAt).isEqualTo(status.lastTransitionNanos());
    }

    @Test
    void unexpectedStatusFailsTheCheck() throws IOException {
        ScriptedHealthServer server = server().respondWith(204);
        Endpoint e = endpoint(server.address());
        HealthCheckConfig config = new HealthCheckConfig("http", "/", null, Duration.ofMillis(50), 0.1,
                Duration.ofSeconds(1), 2, 3, List.of("200"));
        HealthChecker checker = start(config, e, server);

        await().atMost(Duration.ofSeconds(5)).until(() -> !e.activeHealthy());
        assertThat(checker.status(e).lastFailureReason()).isEqualTo("status 204");
        assertThat(checker.status(e).lastResult()).isEqualTo(HealthStatus.Result.FAILURE);
    }

    @Test
    void refusedConnectionMarksUnhealthyAtTheFirstCheckAndLogsWhy() throws IOException {
        try (LogCapture logs = LogCapture.of(Level.INFO, HealthChecker.class.getName())) {
            Endpoint e = endpoint(refusingAddress());
            HealthChecker checker = start(config("http", "/", null, 1000, 2, 3), e, null);

            await().atMost(Duration.ofSeconds(5)).until(() -> !e.activeHealthy());
            assertThat(checker.status(e).lastFailureReason()).isEqualTo("connect refused");
            assertThat(changesAt).hasSize(1);
            await().atMost(Duration.ofSeconds(5)).until(() -> !logs.events().isEmpty());
            assertThat(logs.events()).extracting(ILoggingEvent::getFormattedMessage).contains(
                    "health: cluster=api endpoint=" + e.address() + " healthy -> unhealthy (first check failed; last: connect refused)");
        }
    }

    @Test
    void unansweredProbeTimesOut() throws IOException {
        ScriptedHealthServer server = server().hang(true);
        Endpoint e = endpoint(server.address());
        HealthChecker checker = start(config("http", "/", null, 100, 2, 3), e, server);

        await().atMost(Duration.ofSeconds(5)).until(() -> !e.activeHealthy());
        assertThat(checker.status(e).lastFailureReason()).isEqualTo("timeout after 100ms");
        // The timed-out probe's connection was closed, not leaked.
        await().atMost(Duration.ofSeconds(5)).until(() -> server.closedByPeer() >= 1);
    }

    @Test
    void tcpCheckSucceedsOnConnectAndFailsOnRefusal() throws IOException {
        ScriptedHealthServer server = server();
        Endpoint up = endpoint(server.address());
        Endpoint down = endpoint(refusingAddress());
        HealthCheckConfig config = config("tcp", null, null, 1000, 2, 3);
        HealthChecker checker = checker(config, List.of(up, down), () -> changesAt.add(0));
        toClose.add(checker);
        checker.start();

        await().atMost(Duration.ofSeconds(5)).until(() -> checker.status(up).consecutiveSuccesses() >= 2 && !down.activeHealthy());
        assertThat(up.activeHealthy()).isTrue();
        assertThat(checker.status(down).lastFailureReason()).isEqualTo("connect refused");
        assertThat(server.connections()).isGreaterThanOrEqualTo(2);
        assertThat(server.requestCount()).isZero();   // tcp checks send nothing
        assertThat(checker.statuses()).containsOnlyKeys(up, down);
    }

    @Test
    void closeStopsProbingAndClosesTheProbeInFlight() throws IOException {
        ScriptedHealthServer server = server().hang(true);
        Endpoint e = endpoint(server.address());
        HealthChecker checker = start(config("http", "/", null, 10_000, 2, 3), e, server);

        await().atMost(Duration.ofSeconds(5)).until(() -> server.requestCount() == 1);
        checker.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> server.closedByPeer() == 1);
        // The in-flight probe was abandoned, not recorded: no verdict, no new probe.
        assertThat(checker.status(e).lastResult()).isEqualTo(HealthStatus.Result.NONE);
        assertThat(e.activeHealthy()).isTrue();
        assertThat(server.connections()).isEqualTo(1);
    }
}
