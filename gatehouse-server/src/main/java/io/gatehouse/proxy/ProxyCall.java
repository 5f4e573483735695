package io.gatehouse.proxy;

import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.cluster.UpstreamConnection;
import io.gatehouse.cluster.loadbalancer.PickContext;
import io.gatehouse.config.RetryConfig;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.http.GrpcStatus;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.gatehouse.route.Route;
import io.gatehouse.telemetry.ClusterMeters;
import io.gatehouse.telemetry.Tracing;
import io.opentelemetry.api.trace.Span;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

/**
 * One proxied exchange: attempts on endpoints until a response head is forwarded, then the response stream.
 * Confined to the exchange's event loop (the upstream connection lives there too).
 *
 * <p>Backpressure, both ways (Netty's HexDumpProxy rule): the client's body is read only when the upstream connection
 * can take more, and the upstream response is read only when the client can take more; writes are flushed once per
 * read batch.
 *
 * <p>Retries: connect failures always go to another endpoint; 502/503/504, resets and per-try timeouts only where
 * the route says so and for idempotent methods (unless {@code non_idempotent}); a request body is replayed from
 * a copy kept while it is at most {@link #REPLAY_LIMIT} bytes; every retry needs room in the cluster's retry budget.
 */
final class ProxyCall implements HttpExchange.BodyReceiver, HttpExchange.ClientListener, UpstreamConnection.Owner,
        PickContext {
    private static final Logger log = LoggerFactory.getLogger(ProxyCall.class);
    static final int REPLAY_LIMIT = 64 * 1024;
    /** Refused HTTP/2 streams retried outside the retry budget, per request (an endpoint refusing forever is not retried forever). */
    static final int MAX_TRANSPARENT_RETRIES = 2;

    private final HttpExchange ex;
    private final Route route;
    private final Cluster cluster;
    private final ProxyHeaders headers;
    private final EventLoop loop;
    private final HttpRequest request;
    private final int found;                 // ProxyHeaders.scan of the request's fields as received
    private final RetryConfig retry;
    private final boolean idempotent;
    private final boolean upgrade;
    private final boolean grpc;              // content-type application/grpc*: errors answered as gRPC statuses
    private final boolean clientTrailers;    // the client sent TE: trailers: response trailers are passed on

    private int attempt;                     // 0 for the first try
    private int transparentRetries;          // retries of streams the endpoint refused unprocessed (GOAWAY, REFUSED_STREAM)
    private long hash;                       // hash key for ring_hash/maglev, HashKey.NO_KEY if none
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
    private boolean responseHeadSent;        // a final response head went to the client
    private boolean interim;                 // between a 1xx head and its empty last content
    private boolean tunnelPending;           // a 101 head was forwarded; tunnel once its last content passes
    private boolean done;
    private boolean countedRetry;
    private long attemptStartNanos;
    private long lastActivityNanos;
    private boolean readPaused;              // holding off reading the response for the client (backpressure)
    private boolean bufferable;              // the response body may be held for a slow client (response_buffering)
    private ResponseBuffer buffer;           // made when the client first falls behind, only with response_buffering
    private long headerDeadlineNanos;        // 0 unless waiting for a response head
    private ScheduledFuture<?> totalTimer;   // only when the route sets timeouts.total
    private final ClusterMeters meters;      // null when the exchange came without route meters (tests)
    private final Span span;                 // the exchange's SERVER span, only with tracing

    ProxyCall(HttpExchange ex, Route route, Cluster cluster, ProxyHeaders headers) {
        this.ex = ex;
        this.meters = route.meters() == null ? null : route.meters().clusterMeters();
        this.route = route;
        this.span = ex.span() instanceof Span s ? s : null;
        this.cluster = cluster;
        this.headers = headers;
        this.loop = ex.eventLoop();
        this.request = ex.request();
        this.retry = route.config().retries();
        this.idempotent = isIdempotent(request.method());
        // one pass over the fields tells which lookups can be skipped (most requests have none of these headers)
        this.found = ProxyHeaders.scan(request.headers());
        this.upgrade = (found & ProxyHeaders.UPGRADE_H) != 0 && isTunnelUpgrade(request);
        this.grpc = (found & ProxyHeaders.CONTENT_TYPE_H) != 0 && GrpcStatus.isGrpc(request);
        this.clientTrailers = (found & ProxyHeaders.TE_H) != 0
                && request.headers().containsValue(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS, true);
    }

    void start() {
        if (!cluster.tryStartRequest()) {
            LocalResponse.fail(ex, HttpResponseStatus.SERVICE_UNAVAILABLE, "cluster_max_requests");
            return;
        }
        ex.clientListener(this);
        java.net.InetSocketAddress client = ex.connection().remoteAddress();
        hash = cluster.hash(request.headers(), ex.path(), client == null ? null : client.getAddress());
        prepareRequest();
        RouteConfig.RouteTimeoutsConfig t = route.config().timeouts();
        long total = t.total() != null ? t.total().toNanos() : -1;
        // a gRPC client's deadline bounds the whole call like the route's own timeout: the earlier one wins
        long grpcTimeout = grpc ? GrpcStatus.timeoutNanos(request.headers()) : -1;
        if (grpcTimeout >= 0 && (total < 0 || grpcTimeout < total)) total = grpcTimeout;
        if (total >= 0) {
            totalTimer = loop.schedule(() -> timeout("route_timeout"), total, TimeUnit.NANOSECONDS);
        }
        attemptNext();
    }

    private void prepareRequest() {
        String path = route.rewrite(ex.path());
        request.setUri(ex.query() == null ? path : path + "?" + ex.query());
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
        // keeps Transfer-Encoding: chunked, the encoder re-frames. The fields are as scanned in the constructor
        // (only a tracing span changed traceparent since, which the rewrite does not look at).
        headers.request(ex, request.headers(), upgrade, found);
    }

    // ---- attempts ----

    private void attemptNext() {
        if (done) return;
        Endpoint e = attempt == 0 ? cluster.stickyEndpoint(request.headers()) : null;
        if (e == null) e = cluster.pick(this);
        if (e == null) {
            finishWithError(HttpResponseStatus.SERVICE_UNAVAILABLE, "no_healthy_endpoint");
            return;
        }
        endpoint = e;
        lastEndpoint = e;
        if (span != null) Tracing.endpoint(span, e);
        if (firstTried == null) {
            firstTried = e;
        } else {
            if (moreTried == null) moreTried = new ArrayList<>(2);
            moreTried.add(e);
        }
        e.incrementInFlight();
        attemptStartNanos = cluster.ticker().nanoTime();
        lastActivityNanos = attemptStartNanos;
        if (!route.config().preserveHost()) request.headers().set(HttpHeaderNames.HOST, e.address());
        cluster.pool(loop).acquire(e, this);
    }

    // PickContext: no allocation per pick

    @Override
    public long hash() { return hash; }

    @Override
    public boolean hasHash() { return hash != io.gatehouse.cluster.loadbalancer.HashKey.NO_KEY; }

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
            // upstream as one message, encoded into one buffer; onBody does not flush while we are in here
            headPending = true;
            connecting = true;
            try {
                ex.bodyReceiver(this); // delivers what arrived with the head
            } finally {
                connecting = false;
            }
            if (conn != c) return; // the body failed on delivery: the exchange ended and closed the connection
            if (headPending) { // nothing of the body yet
                headPending = false;
                ch.write(head(), ch.voidPromise());
            }
        } else {
            ch.write(head(), ch.voidPromise());
            if (replay != null) for (HttpContent piece : replay) ch.write(piece.retainedDuplicate(), ch.voidPromise());
            if (ex.requestComplete() && !replayLast()) ch.write(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise());
        }
        ch.flush();
        if (ex.requestComplete()) requestSent();
        else if (ch.isWritable()) ex.downstream().requestMoreBody();
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
        if (reason.startsWith("connect_")) cluster.reportGatewayFailure(endpoint);
        endAttempt();
        // nothing reached the endpoint: safe to retry, whatever the method, but only on another endpoint (the same one
        // refuses again) and at once (backoff spares a struggling endpoint; this one is untouched). None left: answer now.
        if (reason.startsWith("connect_") && cluster.hasUntried(this) && canRetry(true)) {
            attempt++;
            cluster.retryStarted();
            attemptNext();
            return;
        }
        // a TLS failure is the endpoint answering wrongly (bad certificate or name), not an absent one
        finishWithError(reason.startsWith("tls_") ? HttpResponseStatus.BAD_GATEWAY : HttpResponseStatus.SERVICE_UNAVAILABLE, reason);
    }

    private void requestSent() {
        requestSent = true;
        if (!responseHeadSent) headerDeadlineNanos = cluster.ticker().nanoTime() + perTryNanos();
    }

    private long perTryNanos() {
        return route.config().timeouts().perTry() != null ? route.config().timeouts().perTry().toNanos()
                : cluster.config().timeouts().responseHeader().toNanos();
    }

    // ---- deadlines, watched by the upstream connection's timer ----

    @Override
    public long nextDeadlineNanos() {
        // the endpoint's silence counts only while we read from it: paused for a slow client, nothing is its fault
        if (waitingOnClient()) return cluster.ticker().nanoTime() + cluster.config().timeouts().idle().toNanos();
        long idle = lastActivityNanos + cluster.config().timeouts().idle().toNanos();
        return headerDeadlineNanos != 0 && headerDeadlineNanos - idle < 0 ? headerDeadlineNanos : idle;
    }

    /**
     * True while the exchange waits for the client, not the endpoint: reading of the response is paused for a slow
     * reader, or the client's body is awaited while the endpoint takes all we give it (the listener times the client).
     */
    private boolean waitingOnClient() {
        return readPaused || (conn != null && !requestSent && !ex.requestComplete() && conn.channel().isWritable());
    }

    @Override
    public long deadlineCheckNanos() {
        return Math.min(cluster.config().timeouts().idle().toNanos(), perTryNanos());
    }

    @Override
    public void onDeadline(UpstreamConnection c) {
        if (done || c != conn) return;
        boolean header = headerDeadlineNanos != 0 && cluster.ticker().nanoTime() - headerDeadlineNanos >= 0;
        timeout(header ? "response_timeout" : "idle_timeout");
    }

    // ---- request body (from the client) ----

    @Override
    public void onBody(HttpContent content) {
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
            ex.downstream().requestMoreBody();
        }
    }

    private void keepForReplay(HttpContent content) {
        if (replayDisabled) return;
        if (content == LastHttpContent.EMPTY_LAST_CONTENT) return; // nothing to copy: a replay ends with it anyway
        int n = content.content().readableBytes();
        // a body a filter buffered (buffer_request) is held by the exchange anyway: keeping it for a retry costs nothing
        if ((replayBytes + n > REPLAY_LIMIT && !ex.hasBufferedBody()) || retry.attempts() == 0) {
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
    public void onBodyError(HttpResponseStatus status, String reason) {
        if (done) return;
        dropConnection();
        if (reason.equals("truncated_body") || reason.equals("client_closed")) {
            // the client went away in the middle of its body: its fault, not the endpoint's, and nobody to answer. The
            // log says where the body was going (endAttempt notes it before the exchange ends) and that the client left
            endAttempt();
            if (!ex.responseStarted()) ex.response().abort("client_aborted_body");
            finish("client_aborted_body");
            return;
        }
        if (status != null && !ex.responseStarted()) {
            finishWithError(status, reason);
        } else {
            finish(reason);
        }
    }

    @Override
    public void onUpstreamWritable(UpstreamConnection c) {
        if (!requestSent && !done) ex.downstream().requestMoreBody();
    }

    // ---- response (from the endpoint) ----

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
            upstreamBroke("invalid_response_body");
            return;
        }
        if (interim) {
            interim = false;
            ex.response().write(content);
            return;
        }
        if (!responseHeadSent) { // discarding the body of a response we retry
            content.release();
            return;
        }
        if (!clientTrailers && content instanceof LastHttpContent last && !last.trailingHeaders().isEmpty()) {
            // trailers go only to a client that said it takes them (RFC 9110 §6.5.1 lets a proxy drop them)
            content = new DefaultLastHttpContent(last.content());
        }
        // the exchange ends with this write: what the access log says about the upstream must be in place before
        if (content instanceof LastHttpContent) noteUpstream();
        HttpResponse head = pendingHead;
        if (head != null) {
            pendingHead = null;
            if (head == content) {
                ex.response().write(content); // decoded whole (head and body in one message): goes out as it is
            } else if (content instanceof LastHttpContent last) {
                ex.response().write(new DefaultFullHttpResponse(head.protocolVersion(), head.status(), last.content(),
                        head.headers(), last.trailingHeaders()));
            } else {
                ex.response().write(head);
                toClient(content);
            }
        } else {
            toClient(content);
        }
        if (content instanceof LastHttpContent) {
            if (tunnelPending) {
                startTunnel();
                return;
            }
            responseComplete();
        }
    }

    /** A piece of the response body for the client: sent, or held while the client falls behind (response_buffering). */
    private void toClient(HttpContent content) {
        ResponseBuffer b = buffer;
        if (b == null && bufferable && !ex.response().isWritable()) {
            b = buffer = new ResponseBuffer(ex.response(), loop, cluster.config().responseBuffering(), () -> {
                if (readPaused) resumeResponse();
            });
        }
        if (b != null && (b.holding() || !ex.response().isWritable())) b.add(content);
        else ex.response().write(content);
    }

    private void onResponseHead(HttpResponse response) {
        if (response.decoderResult().isFailure()) {
            log.debug("cluster {}: invalid response from {}: {}", cluster.name(), endpoint, response.decoderResult().cause().toString());
            cluster.reportGatewayFailure(endpoint);
            dropConnection();
            endAttempt();
            finishWithError(HttpResponseStatus.BAD_GATEWAY, "invalid_response");
            return;
        }
        int code = response.status().code();
        if (code >= 100 && code < 200 && code != 101) {
            interim = true;
            headers.response(response, null, false);
            ex.response().write(response);
            ex.response().flush();
            return;
        }
        headerDeadlineNanos = 0;
        long headAt = cluster.ticker().nanoTime();
        endpoint.recordLatency(headAt - attemptStartNanos, headAt);
        if (code >= 500) cluster.report5xx(endpoint); else cluster.reportSuccess(endpoint);
        if (code == 101) {
            if (!upgrade) {
                dropConnection();
                endAttempt();
                finishWithError(HttpResponseStatus.BAD_GATEWAY, "unexpected_101");
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
        // a gRPC stream, an event stream and a tunnel are conversations, not documents: never held back
        bufferable = code != 101 && !grpc && cluster.config().responseBuffering() != null
                && !isEventStream(response.headers().get(HttpHeaderNames.CONTENT_TYPE));
        // one pass over the fields; the lookups below run only for the names it found
        int found = ProxyHeaders.scan(response.headers());
        boolean hasLength = (found & ProxyHeaders.CONTENT_LENGTH_H) != 0;
        boolean chunked = (found & ProxyHeaders.TRANSFER_ENCODING_H) != 0 && HttpUtil.isTransferEncodingChunked(response);
        // read before hop-by-hop headers are removed; a body delimited by the close cannot share the connection
        boolean keepAlive = (found & ProxyHeaders.CONNECTION_H) != 0 ? HttpUtil.isKeepAlive(response)
                : response.protocolVersion().isKeepAliveDefault();
        keepAliveUpstream = keepAlive && (code == 204 || code == 304 || request.method() == HttpMethod.HEAD || hasLength || chunked);
        // hop-by-hop removal keeps Content-Length and Transfer-Encoding, so hasLength and chunked still hold after it
        headers.response(response, ex.requestIdValue(), code == 101, found);
        // without a length, an HTTP/1.1 client gets the body chunked (the connection handler frames it so)
        responseChunked = chunked || !hasLength;
        String sticky = cluster.stickyCookieFor(endpoint, request.headers());
        if (sticky != null) response.headers().add(HttpHeaderNames.SET_COOKIE, sticky);
        if (code == 101) {
            ex.response().write(response);
        } else {
            // held until the next piece of this read batch: a body that is already complete then goes out with the
            // head as one message (one write, and small bodies share the head's buffer); flushed at read complete
            pendingHead = response;
        }
    }

    /** Writes a held response head (the body did not follow in the same read batch, or the exchange ends). */
    private void writePendingHead() {
        HttpResponse head = pendingHead;
        if (head != null) {
            pendingHead = null;
            ex.response().write(head);
        }
    }

    @Override
    public void onResponseReadComplete(UpstreamConnection c) {
        if (done || c != conn) return;
        writePendingHead();
        ex.response().flush();
        if (mayReadResponse()) c.channel().read();
        else readPaused = true; // onClientWritable (or room in the buffer) reads on
    }

    /**
     * Whether to read more of the response now: the client takes it, or the response buffer has room. While the
     * buffer holds anything, only its room counts (what is read queues behind it).
     */
    private boolean mayReadResponse() {
        ResponseBuffer b = buffer;
        if (b != null && b.holding()) return !b.full();
        return bufferable || ex.response().isWritable();
    }

    /** The client, or the buffer in front of it, can take more: reads on if reading was held off. */
    private void resumeResponse() {
        if (done || conn == null || !mayReadResponse()) return;
        if (readPaused) {
            readPaused = false;
            lastActivityNanos = cluster.ticker().nanoTime(); // the endpoint's silence is timed from now
        }
        conn.channel().read();
    }

    @Override
    public void onClientWritable() {
        if (buffer != null) buffer.drain();
        resumeResponse();
    }

    @Override
    public void onUpstreamClosed(UpstreamConnection c) {
        if (done || c != conn) return;
        conn = null;
        if (responseHeadSent) {
            upstreamBroke("upstream_closed_mid_body");
            return;
        }
        if (!c.refused()) cluster.reportGatewayFailure(endpoint); // a refused stream says nothing of its health
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
        if ((staleReuse || (retry.on().contains("reset") && methodRetryable())) && canRetry(false)) {
            retryLater();
            return;
        }
        finishWithError(HttpResponseStatus.BAD_GATEWAY, "upstream_reset");
    }

    private void upstreamBroke(String reason) {
        writePendingHead();
        log.debug("cluster {}: {} ({})", cluster.name(), reason, endpoint);
        cluster.reportGatewayFailure(endpoint);
        dropConnection();
        endAttempt();
        if (responseHeadSent) {
            ex.failureReason(reason);
            ex.response().abort(reason);
            finish(reason);
        } else {
            finishWithError(HttpResponseStatus.BAD_GATEWAY, reason);
        }
    }

    private void responseComplete() {
        UpstreamConnection c = conn;
        conn = null;
        // reuse only a connection whose request and response both went through whole
        boolean reusable = requestSent && ex.requestComplete() && keepAliveUpstream;
        endAttempt();
        if (c != null) c.release(reusable);
        // counted before the flush: once the client has the answer, the admin API and metrics already show it
        finish(null);
        ex.response().flush();
    }

    private boolean keepAliveUpstream;
    private HttpResponse pendingHead;        // a final head not yet written: see onResponseHead
    private boolean responseChunked;         // the head forwarded says chunked: an HTTP/1.1 client may get trailers

    private void startTunnel() {
        UpstreamConnection c = conn;
        conn = null;
        c.detach();
        endAttempt();
        finish(null);
        ex.downstream().tunnel(c.channel());
    }

    // ---- timeouts ----

    private void timeout(String reason) {
        if (done) return;
        writePendingHead();
        // a route timeout that strikes while a slow client holds the response back is not the endpoint's failure
        if (endpoint != null && !waitingOnClient()) cluster.reportGatewayFailure(endpoint);
        if (reason.equals("response_timeout")) {
            headerDeadlineNanos = 0;
            dropConnection();
            endAttempt();
            if (retry.on().contains("timeout") && methodRetryable() && canRetry(false)) {
                retryLater();
                return;
            }
        } else {
            dropConnection();
            endAttempt();
        }
        if (responseHeadSent) {
            if (grpc && trailersReachClient()) {
                // a gRPC call past its deadline ends as gRPC says, with a status; the connection and its other calls
                // go on (the upstream stream was reset above)
                ex.failureReason(reason);
                ex.response().write(GrpcStatus.trailers(GrpcStatus.code(HttpResponseStatus.GATEWAY_TIMEOUT, reason), reason));
                ex.response().flush();
                finish(reason);
                return;
            }
            ex.response().abort(reason);
            finish(reason);
        } else {
            finishWithError(HttpResponseStatus.GATEWAY_TIMEOUT, reason);
        }
    }

    /** Trailers can still end the response: an HTTP/2 client, or a chunked HTTP/1.1 response to a client that takes them. */
    private boolean trailersReachClient() {
        return ex.clientVersion().majorVersion() == 2
                || (clientTrailers && responseChunked && ex.clientVersion().equals(HttpVersion.HTTP_1_1));
    }

    // ---- retry decisions ----

    private boolean methodRetryable() {
        return idempotent || retry.nonIdempotent();
    }

    private boolean retryableStatus(int code) {
        return (code == 502 || code == 503 || code == 504) && retry.on().contains(Integer.toString(code)) && methodRetryable();
    }

    /** Attempts left, a body we can send again, another endpoint, and room in the retry budget. */
    private boolean canRetry(boolean connectFailure) {
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
        loop.schedule(this::attemptNext, delay, TimeUnit.NANOSECONDS);
    }

    // ---- endings ----

    /** Ends the current attempt's bookkeeping (in-flight count). */
    private void endAttempt() {
        if (endpoint != null) {
            noteUpstream();
            endpoint.decrementInFlight();
            endpoint = null;
        }
    }

    /** Tells the exchange (for the access log) which endpoint the latest attempt went to and how long it took. */
    private void noteUpstream() {
        if (lastEndpoint != null) ex.endpoint(lastEndpoint.address(), cluster.ticker().nanoTime() - attemptStartNanos, attempt);
    }

    /** The connection of this attempt cannot be reused (state unknown): close it. */
    private void dropConnection() {
        UpstreamConnection c = conn;
        conn = null;
        if (c != null) c.close();
    }

    @Override
    public void onClientGone() {
        if (buffer != null) buffer.release();
        if (done) return;
        pendingHead = null;
        dropConnection();
        endAttempt();
        finish("client_gone");
    }

    private void finishWithError(HttpResponseStatus status, String reason) {
        if (done) return;
        writePendingHead();
        if (!ex.responseComplete()) {
            if (ex.responseStarted()) {
                ex.response().abort(reason);
            } else {
                LocalResponse.fail(ex, status, reason); // logs the reason
            }
        }
        finish(reason);
    }

    private void finish(String reason) {
        if (done) return;
        done = true;
        if (reason != null && ex.failureReason() == null) ex.failureReason(reason);
        if (reason != null && buffer != null) buffer.release(); // the response was cut off: nothing more goes out
        cancel(totalTimer);
        endAttempt();
        releaseReplay();
        replayDisabled = true;
        if (countedRetry) cluster.retryDone();
        cluster.requestDone();
        // 499 as nginx logs it: the client went away before an answer started
        int status = ex.responseStarted() ? ex.responseStatus() : 499;
        long now = cluster.ticker().nanoTime();
        cluster.traffic().record(status, now - ex.startNanos());
        if (lastEndpoint != null) {
            lastEndpoint.traffic().record(status, now - attemptStartNanos);
            if (meters != null) meters.recordUpstream(lastEndpoint, now - attemptStartNanos);
        }
    }

    private static void cancel(ScheduledFuture<?> f) {
        if (f != null) f.cancel(false);
    }

    /**
     * An Upgrade the endpoint may accept with 101 and that we then tunnel (WebSocket and the like). {@code h2c} is not
     * one: HTTP/2 is negotiated per hop, so that Upgrade is dropped and the request proxied as HTTP/1.1.
     */
    static boolean isTunnelUpgrade(HttpRequest request) {
        String value = request.headers().get(HttpHeaderNames.UPGRADE);
        return value != null && !value.equalsIgnoreCase("h2c")
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, "upgrade", true);
    }

    private static boolean isEventStream(String contentType) {
        return contentType != null && contentType.regionMatches(true, 0, "text/event-stream", 0, 17);
    }

    private static boolean isIdempotent(HttpMethod m) {
        return m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.OPTIONS || m == HttpMethod.PUT
                || m == HttpMethod.DELETE || m == HttpMethod.TRACE;
    }
}
