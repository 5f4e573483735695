package io.gatehouse.cluster;

import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.ClusterConfig.ClusterTimeoutsConfig;
import io.gatehouse.config.ClusterConfig.EndpointConfig;
import io.gatehouse.config.RetryConfig;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import io.gatehouse.transport.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The cluster's upstream client used directly, as internal callers (JWKS fetches, the cache, aggregation) use it:
 * real sockets to real backends on port 0, through the cluster's load balancer, pools, retries, timeouts and
 * outlier detection.
 */
class UpstreamClientTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("live");

    private static final Transport TRANSPORT = Transport.select("nio");
    private static EventLoopGroup group;

    @BeforeAll
    static void startLoops() {
        group = TRANSPORT.newGroup(1, "client-test");
    }

    @AfterAll
    static void stopLoops() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static Cluster cluster(List<String> addresses, ClusterTimeoutsConfig timeouts) {
        ClusterConfig config = new ClusterConfig("c", addresses.stream().map(EndpointConfig::of).toList(), null, null,
                null, timeouts, null, null, null, null);
        return new Cluster(config, Ticker.systemTicker(), TRANSPORT, group);
    }

    /** A loopback port nothing listens on: connecting is refused. */
    private static String deadAddress() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    private static UpstreamClient.Failure failure(CompletableFuture<?> f) {
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UpstreamClient.Failure failure) return failure;
            throw new AssertionError("failed otherwise", e.getCause());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("the call succeeded");
    }

    @Test
    void picksAnEndpointAndRetriesAConnectFailureOnAnotherOneReportingIt() throws Exception {
        String dead = deadAddress();
        Cluster cluster = cluster(List.of(dead, backend.address()), null);
        try {
            for (int i = 0; i < 4; i++) {
                UpstreamClient.Response r = cluster.client().send(UpstreamClient.Request.get("/r" + i)).get(10, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.bodyText()).isEqualTo("live");
                assertThat(r.endpoint()).isEqualTo(backend.address());
            }
            // round robin sent some of them to the dead endpoint first: refused, reported, retried elsewhere
            assertThat(cluster.retryCount()).isPositive();
            Endpoint d = cluster.endpoint(dead);
            assertThat(d.inFlight()).isZero();
            var status = cluster.outlierDetector().status(d);
            assertThat(status.consecutiveGatewayFailures() + status.ejections()).isPositive();
            assertThat(cluster.traffic().requests()).isEqualTo(4);
            assertThat(backend.requests()).extracting(req -> req.uri()).containsExactly("/r0", "/r1", "/r2", "/r3");
            // the Host is the endpoint's address, as the proxy sends it without preserve_host
            assertThat(backend.requests().get(0).headers().get("host")).isEqualTo(backend.address());
        } finally {
            cluster.close();
        }
    }

    @Test
    void answersAtOnceWhenNoOtherEndpointIsLeft() throws Exception {
        Cluster cluster = cluster(List.of(deadAddress()), null);
        try {
            UpstreamClient.Failure f = failure(cluster.client().send(UpstreamClient.Request.get("/")));
            assertThat(f.status()).isEqualTo(503);
            assertThat(f.reason()).isEqualTo("connect_refused");
            assertThat(cluster.retryCount()).isZero();
        } finally {
            cluster.close();
        }
    }

    @Test
    void timesOutAnEndpointThatSendsNoHeadAndCountsItAgainstTheEndpoint() {
        backend.respond(req -> TestResponse.ok("late").delayHeaders(Duration.ofSeconds(5)));
        Cluster cluster = cluster(List.of(backend.address()), new ClusterTimeoutsConfig(null, Duration.ofMillis(200), null));
        try {
            UpstreamClient.Request request = UpstreamClient.Request.get("/slow");
            request = new UpstreamClient.Request(request.method(), request.uri(), Map.of(), null, 1024, null,
                    new RetryConfig(0, null, false, null, null));
            long start = System.nanoTime();
            UpstreamClient.Failure f = failure(cluster.client().send(request));
            assertThat(f.status()).isEqualTo(504);
            assertThat(f.reason()).isEqualTo("response_timeout");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
            assertThat(cluster.outlierDetector().status(cluster.endpoints().get(0)).consecutiveGatewayFailures()).isEqualTo(1);
        } finally {
            cluster.close();
        }
    }

    @Test
    void theWholeCallIsBoundedByTheRequestTimeout() {
        backend.respond(req -> TestResponse.ok("late").delayHeaders(Duration.ofSeconds(5)));
        Cluster cluster = cluster(List.of(backend.address()), null);
        try {
            UpstreamClient.Failure f = failure(cluster.client().send(
                    UpstreamClient.Request.get("/slow").withTimeout(Duration.ofMillis(200))));
            assertThat(f.status()).isEqualTo(504);
            assertThat(f.reason()).isEqualTo("route_timeout");
        } finally {
            cluster.close();
        }
    }

    @Test
    void boundsTheResponseBody() {
        backend.respond(req -> TestResponse.ok().generatedBody(100_000));
        Cluster cluster = cluster(List.of(backend.address()), null);
        try {
            UpstreamClient.Failure f = failure(cluster.client().send(
                    UpstreamClient.Request.get("/big").withMaxResponseBytes(10_000)));
            assertThat(f.reason()).isEqualTo("response_too_large");
        } finally {
            cluster.close();
        }
    }

    @Test
    void sendsARequestBodyAndReusesTheConnection() throws Exception {
        backend.echo();
        Cluster cluster = cluster(List.of(backend.address()), null);
        try {
            int before = backend.connectionsAccepted();
            byte[] body = "hello upstream".getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 2; i++) {
                UpstreamClient.Response r = cluster.client().send(new UpstreamClient.Request(HttpMethod.POST, "/echo",
                        Map.of("content-type", "text/plain"), body, 1024, null, null)).get(10, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.bodyText()).isEqualTo("hello upstream");
            }
            assertThat(backend.connectionsAccepted() - before).as("connections opened").isEqualTo(1);
        } finally {
            cluster.close();
        }
    }

    @Test
    void healthProbesGoThroughTheClientWithoutCountingAsTraffic() throws Exception {
        String dead = deadAddress();
        ClusterConfig.HealthCheckConfig check = new ClusterConfig.HealthCheckConfig("http", "/health", null,
                Duration.ofMillis(50), 0.1, Duration.ofSeconds(1), 1, 1, null);
        ClusterConfig config = new ClusterConfig("c", List.of(EndpointConfig.of(backend.address()), EndpointConfig.of(dead)),
                null, check, null, null, null, null, null, null);
        Cluster cluster = new Cluster(config, Ticker.systemTicker(), TRANSPORT, group);
        try {
            Endpoint live = cluster.endpoint(backend.address());
            Endpoint down = cluster.endpoint(dead);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.healthChecks() >= 3
                    && !down.activeHealthy());
            assertThat(cluster.healthChecker().status(live).lastResult()).isEqualTo(io.gatehouse.cluster.health.HealthStatus.Result.SUCCESS);
            assertThat(cluster.healthChecker().status(down).lastFailureReason()).isEqualTo("connect refused");
            // probes are not traffic: no request counted, no connection held, no outlier report, no in-flight
            assertThat(cluster.traffic().requests()).isZero();
            assertThat(cluster.inFlightRequests()).isZero();
            assertThat(cluster.outlierDetector().status(down).consecutiveGatewayFailures()).isZero();
            assertThat(cluster.openConnections()).isZero();
            assertThat(backend.requests()).isEmpty();
        } finally {
            cluster.close();
        }
    }

    @Test
    void aProbeReportsTheStatusAsSoonAsTheHeadIsIn() throws Exception {
        backend.respond(req -> TestResponse.status(503).generatedBody(1_000_000));
        Cluster cluster = cluster(List.of(backend.address()), null);
        try {
            io.netty.channel.EventLoop loop = group.next();
            CompletableFuture<String> outcome = new CompletableFuture<>();
            loop.execute(() -> cluster.client().probe(cluster.endpoints().get(0), loop,
                    new io.netty.handler.codec.http.DefaultFullHttpRequest(io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
                            HttpMethod.GET, "/probe"),
                    (status, failure) -> outcome.complete(status + " " + failure)));
            assertThat(outcome.get(10, TimeUnit.SECONDS)).isEqualTo("503 null");
            assertThat(backend.takeRequest(Duration.ofSeconds(5)).uri()).isEqualTo("/probe");
            assertThat(cluster.traffic().requests()).isZero();
            assertThat(cluster.outlierDetector().status(cluster.endpoints().get(0)).consecutive5xx()).isZero();
        } finally {
            cluster.close();
        }
    }

    /** A streaming receiver that reads only while {@link #reading} is set, as the proxy does for a slow client. */
    private static final class PullingReceiver implements UpstreamCall.Receiver, UpstreamCall.RequestBody {
        volatile boolean reading;
        volatile long received;
        volatile String failed;
        final CompletableFuture<Integer> ended = new CompletableFuture<>();
        volatile int status;

        @Override public void start(UpstreamCall call) { call.sendBody(io.netty.handler.codec.http.LastHttpContent.EMPTY_LAST_CONTENT); }
        @Override public boolean complete() { return true; }
        @Override public void requestMore() {}
        @Override public boolean held() { return true; }
        @Override public void onAttempt(Endpoint endpoint) {}
        @Override public void onInterim(io.netty.handler.codec.http.HttpObject message) { io.netty.util.ReferenceCountUtil.release(message); }

        @Override
        public boolean onHead(io.netty.handler.codec.http.HttpResponse head, Endpoint endpoint) {
            status = head.status().code();
            return true;
        }

        @Override
        public void onResponseBody(io.netty.handler.codec.http.HttpContent content) {
            received += content.content().readableBytes();
            content.release();
        }

        @Override public boolean onReadComplete() { return reading; }
        @Override public void onResponseEnd() { ended.complete(status); }
        @Override public void onTunnel(io.netty.channel.Channel channel) { channel.close(); }
        @Override public void onFailed(io.netty.handler.codec.http.HttpResponseStatus s, String reason) { failed = reason; }
        @Override public void onAttemptEnd(Endpoint endpoint, long nanos, int retries) {}
        @Override public int onFinish(String reason, Endpoint lastEndpoint, long attemptNanos) { return status; }
    }

    @Test
    void aStreamingCallReadsOnlyWhenTheReceiverPullsAndThePauseIsNotTheEndpointsFault() throws Exception {
        long size = 8 * 1024 * 1024;
        backend.respond(req -> TestResponse.ok().generatedBody(size));
        // an idle timeout far shorter than the pause below: the endpoint's silence is not timed while we hold off
        Cluster cluster = cluster(List.of(backend.address()), new ClusterTimeoutsConfig(null, null, Duration.ofMillis(200)));
        try {
            io.netty.channel.EventLoop loop = group.next();
            PullingReceiver receiver = new PullingReceiver();
            UpstreamCall[] call = new UpstreamCall[1];
            loop.execute(() -> {
                call[0] = cluster.client().call(loop, new io.netty.handler.codec.http.DefaultFullHttpRequest(
                                io.netty.handler.codec.http.HttpVersion.HTTP_1_1, HttpMethod.GET, "/big"),
                        receiver, receiver, RetryConfig.DEFAULT, null, false, false,
                        io.gatehouse.cluster.loadbalancer.HashKey.NO_KEY, cluster.ticker().nanoTime());
                assertThat(call[0].admit()).isTrue();
                call[0].start(-1);
            });
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> receiver.received > 0);
            // held off: what arrives is bounded by what was in flight, and nothing times out for 1 s (5 idle timeouts)
            // atMost leaves room for a stall; a failure, once recorded, stays
            org.awaitility.Awaitility.await().during(Duration.ofMillis(1000)).atMost(Duration.ofSeconds(10))
                    .until(() -> receiver.failed == null);
            long whilePaused = receiver.received;
            assertThat(whilePaused).isLessThan(size / 2);
            assertThat(receiver.failed).isNull();
            assertThat(call[0].readPaused()).isTrue();
            // the receiver pulls again: the rest streams in and the call ends whole
            receiver.reading = true;
            loop.execute(() -> call[0].resume());
            assertThat(receiver.ended.get(10, TimeUnit.SECONDS)).isEqualTo(200);
            assertThat(receiver.received).isEqualTo(size);
            assertThat(cluster.outlierDetector().status(cluster.endpoints().get(0)).consecutiveGatewayFailures()).isZero();
            assertThat(cluster.traffic().requests()).isEqualTo(1);
        } finally {
            cluster.close();
        }
    }
}
