package io.gatehouse.telemetry;

import io.gatehouse.config.AccessLogConfig;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.TracingConfig;
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
 * anyway), the access log and tracing (each null when off). Created at start; a reload keeps it and swaps the access
 * log and tracing when their sections changed ({@link #prepare}).
 */
public final class Telemetry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Telemetry.class);

    private final Metrics metrics;
    private volatile io.gatehouse.clock.Clock clock = io.gatehouse.clock.Clock.system();   // dates access-log lines
    private volatile io.gatehouse.metering.Metering metering;   // null: off
    // volatile: swapped by a reload while the event loops read them
    private volatile AccessLog accessLog;   // null: off
    private volatile Tracing tracing;       // null: off
    private AccessLogConfig accessLogConfig; // what accessLog was opened from (null: unknown or off)
    private TracingConfig tracingConfig;
    // counts of access logs a reload retired, so the counters never go back
    private final java.util.concurrent.atomic.AtomicLong retiredDropped = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong retiredWritten = new java.util.concurrent.atomic.AtomicLong();

    public Telemetry(AccessLog accessLog, Tracing tracing) {
        this.metrics = new Metrics();
        this.accessLog = accessLog;
        this.tracing = tracing;
        metrics.accessLog(this);
    }

    /** As configured: access log and tracing only when their sections are present. */
    public static Telemetry create(GatehouseConfig config) {
        Telemetry t = new Telemetry(openAccessLog(config.accessLog()), openTracing(config.tracing()));
        t.accessLogConfig = config.accessLog();
        t.tracingConfig = config.tracing();
        return t;
    }

    private static AccessLog openAccessLog(AccessLogConfig config) {
        if (config == null) return null;
        AccessLog accessLog;
        try {
            accessLog = AccessLog.open(config);
        } catch (IOException e) {
            throw new UncheckedIOException("access_log: cannot open " + config.path() + ": " + e.getMessage(), e);
        }
        log.info("access log: {} to {}", config.format(), config.path());
        return accessLog;
    }

    private static Tracing openTracing(TracingConfig config) {
        if (config == null) return null;
        log.info("tracing: OTLP to {}, sample ratio {}", config.tracesUrl(), config.sampleRatio());
        return Tracing.otlp(config);
    }

    /**
     * Prepares the access log and tracing of a configuration being reloaded: opens what changed (an access log file
     * that cannot be opened refuses the reload by throwing) and returns the change, to {@link Change#commit} once
     * the rest of the reload succeeded or {@link Change#abort} if it did not. Unchanged sections are kept as they are.
     */
    public synchronized Change prepare(GatehouseConfig next) {
        boolean logChanged = !java.util.Objects.equals(next.accessLog(), accessLogConfig);
        boolean tracingChanged = !java.util.Objects.equals(next.tracing(), tracingConfig);
        AccessLog newLog = logChanged ? openAccessLog(next.accessLog()) : accessLog;
        Tracing newTracing;
        try {
            newTracing = tracingChanged ? openTracing(next.tracing()) : tracing;
        } catch (RuntimeException e) {
            if (logChanged && newLog != null) newLog.close();
            throw e;
        }
        return new Change(next, logChanged, newLog, tracingChanged, newTracing);
    }

    /** Access log and tracing of a reload in progress; see {@link #prepare}. */
    public final class Change {
        private final GatehouseConfig next;
        private final boolean logChanged;
        private final AccessLog newLog;
        private final boolean tracingChanged;
        private final Tracing newTracing;

        private Change(GatehouseConfig next, boolean logChanged, AccessLog newLog, boolean tracingChanged, Tracing newTracing) {
            this.next = next;
            this.logChanged = logChanged;
            this.newLog = newLog;
            this.tracingChanged = tracingChanged;
            this.newTracing = newTracing;
        }

        /** The tracing the new routes should use (null: off). */
        public Tracing tracing() { return newTracing; }

        /** Swaps in the new access log and tracing and closes the old ones (their queued lines are written first). */
        public void commit() {
            synchronized (Telemetry.this) {
                AccessLog oldLog = accessLog;
                Tracing oldTracing = tracing;
                accessLog = newLog;
                tracing = newTracing;
                accessLogConfig = next.accessLog();
                tracingConfig = next.tracing();
                if (logChanged && oldLog != null) {
                    oldLog.close();
                    retiredDropped.addAndGet(oldLog.dropped());
                    retiredWritten.addAndGet(oldLog.written());
                }
                if (tracingChanged && oldTracing != null) oldTracing.close();
                if (logChanged) log.info("access log: {}", next.accessLog() == null ? "off" : next.accessLog().format() + " to " + next.accessLog().path());
                if (tracingChanged) log.info("tracing: {}", next.tracing() == null ? "off" : "OTLP to " + next.tracing().tracesUrl());
            }
        }

        /** The reload failed: closes what {@link #prepare} opened, keeps what runs. */
        public void abort() {
            if (logChanged && newLog != null) newLog.close();
            if (tracingChanged && newTracing != null) newTracing.close();
        }
    }

    /** Access log lines dropped so far, over every access log this process had. */
    public long accessLogDropped() {
        AccessLog l = accessLog;
        return retiredDropped.get() + (l == null ? 0 : l.dropped());
    }

    /** Access log lines written so far, over every access log this process had. */
    public long accessLogWritten() {
        AccessLog l = accessLog;
        return retiredWritten.get() + (l == null ? 0 : l.written());
    }

    public Metrics metrics() { return metrics; }

    /** The clock that dates what is reported (the server's own, set when it starts). */
    public void clock(io.gatehouse.clock.Clock clock) { this.clock = clock; }

    /**
     * Metering as {@code config} says: started, kept (its consumers updated), restarted with new settings (the old
     * one writes every open window first, so a reload loses nothing) or stopped.
     */
    public synchronized void metering(GatehouseConfig config) {
        io.gatehouse.metering.Metering old = metering;
        if (old != null && java.util.Objects.equals(old.config(), config.metering())) {
            old.consumers(config);
            return;
        }
        metering = config.metering() == null ? null
                : new io.gatehouse.metering.Metering(config.metering(), config, clock, metrics.registry());
        if (old != null) old.close();
        if (config.metering() != null) log.info("metering: {} per {}", config.metering().path(), config.metering().interval());
    }

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
     * One exchange ended (answered, aborted or abandoned by the client): counts it under {@code m} (its route's meters,
     * or the listener's for what no route took), ends its span and
     * writes its access log line. The listener's completion hook; on the event loop: array reads and a queue offer.
     */
    public void exchangeDone(HttpExchange ex, RouteMeters m) {
        int status = ex.status();
        long total = ex.endNanos() - ex.startNanos();
        m.record(status, total);
        io.gatehouse.metering.Metering mt = metering;
        if (mt != null) mt.record(ex);
        if (ex.span() instanceof io.opentelemetry.api.trace.Span span) Tracing.end(span, status, ex.failureReason());
        AccessLog al = accessLog;
        if (al != null) {
            var h = ex.request().headers();
            al.offer(new AccessLog.Entry(clock.currentTimeMillis(), ex.clientIp().toString(),
                    ex.request().method().name(), ex.path(), ex.query(), ex.clientVersion().text(), status,
                    ex.requestBodyBytes(), ex.responseBytes(), ex.endpoint(), ex.endpointNanos(), total, ex.retries(),
                    ex.requestId(), h.get(HttpHeaderNames.USER_AGENT), h.get(HttpHeaderNames.REFERER),
                    m.listener(), m.route(), m.cluster(), ex.failureReason()));
        }
    }

    /** A request refused before it could be parsed or routed (answered and the connection closed). */
    public void rejected(RouteMeters unrouted, String clientIp, int status, String reason, long responseBytes) {
        unrouted.record(status, 0);
        AccessLog al = accessLog;
        if (al != null) {
            al.offer(new AccessLog.Entry(clock.currentTimeMillis(), clientIp, null, null, null, null, status, 0,
                    responseBytes, null, -1, 0, 0, null, null, null, unrouted.listener(), null, null, reason));
        }
    }

    @Override
    public void close() {
        if (metering != null) metering.close();
        if (accessLog != null) accessLog.close();
        if (tracing != null) tracing.close();
        metrics.close();
    }
}
