package io.gatehouse.cluster;

import io.gatehouse.cluster.loadbalancer.HashKey;
import io.gatehouse.cluster.loadbalancer.PickContext;
import io.gatehouse.config.RetryConfig;
import io.gatehouse.config.RetryCondition;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

/**
 * One request through a cluster, the work of its {@link UpstreamClient}: picks an endpoint, leases a connection (or
 * an HTTP/2 stream) from the cluster's pool on the call's event loop, sends the request head and body, retries with
 * backoff within the retry budget, times the endpoint (connect, response head, silence while reading, the call's
 * total or gRPC deadline), reports every outcome to outlier detection and the traffic stats, and hands the response
 * to its {@link Receiver} as it streams: the head, then the body pieces.
 *
 * <p>Confined to its event loop. No allocation per body piece: pieces pass through as Netty gave them.
 *
 * <p>Backpressure, both ways (Netty's HexDumpProxy rule): the request body is asked for only while the connection
 * can take more ({@link RequestBody#requestMore}), and the response is read on only when the receiver says so at the
 * end of each read batch ({@link Receiver#onReadComplete}), or later through {@link #resume()}. While reading is held
 * off, the endpoint's silence is not timed: a slow reader is never the endpoint's fault.
 *
 * <p>Retries: connect failures go to another endpoint at once; 502/503/504, resets and per-try timeouts only where
 * the {@link RetryConfig} says so and for idempotent methods (unless {@code non_idempotent}); a request body is
 * replayed from a copy kept while it is at most {@link #REPLAY_LIMIT} bytes (or held whole by its source); every
 * retry needs room in the cluster's retry budget.
 */
public final class UpstreamCall implements UpstreamConnection.Owner, PickContext {
    private static final Logger log = LoggerFactory.getLogger(UpstreamCall.class);
    public static final int REPLAY_LIMIT = 64 * 1024;
    /** Refused HTTP/2 streams retried outside the retry budget, per request (an endpoint refusing forever is not retried forever). */
    static final int MAX_TRANSPARENT_RETRIES = 2;

    /** Where the request body comes from: a downstream exchange streaming it, or a body held whole. */
    public interface RequestBody {
        /** Starts delivering the body to {@link #sendBody} (once, on the first connection); may deliver at once. */
        void start(UpstreamCall call);

        /** Every piece of the body has been delivered. */
        boolean complete();

        /** The connection can take more: deliver the next pieces when they come. */
        void requestMore();

        /** The source keeps the whole body anyway: a retry replays it at no cost, whatever its size. */
        boolean held();
    }

    /** Who gets the response, on the call's event loop. */
    public interface Receiver {
        /** An attempt goes to {@code endpoint} (tracing). */
        void onAttempt(Endpoint endpoint);

        /** A 1xx head other than 101, then its (empty) end. */
        void onInterim(HttpObject message);

        /**
         * The final response head: no retry will replace it. Returns whether the response's framing lets the
         * connection serve another request (keep-alive, and a body delimited by length or chunks): the receiver
         * reads the fields it may then strip; {@link #reusable(HttpRequest, HttpResponse)} answers for a receiver
         * that does not read them itself.
         */
        boolean onHead(HttpResponse head, Endpoint endpoint);

        /** A piece of the response body; the last one is a {@link LastHttpContent}. Owned by the receiver. */
        void onResponseBody(HttpContent content);

        /** A read batch ended: true to read on now, false to hold off until {@link #resume()}. */
        boolean onReadComplete();

        /** The response arrived whole, and the call has finished. */
        void onResponseEnd();

        /** The endpoint answered 101: the connection is the receiver's from now on (a tunnel). */
        void onTunnel(Channel channel);

        /**
         * The call failed: before the head, {@code status} is the answer owed (502, 503, 504); after it, the
         * response is cut off with {@code reason}.
         */
        void onFailed(HttpResponseStatus status, String reason);

        /** An attempt ended (or its response is about to): where it went, for how long, and how many retries before it. */
        void onAttemptEnd(Endpoint endpoint, long nanos, int retries);

        /**
         * The call finished, once, whatever ended it ({@code reason} null for a whole response). Returns the status
         * to count for the cluster's traffic stats.
         */
        int onFinish(String reason, Endpoint lastEndpoint, long attemptNanos);
    }

    private final Cluster cluster;
    private final EventLoop loop;
    private final HttpRequest request;
    private final RequestBody body;
    private final Receiver receiver;
    private final RetryConfig retry;
    private final long perTryNanos;
    private final long idleNanos;
    private final boolean preserveHost;
    private final boolean idempotent;
    private final boolean upgrade;          // a 101 may answer: the receiver tunnels it
    private final long hash;                // hash key for ring_hash/maglev, HashKey.NO_KEY if none
    private final Endpoint pinned;          // the only endpoint to try, else null
    private final boolean probe;            // a health probe: not traffic (no request limits, stats or outlier reports)
    private final long startNanos;          // when the request began, for the cluster's latency stats

    private int attempt;                     // 0 for the first try
    private int transparentRetries;          // retries of streams the endpoint refused unprocessed (GOAWAY, REFUSED_STREAM)
    private Endpoint firstTried;             // endpoints already tried: the first, then any others (retries only)
    private ArrayList<Endpoint> moreTried;
    private Endpoint endpoint;               // endpoint of the current attempt (in-flight counted while set)
    private Endpoint lastEndpoint;           // endpoint of the latest attempt, kept after it ends (stats)
    private UpstreamConnection conn;
    private boolean bodyAttached;
    private boolean headPending;             // the request head waits to go out with the first body piece
    private boolean connecting;              // inside onConnected, which flushes once at its end
    private boolean requestSent;             // the last piece of the request went upstream
    private ArrayList<HttpContent> replay;   // copies of the request body for retries, made only for non-empty pieces
    private boolean replayDisabled;          // the body outgrew REPLAY_LIMIT (or retries are off): no replay
    private int replayBytes;
    private boolean responseHeadSent;        // a final response head went to the receiver
    private boolean interim;                 // between a 1xx head and its empty last content
    private boolean tunnelPending;           // a 101 head was passed on; tunnel once its last content passes
    private boolean keepAliveUpstream;
    private boolean done;
    private boolean countedRetry;
    private long attemptStartNanos;
    private long lastActivityNanos;
    private boolean readPaused;              // holding off reading the response for the receiver (backpressure)
    private long headerDeadlineNanos;        // 0 unless waiting for a response head
    private ScheduledFuture<?> totalTimer;   // only with a total timeout

    /**
     * @param request      the head to send (its Host is set to the endpoint's address per attempt unless
     *                     {@code preserveHost}); its URI and fields are final
     * @param perTry       the wait for a response head after the request went out; null: the cluster's
     *                     {@code timeouts.response_header}
     * @param upgrade      the request asks for a protocol switch the receiver would tunnel
     * @param hash         the request's hash key ({@link Cluster#hash}), {@link HashKey#NO_KEY} if none
     * @param pinned       the one endpoint to call (no pick, no retry elsewhere), or null
     * @param probe        a health probe of {@code pinned}: a connection of its own (an HTTP/2 cluster: a stream), and
     *                     none of the traffic's request limits, counters, stats or outlier reports
     * @param startNanos   when the request began (a proxied exchange: when it arrived), for the latency stats
     */
    UpstreamCall(Cluster cluster, EventLoop loop, HttpRequest request, RequestBody body, Receiver receiver,
                 RetryConfig retry, Duration perTry, boolean preserveHost, boolean upgrade, long hash, Endpoint pinned,
                 boolean probe, long startNanos) {
        this.cluster = cluster;
        this.loop = loop;
        this.request = request;
        this.body = body;
        this.receiver = receiver;
        this.retry = retry;
        this.perTryNanos = perTry != null ? perTry.toNanos() : cluster.config().timeouts().responseHeader().toNanos();
        this.idleNanos = cluster.config().timeouts().idle().toNanos();
        this.preserveHost = preserveHost;
        this.idempotent = isIdempotent(request.method());
        this.upgrade = upgrade;
        this.hash = hash;
        this.pinned = pinned;
        this.probe = probe && pinned != null;
        this.startNanos = startNanos;
    }

    /**
     * Counts the call in the cluster's {@code limits.max_requests}: false when the cluster is at its limit (the call
     * is then done, and nothing else happened: the caller answers). Before {@link #start}.
     */
    public boolean admit() {
        if (!probe && !cluster.tryStartRequest()) {
            done = true;
            return false;
        }
        return true;
    }

    /** Starts an admitted call. {@code totalNanos} bounds the whole call (route timeout, gRPC deadline), -1 for none. */
    public void start(long totalNanos) {
        if (totalNanos >= 0) {
            totalTimer = loop.schedule(() -> timeout("route_timeout"), totalNanos, TimeUnit.NANOSECONDS);
        }
        attemptNext();
    }

    public boolean done() { return done; }

    /** Reading of the response is held off for the receiver (it said so at the end of a read batch). */
    public boolean readPaused() { return readPaused; }

    // ---- attempts ----

    private void attemptNext() {
        if (done) return;
        Endpoint e = pinned;
        if (e == null) {
            if (attempt == 0) e = cluster.stickyEndpoint(request.headers());
            if (e == null) e = cluster.pick(this);
        }
        if (e == null) {
            fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "no_healthy_endpoint");
            return;
        }
        endpoint = e;
        lastEndpoint = e;
        receiver.onAttempt(e);
        if (firstTried == null) {
            firstTried = e;
        } else {
            if (moreTried == null) moreTried = new ArrayList<>(2);
            moreTried.add(e);
        }
        if (!probe) e.incrementInFlight();
        attemptStartNanos = cluster.ticker().nanoTime();
        lastActivityNanos = attemptStartNanos;
        if (!preserveHost) request.headers().set(HttpHeaderNames.HOST, e.authority());   // a resolved name: the name
        if (probe) cluster.pool(loop).acquireForProbe(e, this, true);
        else cluster.pool(loop).acquire(e, this);
    }

    // PickContext: no allocation per pick

    @Override
    public long hash() { return hash; }

    @Override
    public boolean hasHash() { return hash != HashKey.NO_KEY; }

    @Override
    public boolean excluded(Endpoint e) { return e == firstTried || (moreTried != null && moreTried.contains(e)); }

    @Override
    public void onConnected(UpstreamConnection c, boolean reused) {
        if (done) {
            c.release(true);
            return;
        }
        conn = c;
        Channel ch = c.channel();
        if (!bodyAttached) {
            bodyAttached = true;
            // the head waits for the first body piece: a request complete with its head (a GET) then goes
            // upstream as one message, encoded into one buffer; sendBody does not flush while we are in here
            headPending = true;
            connecting = true;
            try {
                body.start(this); // delivers what arrived with the head
            } finally {
                connecting = false;
            }
            if (conn != c) return; // the body failed on delivery: the call ended and closed the connection
            if (headPending) { // nothing of the body yet
                headPending = false;
                ch.write(head(), ch.voidPromise());
            }
        } else {
            ch.write(head(), ch.voidPromise());
            if (replay != null) for (HttpContent piece : replay) ch.write(piece.retainedDuplicate(), ch.voidPromise());
            if (body.complete() && !replayLast()) ch.write(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise());
        }
        ch.flush();
        if (body.complete()) requestSent();
        else if (ch.isWritable()) body.requestMore();
        c.watchDeadlines();
        ch.read(); // the response may come before the request body is complete
    }

    /**
     * The request's head, to write before its body pieces. A request without a body is decoded whole, as a
     * {@link FullHttpRequest}, which an encoder would take as the complete request: a retry, which writes the head,
     * then the body it kept, then the end, gets a head of its own.
     */
    private HttpRequest head() {
        return request instanceof FullHttpRequest
                ? new DefaultHttpRequest(request.protocolVersion(), request.method(), request.uri(), request.headers())
                : request;
    }

    private boolean replayLast() {
        return replay != null && !replay.isEmpty() && replay.get(replay.size() - 1) instanceof LastHttpContent;
    }

    @Override
    public void onConnectFailed(String reason) {
        if (done) return;
        log.debug("cluster {}: {} to {}", cluster.name(), reason, endpoint);
        if (reason.startsWith("connect_")) gatewayFailure();
        endAttempt();
        // nothing reached the endpoint: safe to retry, whatever the method, but only on another endpoint (the same one
        // refuses again) and at once (backoff spares a struggling endpoint; this one is untouched). None left: answer now.
        if (reason.startsWith("connect_") && pinned == null && cluster.hasUntried(this) && canRetry(true)) {
            attempt++;
            cluster.retryStarted();
            attemptNext();
            return;
        }
        // a TLS failure is the endpoint answering wrongly (bad certificate or name), not an absent one
        fail(reason.startsWith("tls_") ? HttpResponseStatus.BAD_GATEWAY : HttpResponseStatus.SERVICE_UNAVAILABLE, reason);
    }

    private void requestSent() {
        requestSent = true;
        if (!responseHeadSent) headerDeadlineNanos = cluster.ticker().nanoTime() + perTryNanos;
    }

    // ---- deadlines, watched by the upstream connection's timer ----

    @Override
    public long nextDeadlineNanos() {
        // the endpoint's silence counts only while we read from it: paused for a slow reader, nothing is its fault
        if (waitingOnClient()) return cluster.ticker().nanoTime() + idleNanos;
        long idle = lastActivityNanos + idleNanos;
        return headerDeadlineNanos != 0 && headerDeadlineNanos - idle < 0 ? headerDeadlineNanos : idle;
    }

    /**
     * True while the call waits for its caller, not the endpoint: reading of the response is paused for a slow
     * reader, or the request body is awaited while the endpoint takes all we give it (the listener times the client).
     */
    private boolean waitingOnClient() {
        return readPaused || (conn != null && !requestSent && !body.complete() && conn.channel().isWritable());
    }

    @Override
    public long deadlineCheckNanos() {
        return Math.min(idleNanos, perTryNanos);
    }

    @Override
    public void onDeadline(UpstreamConnection c) {
        if (done || c != conn) return;
        boolean header = headerDeadlineNanos != 0 && cluster.ticker().nanoTime() - headerDeadlineNanos >= 0;
        timeout(header ? "response_timeout" : "idle_timeout");
    }

    // ---- request body ----

    /** A piece of the request body from its source (owned by the call from here on). */
    public void sendBody(HttpContent content) {
        if (done) {
            content.release();
            return;
        }
        lastActivityNanos = cluster.ticker().nanoTime();
        keepForReplay(content);
        boolean last = content instanceof LastHttpContent;
        if (conn == null) {
            // between attempts: the copy above is all we need
            content.release();
            return;
        }
        Channel ch = conn.channel();
        // write failures close the connection (UpstreamConnection.exceptionCaught): no promise to allocate
        if (headPending) {
            headPending = false;
            if (content == LastHttpContent.EMPTY_LAST_CONTENT && request instanceof FullHttpRequest full && !full.content().isReadable()) {
                ch.write(request, ch.voidPromise()); // decoded whole, without a body: goes up as it is
            } else if (last) {
                LastHttpContent l = (LastHttpContent) content;
                ch.write(new DefaultFullHttpRequest(request.protocolVersion(), request.method(), request.uri(),
                        l.content(), request.headers(), l.trailingHeaders()), ch.voidPromise());
            } else {
                ch.write(head(), ch.voidPromise());
                ch.write(content, ch.voidPromise());
            }
        } else {
            ch.write(content, ch.voidPromise());
        }
        if (!connecting) ch.flush();
        if (last) {
            requestSent();
        } else if (ch.isWritable()) {
            body.requestMore();
        }
    }

    private void keepForReplay(HttpContent content) {
        if (replayDisabled) return;
        if (content == LastHttpContent.EMPTY_LAST_CONTENT) return; // nothing to copy: a replay ends with it anyway
        int n = content.content().readableBytes();
        // a body held by its source (buffer_request) costs nothing to keep for a retry
        if ((replayBytes + n > REPLAY_LIMIT && !body.held()) || retry.attempts() == 0) {
            releaseReplay();
            replayDisabled = true;
            return;
        }
        replayBytes += n;
        if (replay == null) replay = new ArrayList<>(2);
        replay.add(content.retainedDuplicate());
    }

    private void releaseReplay() {
        if (replay != null) {
            replay.forEach(ReferenceCountUtil::release);
            replay = null;
        }
    }

    @Override
    public void onUpstreamWritable(UpstreamConnection c) {
        if (!requestSent && !done) body.requestMore();
    }

    // ---- response ----

    @Override
    public void onResponse(UpstreamConnection c, HttpObject msg) {
        if (done || c != conn) {
            ReferenceCountUtil.release(msg);
            return;
        }
        lastActivityNanos = cluster.ticker().nanoTime();
        if (msg instanceof HttpResponse response) {
            onResponseHead(response);
            if (!(msg instanceof HttpContent)) return;
        }
        HttpContent content = (HttpContent) msg;
        if (content.decoderResult().isFailure()) {
            content.release();
            broke("invalid_response_body");
            return;
        }
        if (interim) {
            interim = false;
            receiver.onInterim(content);
            return;
        }
        if (!responseHeadSent) { // discarding the body of a response we retry
            content.release();
            return;
        }
        boolean last = content instanceof LastHttpContent;
        // the call ends with this piece: what the access log says about the endpoint must be in place before
        if (last) noteAttempt();
        receiver.onResponseBody(content);
        if (last) {
            if (tunnelPending) {
                startTunnel();
                return;
            }
            responseComplete();
        }
    }

    private void onResponseHead(HttpResponse response) {
        if (response.decoderResult().isFailure()) {
            log.debug("cluster {}: invalid response from {}: {}", cluster.name(), endpoint, response.decoderResult().cause().toString());
            gatewayFailure();
            dropConnection();
            endAttempt();
            fail(HttpResponseStatus.BAD_GATEWAY, "invalid_response");
            return;
        }
        int code = response.status().code();
        if (code >= 100 && code < 200 && code != 101) {
            interim = true;
            receiver.onInterim(response);
            return;
        }
        headerDeadlineNanos = 0;
        if (!probe) {
            long headAt = cluster.ticker().nanoTime();
            endpoint.recordLatency(headAt - attemptStartNanos, headAt);
            if (code >= 500) cluster.report5xx(endpoint); else cluster.reportSuccess(endpoint);
        }
        if (code == 101) {
            if (!upgrade) {
                dropConnection();
                endAttempt();
                fail(HttpResponseStatus.BAD_GATEWAY, "unexpected_101");
                return;
            }
            tunnelPending = true;
        } else if (retryableStatus(code) && canRetry(false)) {
            log.debug("cluster {}: {} from {}, retrying", cluster.name(), code, endpoint);
            dropConnection();
            endAttempt();
            retryLater();
            return;
        }
        responseHeadSent = true;
        keepAliveUpstream = receiver.onHead(response, endpoint);
    }

    @Override
    public void onResponseReadComplete(UpstreamConnection c) {
        if (done || c != conn) return;
        if (receiver.onReadComplete()) c.channel().read();
        else readPaused = true; // resume() reads on
    }

    /** The receiver can take more of the response: reads on (timing the endpoint's silence from now if it was held off). */
    public void resume() {
        if (done || conn == null) return;
        if (readPaused) {
            readPaused = false;
            lastActivityNanos = cluster.ticker().nanoTime();
        }
        conn.channel().read();
    }

    @Override
    public void onUpstreamClosed(UpstreamConnection c) {
        if (done || c != conn) return;
        conn = null;
        if (responseHeadSent) {
            broke("endpoint_closed_mid_body");
            return;
        }
        if (!c.refused()) gatewayFailure(); // a refused stream says nothing of its health
        // a reused connection may have been closed by the endpoint just before we wrote; an HTTP/2 stream refused by
        // GOAWAY or REFUSED_STREAM was not processed at all
        boolean staleReuse = (c.reused() && idempotent) || c.refused();
        endAttempt();
        if (c.refused() && transparentRetries < MAX_TRANSPARENT_RETRIES && (!bodyAttached || !replayDisabled)
                && cluster.availableCount() > 0) {
            // nothing was processed: retried like gRPC's transparent retry, outside the budget, whatever the method
            transparentRetries++;
            retryLater();
            return;
        }
        if ((staleReuse || (retry.on().contains(RetryCondition.RESET) && methodRetryable())) && canRetry(false)) {
            retryLater();
            return;
        }
        fail(HttpResponseStatus.BAD_GATEWAY, "endpoint_reset");
    }

    /** The endpoint broke the exchange (reset, malformed body): its failure. */
    private void broke(String reason) {
        log.debug("cluster {}: {} ({})", cluster.name(), reason, endpoint);
        gatewayFailure();
        dropConnection();
        endAttempt();
        fail(HttpResponseStatus.BAD_GATEWAY, reason);
    }

    private void responseComplete() {
        UpstreamConnection c = conn;
        conn = null;
        // reuse only a connection whose request and response both went through whole
        boolean reusable = requestSent && body.complete() && keepAliveUpstream;
        endAttempt();
        if (c != null) c.release(reusable);
        // counted before the receiver flushes: once the client has the answer, the admin API and metrics show it
        finish(null);
        receiver.onResponseEnd();
    }

    private void startTunnel() {
        UpstreamConnection c = conn;
        conn = null;
        c.detach();
        endAttempt();
        finish(null);
        receiver.onTunnel(c.channel());
    }

    // ---- timeouts ----

    private void timeout(String reason) {
        if (done) return;
        // a total timeout that strikes while a slow reader holds the response back is not the endpoint's failure
        if (endpoint != null && !waitingOnClient()) gatewayFailure();
        if (reason.equals("response_timeout")) {
            headerDeadlineNanos = 0;
            dropConnection();
            endAttempt();
            if (retry.on().contains(RetryCondition.TIMEOUT) && methodRetryable() && canRetry(false)) {
                retryLater();
                return;
            }
        } else {
            dropConnection();
            endAttempt();
        }
        fail(HttpResponseStatus.GATEWAY_TIMEOUT, reason);
    }

    /** The endpoint of this attempt failed (connect, reset, malformed response, timeout): outlier detection hears it. */
    private void gatewayFailure() {
        if (!probe) cluster.reportGatewayFailure(endpoint);
    }

    // ---- retry decisions ----

    private boolean methodRetryable() {
        return idempotent || retry.nonIdempotent();
    }

    private boolean retryableStatus(int code) {
        RetryCondition condition = RetryCondition.forStatus(code);
        return condition != null && retry.on().contains(condition) && methodRetryable();
    }

    /** Attempts left, a body we can send again, another endpoint, and room in the retry budget. */
    private boolean canRetry(boolean connectFailure) {
        if (pinned != null) return false;
        if (attempt >= retry.attempts()) return false;
        if (!connectFailure && bodyAttached && replayDisabled) return false;
        if (responseHeadSent) return false;
        if (cluster.availableCount() == 0) return false;
        if (!countedRetry) {
            if (!cluster.tryStartRetry()) {
                if (cluster.shouldLogRetryBudgetExhausted()) {
                    log.warn("cluster {}: retry budget exhausted; answering without retry (logged at most every 5 s; "
                            + "{} times so far)", cluster.name(), cluster.retryBudgetExhaustedCount());
                }
                return false;
            }
            countedRetry = true;
        }
        return true;
    }

    private void retryLater() {
        attempt++;
        cluster.retryStarted();
        requestSent = false;
        headerDeadlineNanos = 0;
        long delay = RetryBackoff.delayNanos(retry, attempt, RetryBackoff.RANDOM);
        retryAt(cluster.ticker().nanoTime() + delay, Math.min(delay, RETRY_CHECK_NANOS));
    }

    /**
     * The retry waits on the cluster's clock, which the event loop's timer only wakes to read (at most every 50 ms:
     * a few wake-ups per backoff), so that a clock a test injects decides when it goes.
     */
    private void retryAt(long dueNanos, long waitNanos) {
        loop.schedule(() -> {
            long left = dueNanos - cluster.ticker().nanoTime();
            if (left <= 0) attemptNext();
            else retryAt(dueNanos, Math.min(left, RETRY_CHECK_NANOS));
        }, waitNanos, TimeUnit.NANOSECONDS);
    }

    private static final long RETRY_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    // ---- endings ----

    /** Ends the current attempt's bookkeeping (in-flight count). Idempotent. */
    public void endAttempt() {
        if (endpoint != null) {
            noteAttempt();
            if (!probe) endpoint.decrementInFlight();
            endpoint = null;
        }
    }

    private void noteAttempt() {
        if (lastEndpoint != null) receiver.onAttemptEnd(lastEndpoint, cluster.ticker().nanoTime() - attemptStartNanos, attempt);
    }

    /** The connection of this attempt cannot be reused (state unknown): closes it. Idempotent. */
    public void dropConnection() {
        UpstreamConnection c = conn;
        conn = null;
        if (c != null) c.close();
    }

    /** The caller gives up (its client went away, its body broke): nothing more goes upstream or to the receiver. */
    public void cancel(String reason) {
        if (done) return;
        dropConnection();
        endAttempt();
        finish(reason);
    }

    /** Fails the call with {@code status} (owed before a response head) and {@code reason}. */
    public void fail(HttpResponseStatus status, String reason) {
        if (done) return;
        receiver.onFailed(status, reason);
        finish(reason);
    }

    /** Ends the call once: counters, stats, the receiver's {@link Receiver#onFinish}. */
    public void finish(String reason) {
        if (done) return;
        done = true;
        if (totalTimer != null) totalTimer.cancel(false);
        endAttempt();
        releaseReplay();
        replayDisabled = true;
        if (countedRetry) cluster.retryDone();
        long now = cluster.ticker().nanoTime();
        int status = receiver.onFinish(reason, lastEndpoint, now - attemptStartNanos);
        if (probe) return;
        cluster.requestDone();
        cluster.traffic().record(status, now - startNanos);
        if (lastEndpoint != null) lastEndpoint.traffic().record(status, now - attemptStartNanos);
    }

    /** Whether a response's framing lets its connection serve another request: keep-alive, and a delimited body. */
    public static boolean reusable(HttpRequest request, HttpResponse response) {
        int code = response.status().code();
        boolean keepAlive = io.netty.handler.codec.http.HttpUtil.isKeepAlive(response);
        return keepAlive && (code == 204 || code == 304 || request.method() == HttpMethod.HEAD
                || response.headers().contains(HttpHeaderNames.CONTENT_LENGTH)
                || io.netty.handler.codec.http.HttpUtil.isTransferEncodingChunked(response));
    }

    private static boolean isIdempotent(HttpMethod m) {
        return m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.OPTIONS || m == HttpMethod.PUT
                || m == HttpMethod.DELETE || m == HttpMethod.TRACE;
    }
}
