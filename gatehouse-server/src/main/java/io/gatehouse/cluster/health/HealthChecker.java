package io.gatehouse.cluster.health;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.cluster.UpstreamClient;
import io.gatehouse.config.ClusterConfig.HealthCheckConfig;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Active health checking for one cluster (Envoy's {@code HealthChecker}): every endpoint gets its own probe session,
 * pinned to one event loop of the given group, that probes it every {@code interval × (1 ± jitter·random)} and
 * feeds the results through {@link HealthState}'s thresholds into {@link Endpoint#activeHealthy(boolean)}.
 *
 * <p>Probes go through the cluster's {@link UpstreamClient}, so they are made like its traffic (same bootstrap, TLS,
 * codecs and connect timeout, HTTP/2 for an h2/h2c cluster) without counting as traffic: {@code http} sends
 * {@code GET path} on a connection of its own (Host = {@code health_check.host} or the endpoint's address,
 * {@code User-Agent: gatehouse-health/1}, {@code Connection: close}) and succeeds iff the response status is
 * expected; {@code tcp} succeeds iff the connection opens (and its TLS handshake passes). A probe that has no answer
 * within {@code timeout} fails. Each probe runs on its session's event loop from start to end and never blocks it.
 *
 * <p>Starting state: endpoints start healthy and the first check is decisive (see {@link HealthState}).
 *
 * <p>{@code onChange} runs on an event loop whenever an endpoint's active health flips (the cluster rebuilds its
 * load balancer then); it must be quick, must not block, and may run on several event loops at once.
 */
public final class HealthChecker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);
    static final String USER_AGENT = "gatehouse-health/1";
    /** The first probe of each endpoint lands at a random point of this window, so a fleet is not probed in lock-step. */
    private static final long MAX_INITIAL_DELAY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String clusterName;
    private final HealthCheckConfig config;
    private final Ticker ticker;
    private final Runnable onChange;
    private final HealthEvents events;
    private final long intervalNanos;
    private final long timeoutNanos;
    private final String timeoutText;
    private final Map<Endpoint, ProbeSession> sessions = new LinkedHashMap<>();   // not modified after construction
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile boolean closed;
    private final UpstreamClient client;
    private final boolean tls;                         // probes speak TLS like the cluster's traffic

    /**
     * @param client   the cluster's upstream client: probes go through it, on connections made like the traffic's
     *                 (same bootstrap, TLS, codecs and connect timeout; HTTP/2 for an h2/h2c cluster)
     * @param ticker   clock for status timestamps and {@link Endpoint#markAvailableSince(long)}
     * @param onChange called when any endpoint's active health changes
     * @param previous the last status of endpoints carried over from a checker this one replaces (config reload):
     *                 their verdict and runs continue instead of starting over
     * @param events   told of every transition, besides the log
     */
    public HealthChecker(String clusterName, HealthCheckConfig config, List<Endpoint> endpoints, EventLoopGroup group,
                         UpstreamClient client, Ticker ticker, Runnable onChange, Map<Endpoint, HealthStatus> previous,
                         HealthEvents events) {
        this.client = client;
        this.tls = client.cluster().tls() != null;
        this.clusterName = clusterName;
        this.config = config;
        this.ticker = ticker;
        this.onChange = onChange;
        this.events = events;
        this.intervalNanos = config.interval().toNanos();
        this.timeoutNanos = config.timeout().toNanos();
        this.timeoutText = "timeout after " + humanDuration(config.timeout());
        for (Endpoint endpoint : endpoints) {
            EventLoop loop = group.next();
            HealthStatus resumed = previous.get(endpoint);
            if (resumed == null && !endpoint.activeHealthy()) {
                // carried over from a cluster that had no checker of this kind: keep the verdict it holds
                resumed = new HealthStatus(false, HealthStatus.Result.NONE, null, 0, 0, 0, 0);
            }
            sessions.put(endpoint, new ProbeSession(endpoint, loop, resumed));
        }
    }

    /** Schedules the first probe of every endpoint at a small random offset. Idempotent. */
    public void start() {
        if (closed || !started.compareAndSet(false, true)) return;
        long window = Math.min(intervalNanos, MAX_INITIAL_DELAY_NANOS);
        for (ProbeSession session : sessions.values()) {
            long delay = (long) (ThreadLocalRandom.current().nextDouble() * window);
            session.loop.execute(() -> session.schedule(delay));
        }
    }

    /** Stops probing: cancels the timers and closes the probe connections in flight. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (ProbeSession session : sessions.values()) {
            if (session.loop.inEventLoop()) {
                session.stop();
            } else {
                try {
                    session.loop.execute(session::stop);
                } catch (RejectedExecutionException e) {
                    // The loop is shutting down and closes its channels and timers itself.
                }
            }
        }
    }

    /** Latest check status of {@code endpoint}, or null if this checker does not probe it. */
    public HealthStatus status(Endpoint endpoint) {
        ProbeSession session = sessions.get(endpoint);
        return session == null ? null : session.status;
    }

    /** Latest check status of every endpoint, in the cluster's order. */
    public Map<Endpoint, HealthStatus> statuses() {
        Map<Endpoint, HealthStatus> out = new LinkedHashMap<>();
        sessions.forEach((endpoint, session) -> out.put(endpoint, session.status));
        return out;
    }

    /** {@code interval × (1 + jitter × (2·random − 1))}: uniformly within ±jitter of the interval. */
    static long jittered(long intervalNanos, double jitter, double random) {
        return Math.max(1, (long) (intervalNanos * (1 + jitter * (2 * random - 1))));
    }

    /** A short reason for a failed probe, for logs and the admin API. */
    static String describe(Throwable cause) {
        String message = cause.getMessage() == null ? "" : cause.getMessage();
        if (cause instanceof ConnectTimeoutException) return "connect timeout";
        if (cause instanceof ConnectException) {
            return message.toLowerCase(Locale.ROOT).contains("refused") ? "connect refused" : "connect failed: " + message;
        }
        if (cause instanceof UnresolvedAddressException) return "unresolved address";
        if (cause instanceof ClosedChannelException) return "connection closed";
        if (cause instanceof IOException && message.toLowerCase(Locale.ROOT).contains("reset")) return "connection reset";
        return cause.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
    }

    /** The detail of a probe the upstream client failed, in the words {@link #describe(Throwable)} uses. */
    static String describe(String reason) {
        return switch (reason) {
            case "connect_refused" -> "connect refused";
            case "connect_timeout" -> "connect timeout";
            case "connect_failed" -> "connect failed";
            case "endpoint_reset", "endpoint_closed_mid_body" -> "connection closed before response";
            case "invalid_response", "invalid_response_body" -> "malformed response";
            case "response_timeout", "idle_timeout" -> "no response within the cluster's timeouts";
            default -> reason;   // tls_… reasons say it already
        };
    }

    static String humanDuration(Duration d) {
        long millis = d.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }

    /** One probe in flight. */
    private static final class Attempt {
        Runnable cancel;
        ScheduledFuture<?> timeout;
        boolean done;
    }

    /**
     * The probing of one endpoint (Envoy's {@code ActiveHealthCheckSession}). Everything but {@link #status} is
     * confined to {@link #loop}.
     */
    private final class ProbeSession {
        final Endpoint endpoint;
        final EventLoop loop;
        final HealthState state;
        volatile HealthStatus status;

        ScheduledFuture<?> next;
        Attempt attempt;
        boolean stopped;
        String lastFailureReason;
        long lastTransitionNanos;

        ProbeSession(Endpoint endpoint, EventLoop loop, HealthStatus resumed) {
            this.endpoint = endpoint;
            this.loop = loop;
            if (resumed == null) {
                state = new HealthState(config.healthyThreshold(), config.unhealthyThreshold());
                status = HealthStatus.INITIAL;
            } else {
                state = new HealthState(config.healthyThreshold(), config.unhealthyThreshold(), resumed);
                status = resumed;
                lastFailureReason = resumed.lastFailureReason();
                lastTransitionNanos = resumed.lastTransitionNanos();
            }
        }

        void schedule(long delayNanos) {
            if (stopped || closed) return;
            try {
                next = loop.schedule(this::probe, delayNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                stopped = true;   // the event loop is shutting down: probing ends with it
            }
        }

        void probe() {
            next = null;
            if (stopped || closed) return;
            Attempt a = new Attempt();
            attempt = a;
            a.timeout = loop.schedule(() -> finish(a, ProbeResult.failure(timeoutText)), timeoutNanos, TimeUnit.NANOSECONDS);
            try {
                if (config.type() == io.gatehouse.config.HealthCheckType.HTTP) {
                    a.cancel = client.probe(endpoint, loop, request(), (status, failure) -> finish(a, failure != null
                            ? ProbeResult.failure(describe(failure))
                            : config.expects(status) ? ProbeResult.success("status " + status) : ProbeResult.failure("status " + status)));
                } else {
                    // a tcp check with TLS passes once the handshake does (certificate and name verified)
                    a.cancel = client.connect(endpoint, loop, (status, failure) -> finish(a, failure != null
                            ? ProbeResult.failure(describe(failure))
                            : ProbeResult.success(tls ? "tls handshake" : "connected")));
                }
            } catch (RuntimeException e) {   // e.g. the channel could not be created: a failed check, not a dead session
                finish(a, ProbeResult.failure(describe(e)));
            }
        }

        private FullHttpRequest request() {
            FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, config.path());
            request.headers()
                    .set(HttpHeaderNames.HOST, config.host() != null ? config.host() : endpoint.authority())
                    .set(HttpHeaderNames.USER_AGENT, USER_AGENT)
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                    .set(HttpHeaderNames.CONTENT_LENGTH, 0);
            return request;
        }

        /** Ends an attempt exactly once, whichever of response, failure and timeout comes first. */
        void finish(Attempt a, ProbeResult result) {
            if (a.done) return;
            a.done = true;
            a.timeout.cancel(false);
            if (a.cancel != null) a.cancel.run();
            if (attempt == a) attempt = null;
            if (stopped || closed) return;
            record(result);
            schedule(jittered(intervalNanos, config.jitter(), ThreadLocalRandom.current().nextDouble()));
        }

        private void record(ProbeResult result) {
            long now = ticker.nanoTime();
            HealthTransition transition = result.success() ? state.recordSuccess() : state.recordFailure();
            if (!result.success()) lastFailureReason = result.detail();
            if (transition == HealthTransition.CHANGED) {
                lastTransitionNanos = now;
                if (state.healthy()) {
                    endpoint.markAvailableSince(now);   // before the flag, so slow start ramps from this moment
                    endpoint.activeHealthy(true);
                } else {
                    endpoint.activeHealthy(false);
                }
            }
            status = new HealthStatus(state.healthy(),
                    result.success() ? HealthStatus.Result.SUCCESS : HealthStatus.Result.FAILURE, lastFailureReason,
                    state.consecutiveSuccesses(), state.consecutiveFailures(), now, lastTransitionNanos);
            if (transition == HealthTransition.CHANGED) {
                logTransition(result);
                try {
                    onChange.run();
                } catch (RuntimeException e) {
                    log.error("health: cluster={} change listener failed", clusterName, e);
                }
            } else if (transition == HealthTransition.UNCHANGED && endpoint.activeHealthy() != state.healthy()) {
                // During a reload the checker being replaced may still flip the shared endpoint after this one took
                // its status; the verdict of the live checker wins, so an endpoint cannot stay stuck either way.
                endpoint.activeHealthy(state.healthy());
                try {
                    onChange.run();
                } catch (RuntimeException e) {
                    log.error("health: cluster={} change listener failed", clusterName, e);
                }
            } else if (transition == HealthTransition.CHANGE_PENDING && log.isDebugEnabled()) {
                log.debug("health: cluster={} endpoint={} still {} ({} consecutive {}; last: {})", clusterName,
                        endpoint.address(), state.healthy() ? "healthy" : "unhealthy",
                        result.success() ? state.consecutiveSuccesses() : state.consecutiveFailures(),
                        result.success() ? "successes" : "failures", result.detail());
            }
        }

        private void logTransition(ProbeResult result) {
            String message;
            if (state.healthy()) {
                message = "unhealthy -> healthy (" + state.consecutiveSuccesses() + " consecutive "
                        + plural(state.consecutiveSuccesses(), "success", "successes") + ")";
                log.info("health: cluster={} endpoint={} {}", clusterName, endpoint.address(), message);
            } else {
                message = state.consecutiveFailures() < config.unhealthyThreshold()
                        ? "healthy -> unhealthy (first check failed; last: " + result.detail() + ")"
                        : "healthy -> unhealthy (" + state.consecutiveFailures() + " consecutive "
                                + plural(state.consecutiveFailures(), "failure", "failures") + "; last: " + result.detail() + ")";
                log.warn("health: cluster={} endpoint={} {}", clusterName, endpoint.address(), message);
            }
            try {
                events.healthChanged(clusterName, endpoint.address(), state.healthy(), message);
            } catch (RuntimeException e) {
                log.error("health: cluster={} event listener failed", clusterName, e);
            }
        }

        void stop() {
            stopped = true;
            if (next != null) {
                next.cancel(false);
                next = null;
            }
            Attempt a = attempt;
            if (a != null) {
                a.done = true;
                a.timeout.cancel(false);
                if (a.cancel != null) a.cancel.run();
                attempt = null;
            }
        }
    }

    private static String plural(int n, String one, String many) {
        return n == 1 ? one : many;
    }
}
