package io.gatehouse.http;

import io.gatehouse.route.Route;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;

/**
 * One request and its response as it flows through a route's filters to the proxy. Created by the listener's
 * protocol handler when a request head arrives; the body streams in afterwards through {@link BodyReceiver}.
 * Confined to the downstream's event loop.
 */
public final class HttpExchange {

    /** Receives the request body, piece by piece, after asking for it with {@link Downstream#requestMoreBody()}. */
    public interface BodyReceiver {
        void onBody(HttpContent content);

        /**
         * The request body could not be completed. {@code status} is the answer owed to the client if no response
         * started yet (413 too large, 400 malformed), or null when the client is gone.
         */
        void onBodyError(io.netty.handler.codec.http.HttpResponseStatus status, String reason);
    }

    private Downstream downstream;
    private final HttpRequest request;
    private final String host;
    private final String path;
    private final String query;
    private final long startNanos;
    private final String listener;
    private Route route;
    private CharSequence requestId;   // an AsciiString when generated: written into headers without re-encoding

    private BodyReceiver bodyReceiver;
    private java.util.function.UnaryOperator<BodyReceiver> bodyInterceptor;
    private Runnable clientGoneAction;
    // Body pieces that arrived with the head before anyone attached (bounded by one socket read).
    // The first piece waits alone; a queue is made only for a second one.
    private HttpContent earlyFirst;
    private ArrayDeque<HttpContent> earlyBody;
    private boolean requestComplete;
    private long requestBodyBytes;
    private String bodyError;
    private io.netty.handler.codec.http.HttpResponseStatus bodyErrorStatus;

    private boolean responseStarted;
    private boolean responseComplete;
    private int responseStatus;
    private String failureReason;
    private ClientListener clientListener;

    // what telemetry (metrics, access log) reports when the exchange ends
    private io.gatehouse.telemetry.RouteMeters meters;
    private io.netty.handler.codec.http.HttpVersion clientVersion = io.netty.handler.codec.http.HttpVersion.HTTP_1_1;
    private String upstream;
    private long upstreamNanos = -1;
    private int retries;

    public HttpExchange(Downstream downstream, String listener, HttpRequest request, String host, String path,
                        String query, long startNanos) {
        this.downstream = downstream;
        this.listener = listener;
        this.request = request;
        this.host = host;
        this.path = path;
        this.query = query;
        this.startNanos = startNanos;
    }

    public Downstream downstream() { return downstream; }

    /**
     * Puts a decorator in front of the client side (response compression): everything written to the client from
     * then on goes through {@code replacement}, which passes it on to the one it wraps. Only before the response
     * starts, on the exchange's event loop; the protocol handler keeps its own reference and never notices.
     */
    public void downstream(Downstream replacement) {
        if (responseStarted) throw new IllegalStateException("the response already started");
        this.downstream = replacement;
    }

    /**
     * Wraps whoever will consume the request body (request decompression): the body then reaches the consumer
     * through {@code interceptor}. Set by a filter before the consumer attaches.
     */
    public void interceptBody(java.util.function.UnaryOperator<BodyReceiver> interceptor) {
        this.bodyInterceptor = interceptor;
    }
    public String listener() { return listener; }
    public HttpRequest request() { return request; }
    /** Request host, lower case, without port; empty if none. */
    public String host() { return host; }
    /** Request path without the query. */
    public String path() { return path; }
    /** The query string after '?', or null. */
    public String query() { return query; }
    public long startNanos() { return startNanos; }
    public Route route() { return route; }
    public void route(Route route) { this.route = route; }
    public String requestId() { return requestId == null ? null : requestId.toString(); }
    /** The request id as set (an AsciiString when Gatehouse made it), for headers. */
    public CharSequence requestIdValue() { return requestId; }
    public void requestId(CharSequence id) { this.requestId = id; }

    // ---- request body ----

    /** Attaches the body consumer and delivers anything that already arrived. */
    public void bodyReceiver(BodyReceiver receiver) {
        if (bodyInterceptor != null) receiver = bodyInterceptor.apply(receiver);
        this.bodyReceiver = receiver;
        HttpContent first = earlyFirst;
        if (first != null) {
            earlyFirst = null;
            receiver.onBody(first);
        }
        if (earlyBody != null) {
            HttpContent c;
            // a piece can end the exchange (a body refused while decoding it), which discards the rest: stop there
            while (earlyBody != null && (c = earlyBody.poll()) != null) receiver.onBody(c);
            earlyBody = null;
        }
        if (bodyError != null) receiver.onBodyError(bodyErrorStatus, bodyError);
    }

    /** Called by the protocol handler with each piece of the request body. */
    public void receiveBody(HttpContent content) {
        requestBodyBytes += content.content().readableBytes();
        if (content instanceof LastHttpContent) requestComplete = true;
        if (bodyReceiver != null) {
            bodyReceiver.onBody(content);
        } else {
            // most requests have one piece (a bodiless one: its end) before the proxy attaches: no queue for it
            if (earlyFirst == null && earlyBody == null) {
                earlyFirst = content;
                return;
            }
            if (earlyBody == null) earlyBody = new ArrayDeque<>(4);
            earlyBody.add(content);
        }
    }

    /** The request body failed; see {@link BodyReceiver#onBodyError}. */
    public void failBody(io.netty.handler.codec.http.HttpResponseStatus status, String reason) {
        bodyError = reason;
        bodyErrorStatus = status;
        if (bodyReceiver != null) bodyReceiver.onBodyError(status, reason);
    }

    /** True when nobody consumes the body (a local answer): a failed body then needs answering here. */
    public boolean hasBodyReceiver() {
        return bodyReceiver != null;
    }

    public boolean requestComplete() { return requestComplete; }
    public long requestBodyBytes() { return requestBodyBytes; }

    /** Releases body pieces nobody consumed (the exchange ended before the proxy read them). */
    public void discardEarlyBody() {
        if (earlyFirst != null) {
            ReferenceCountUtil.release(earlyFirst);
            earlyFirst = null;
        }
        if (earlyBody != null) {
            earlyBody.forEach(ReferenceCountUtil::release);
            earlyBody = null;
        }
    }

    // ---- response bookkeeping ----

    public boolean responseStarted() { return responseStarted; }
    public void responseStarted(int status) { this.responseStarted = true; this.responseStatus = status; }
    public int responseStatus() { return responseStatus; }
    public boolean responseComplete() { return responseComplete; }
    public void responseComplete(boolean complete) { this.responseComplete = complete; }

    /** The reason Gatehouse itself answered or aborted (for logs), or null. */
    public String failureReason() { return failureReason; }
    public void failureReason(String reason) { this.failureReason = reason; }

    /** Hears about the client side of the exchange: it can take more again, or it went away. */
    public interface ClientListener {
        void onClientWritable();

        void onClientGone();
    }

    public void clientListener(ClientListener listener) { this.clientListener = listener; }

    /** Called when the downstream becomes writable again. */
    public void onWritable() {
        if (clientListener != null) clientListener.onClientWritable();
    }

    /** Called when the client goes away before the exchange ended (upstream resources are released then). */
    public void onClientGone() {
        if (clientListener != null) clientListener.onClientGone();
        if (clientGoneAction != null) clientGoneAction.run();
    }

    /** Runs {@code action} after the client listener if the client goes away first (a filter freeing what it holds). */
    public void whenClientGone(Runnable action) {
        Runnable before = clientGoneAction;
        this.clientGoneAction = before == null ? action : () -> { before.run(); action.run(); };
    }

    // ---- telemetry facts ----

    /** Metrics of the route that took the exchange (set by the route), or null before routing / without a route. */
    public io.gatehouse.telemetry.RouteMeters meters() { return meters; }
    public void meters(io.gatehouse.telemetry.RouteMeters meters) { this.meters = meters; }

    /** The protocol the client spoke (the proxy rewrites the request's own version for the upstream hop). */
    public io.netty.handler.codec.http.HttpVersion clientVersion() { return clientVersion; }
    public void clientVersion(io.netty.handler.codec.http.HttpVersion version) { this.clientVersion = version; }

    /** The endpoint address of the last upstream attempt, or null when none was made. */
    public String upstream() { return upstream; }
    /** Duration of the last upstream attempt in nanoseconds, or -1 when none was made. */
    public long upstreamNanos() { return upstreamNanos; }
    /** Retries made after the first attempt. */
    public int retries() { return retries; }

    public void upstream(String address, long nanos, int retries) {
        this.upstream = address;
        this.upstreamNanos = nanos;
        this.retries = retries;
    }
}
