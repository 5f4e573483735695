package io.gatehouse.telemetry;

import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.http.HttpExchange;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.gatehouse.http.LocalResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * What one Gatehouse process reports about itself: Prometheus metrics (always on: the counters behind them exist
 * anyway), the access log and tracing (each null when off). Created at start; a reload keeps it.
 */
public final class Telemetry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Telemetry.class);

    private final Metrics metrics;
    private final AccessLog accessLog;   // null: off
    private final Tracing tracing;       // null: off

    public Telemetry(AccessLog accessLog, Tracing tracing) {
        this.metrics = new Metrics();
        this.accessLog = accessLog;
        this.tracing = tracing;
        if (accessLog != null) metrics.accessLog(accessLog);
    }

    /** As configured: access log and tracing only when their sections are present. */
    public static Telemetry create(GatehouseConfig config) {
        AccessLog accessLog = null;
        if (config.accessLog() != null) {
            try {
                accessLog = AccessLog.open(config.accessLog());
            } catch (IOException e) {
                throw new UncheckedIOException("access_log: cannot open " + config.accessLog().path() + ": " + e.getMessage(), e);
            }
            log.info("access log: {} to {}", config.accessLog().format(), config.accessLog().path());
        }
        Tracing tracing = null;
        if (config.tracing() != null) {
            tracing = Tracing.otlp(config.tracing());
            log.info("tracing: OTLP to {}, sample ratio {}", config.tracing().tracesUrl(), config.tracing().sampleRatio());
        }
        return new Telemetry(accessLog, tracing);
    }

    public Metrics metrics() { return metrics; }

    /** Null when access logging is off. */
    public AccessLog accessLog() { return accessLog; }

    /** Null when tracing is off. */
    public Tracing tracing() { return tracing; }

    /**
     * {@code GET /metrics}: the Prometheus text format, or OpenMetrics when the scraper's Accept asks for it.
     * Call {@link Metrics#sync} first so removed clusters and routes are gone.
     */
    public FullHttpResponse scrape(HttpRequest request) {
        String accept = request.headers().get(HttpHeaderNames.ACCEPT, "");
        String type = accept.contains("application/openmetrics-text") ? Metrics.OPENMETRICS_CONTENT_TYPE : Metrics.PROMETHEUS_CONTENT_TYPE;
        return LocalResponse.text(HttpResponseStatus.OK, metrics.scrape(type), type);
    }

    /**
     * One exchange ended (answered, aborted or abandoned by the client): counts it under its route and writes its
     * access log line. On the event loop: array reads and a queue offer.
     */
    public void exchangeDone(HttpExchange ex, RouteMeters fallback, long responseBytes, long nowNanos) {
        RouteMeters m = ex.meters() != null ? ex.meters() : fallback;
        // 499 as nginx logs it: the client went away before an answer started
        int status = ex.responseStarted() ? ex.responseStatus() : 499;
        long total = nowNanos - ex.startNanos();
        m.record(status, total);
        AccessLog al = accessLog;
        if (al != null) {
            var h = ex.request().headers();
            al.offer(new AccessLog.Entry(System.currentTimeMillis(), ex.downstream().remoteIp().toString(),
                    ex.request().method().name(), ex.path(), ex.query(), ex.clientVersion().text(), status,
                    ex.requestBodyBytes(), responseBytes, ex.upstream(), ex.upstreamNanos(), total, ex.retries(),
                    ex.requestId(), h.get(HttpHeaderNames.USER_AGENT), h.get(HttpHeaderNames.REFERER),
                    m.listener(), m.route(), m.cluster(), ex.failureReason()));
        }
    }

    /** A request refused before it could be parsed or routed (answered and the connection closed). */
    public void rejected(RouteMeters unrouted, String clientIp, int status, String reason, long responseBytes) {
        unrouted.record(status, 0);
        AccessLog al = accessLog;
        if (al != null) {
            al.offer(new AccessLog.Entry(System.currentTimeMillis(), clientIp, null, null, null, null, status, 0,
                    responseBytes, null, -1, 0, 0, null, null, null, unrouted.listener(), null, null, reason));
        }
    }

    @Override
    public void close() {
        if (accessLog != null) accessLog.close();
        if (tracing != null) tracing.close();
        metrics.close();
    }
}
