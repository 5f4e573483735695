package io.gatehouse.proxy;

import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.cluster.UpstreamCall;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.http.GrpcStatus;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.gatehouse.route.Route;
import io.gatehouse.telemetry.ClusterMeters;
import io.gatehouse.telemetry.Tracing;
import io.opentelemetry.api.trace.Span;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
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

/**
 * One proxied exchange: maps the downstream exchange to a call of the cluster's {@link io.gatehouse.cluster.UpstreamClient}
 * (the route's path rewrite, proxy headers, retry policy and timeouts) and pipes the response it streams back to the
 * client. Picking, connecting, retries, timeouts and endpoint health are the client's; what is here is the client
 * side: response header rewriting, trailers, response buffering for slow readers, gRPC endings, local answers for
 * failures, and tunnels after a 101. Confined to the exchange's event loop (the upstream connection lives there too).
 *
 * <p>Backpressure, both ways: the client's body is read only when the call asks for more, and the call reads the
 * response on only when the client (or the response buffer in front of it) can take more.
 */
final class ProxyCall implements HttpExchange.BodyReceiver, HttpExchange.ClientListener, UpstreamCall.RequestBody,
        UpstreamCall.Receiver {
    private final HttpExchange ex;
    private final Route route;
    private final Cluster cluster;
    private final ProxyHeaders headers;
    private final HttpRequest request;
    private final int found;                 // ProxyHeaders.scan of the request's fields as received
    private final boolean upgrade;
    private final boolean grpc;              // content-type application/grpc*: errors answered as gRPC statuses
    private final boolean clientTrailers;    // the client sent TE: trailers: response trailers are passed on
    private final ClusterMeters meters;      // null when the exchange came without route meters (tests)
    private final Span span;                 // the exchange's SERVER span, only with tracing

    private UpstreamCall call;
    private boolean headForwarded;           // a final response head went to the client (or is held in pendingHead)
    private boolean bufferable;              // the response body may be held for a slow client (response_buffering)
    private ResponseBuffer buffer;           // made when the client first falls behind, only with response_buffering
    private HttpResponse pendingHead;        // a final head not yet written: see onHead
    private boolean responseChunked;         // the head forwarded says chunked: an HTTP/1.1 client may get trailers

    ProxyCall(HttpExchange ex, Route route, Cluster cluster, ProxyHeaders headers) {
        this.ex = ex;
        this.meters = route.meters() == null ? null : route.meters().clusterMeters();
        this.route = route;
        this.span = ex.span() instanceof Span s ? s : null;
        this.cluster = cluster;
        this.headers = headers;
        this.request = ex.request();
        // one pass over the fields tells which lookups can be skipped (most requests have none of these headers)
        this.found = ProxyHeaders.scan(request.headers());
        this.upgrade = (found & ProxyHeaders.UPGRADE_H) != 0 && isTunnelUpgrade(request);
        this.grpc = (found & ProxyHeaders.CONTENT_TYPE_H) != 0 && GrpcStatus.isGrpc(request);
        this.clientTrailers = (found & ProxyHeaders.TE_H) != 0
                && request.headers().containsValue(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS, true);
    }

    void start() {
        RouteConfig rc = route.config();
        long hash = cluster.hash(request.headers(), ex.path(), ex.clientAddress()); // after trusted proxies
        call = cluster.client().call(ex.eventLoop(), request, this, this, rc.retries(), rc.timeouts().perTry(),
                rc.preserveHost(), upgrade, hash, ex.startNanos());
        long total = rc.timeouts().total() != null ? rc.timeouts().total().toNanos() : -1;
        // a gRPC client's deadline bounds the whole call like the route's own timeout: the earlier one wins
        long grpcTimeout = grpc ? GrpcStatus.timeoutNanos(request.headers()) : -1;
        if (grpcTimeout >= 0 && (total < 0 || grpcTimeout < total)) total = grpcTimeout;
        if (!call.admit()) {
            // nothing else happened: no listener, no request rewrite, nothing counted
            LocalResponse.fail(ex, HttpResponseStatus.SERVICE_UNAVAILABLE, "cluster_max_requests");
            return;
        }
        ex.clientListener(this);
        prepareRequest();
        call.start(total);
    }

    private void prepareRequest() {
        String path = route.rewrite(ex.path());
        request.setUri(ex.query() == null ? path : path + "?" + ex.query());
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
        // keeps Transfer-Encoding: chunked, the encoder re-frames. The fields are as scanned in the constructor
        // (only a tracing span changed traceparent since, which the rewrite does not look at).
        headers.request(ex, request.headers(), upgrade, found);
    }

    // ---- request body: from the exchange to the call ----

    @Override
    public void start(UpstreamCall c) {
        ex.bodyReceiver(this); // delivers what arrived with the head
    }

    @Override
    public boolean complete() { return ex.requestComplete(); }

    @Override
    public void requestMore() { ex.downstream().requestMoreBody(); }

    @Override
    public boolean held() { return ex.hasBufferedBody(); }

    @Override
    public void onBody(HttpContent content) {
        call.sendBody(content);
    }

    @Override
    public void onBodyError(HttpResponseStatus status, String reason) {
        if (call.done()) return;
        call.dropConnection();
        if (reason.equals("truncated_body") || reason.equals("client_closed")) {
            // the client went away in the middle of its body: its fault, not the endpoint's, and nobody to answer. The
            // log says where the body was going (endAttempt notes it before the exchange ends) and that the client left
            call.endAttempt();
            if (!ex.responseStarted()) ex.response().abort("client_aborted_body");
            call.finish("client_aborted_body");
            return;
        }
        if (status != null && !ex.responseStarted()) {
            call.fail(status, reason);
        } else {
            call.finish(reason);
        }
    }

    // ---- response: from the call to the client ----

    @Override
    public void onAttempt(Endpoint endpoint) {
        if (span != null) Tracing.endpoint(span, endpoint);
    }

    @Override
    public void onInterim(HttpObject message) {
        if (message instanceof HttpResponse head) {
            headers.response(head, null, false);
            ex.response().write(head);
            ex.response().flush();
        } else {
            ex.response().write(message);
        }
    }

    @Override
    public boolean onHead(HttpResponse response, Endpoint endpoint) {
        int code = response.status().code();
        headForwarded = true;
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
        boolean reusable = keepAlive && (code == 204 || code == 304 || request.method() == HttpMethod.HEAD || hasLength || chunked);
        // hop-by-hop removal keeps Content-Length and Transfer-Encoding, so hasLength and chunked still hold after it
        headers.response(response, ex.requestIdValue(), code == 101, found);
        // without a length, an HTTP/1.1 client gets the body chunked (the connection handler frames it so)
        responseChunked = chunked || !hasLength;
        String sticky = cluster.stickyCookieFor(endpoint, request.headers());
        if (sticky != null) response.headers().add(HttpHeaderNames.SET_COOKIE, sticky);
        if (response.status().code() == 101) {
            ex.response().write(response);
        } else {
            // held until the next piece of this read batch: a body that is already complete then goes out with the
            // head as one message (one write, and small bodies share the head's buffer); flushed at read complete
            pendingHead = response;
        }
        return reusable;
    }

    @Override
    public void onResponseBody(HttpContent content) {
        if (!clientTrailers && content instanceof LastHttpContent last && !last.trailingHeaders().isEmpty()) {
            // trailers go only to a client that said it takes them (RFC 9110 §6.5.1 lets a proxy drop them)
            content = new DefaultLastHttpContent(last.content());
        }
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
    }

    /** A piece of the response body for the client: sent, or held while the client falls behind (response_buffering). */
    private void toClient(HttpContent content) {
        ResponseBuffer b = buffer;
        if (b == null && bufferable && !ex.response().isWritable()) {
            b = buffer = new ResponseBuffer(ex.response(), ex.eventLoop(), cluster.config().responseBuffering(), () -> {
                if (call.readPaused()) resumeResponse();
            });
        }
        if (b != null && (b.holding() || !ex.response().isWritable())) b.add(content);
        else ex.response().write(content);
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
    public boolean onReadComplete() {
        writePendingHead();
        ex.response().flush();
        return mayReadResponse();
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
        if (!call.done() && mayReadResponse()) call.resume(); // once done, the buffer may be released: not asked
    }

    @Override
    public void onClientWritable() {
        if (buffer != null) buffer.drain();
        resumeResponse();
    }

    @Override
    public void onResponseEnd() {
        ex.response().flush();
    }

    @Override
    public void onTunnel(Channel channel) {
        ex.downstream().tunnel(channel);
    }

    @Override
    public void onFailed(HttpResponseStatus status, String reason) {
        writePendingHead();
        if (headForwarded) {
            // the response is cut off; a gRPC call past its deadline ends as gRPC says, with a status, and the
            // connection and its other calls go on (the upstream stream was reset)
            ex.failureReason(reason);
            if (grpc && status == HttpResponseStatus.GATEWAY_TIMEOUT && trailersReachClient()) {
                ex.response().write(GrpcStatus.trailers(GrpcStatus.code(HttpResponseStatus.GATEWAY_TIMEOUT, reason), reason));
                ex.response().flush();
            } else {
                ex.response().abort(reason);
            }
            return;
        }
        if (!ex.responseComplete()) {
            if (ex.responseStarted()) {
                ex.response().abort(reason);
            } else {
                LocalResponse.fail(ex, status, reason); // logs the reason
            }
        }
    }

    /** Trailers can still end the response: an HTTP/2 client, or a chunked HTTP/1.1 response to a client that takes them. */
    private boolean trailersReachClient() {
        return ex.clientVersion().majorVersion() == 2
                || (clientTrailers && responseChunked && ex.clientVersion().equals(HttpVersion.HTTP_1_1));
    }

    @Override
    public void onAttemptEnd(Endpoint endpoint, long nanos, int retries) {
        ex.endpoint(endpoint.address(), nanos, retries);
    }

    @Override
    public int onFinish(String reason, Endpoint lastEndpoint, long attemptNanos) {
        ex.readOnWhenClientGone(false);   // the call is over, however it ended: nothing reads on
        if (reason != null && ex.failureReason() == null) ex.failureReason(reason);
        if (reason != null && buffer != null) buffer.release(); // the response was cut off: nothing more goes out
        if (lastEndpoint != null && meters != null) meters.recordUpstream(lastEndpoint, attemptNanos);
        // 499 as nginx logs it: the client went away before an answer started
        return ex.responseStarted() ? ex.responseStatus() : 499;
    }

    @Override
    public void onClientGone() {
        if (buffer != null) buffer.release();
        if (call.done()) return;
        if (ex.readOnWhenClientGone()) {
            // a storing cache takes the rest (bounded by the call's timeouts); the log still says the client left
            if (ex.failureReason() == null) ex.failureReason("client_gone");
            return;
        }
        pendingHead = null;
        call.cancel("client_gone");
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
}
