package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.util.function.UnaryOperator;

/**
 * One request and its response as it flows through a route's filters to the proxy, and the facts about it that
 * everyone reads (set once: the request id and the route at the start, the endpoint by the proxy, the outcome at the
 * end). Created by the listener's protocol handler when a request head arrives; the body streams in afterwards
 * through {@link BodyReceiver}. Confined to the downstream's event loop.
 *
 * <p>What filters use:
 * <ul>
 *   <li>the request head ({@link #request()}: method, URI, headers, all mutable until the filter proceeds);</li>
 *   <li>the request body as a stream: {@link #interceptBody} (any number of filters, in chain order), or
 *       {@link #bufferBody} to have it whole, bounded, and replayable;</li>
 *   <li>the response: {@link #wrapResponse} puts a {@link ResponseSink} in front of the client;</li>
 *   <li>{@link #onComplete}: one call when the exchange ends, however it ends;</li>
 *   <li>{@link #connection()}: the facts of the client connection.</li>
 * </ul>
 */
public final class HttpExchange {

    /** Receives the request body, piece by piece, after asking for it with {@link Downstream#requestMoreBody()}. */
    public interface BodyReceiver {
        void onBody(HttpContent content);

        /**
         * The request body could not be completed. {@code status} is the answer owed to the client if no response
         * started yet (413 too large, 400 malformed), or null when the client is gone.
         */
        void onBodyError(HttpResponseStatus status, String reason);
    }

    /** Hears the end of an exchange, once, whatever ended it (a response, a local answer, an abort, the client gone). */
    @FunctionalInterface
    public interface CompletionHook {
        void onComplete(HttpExchange exchange);
    }

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HttpExchange.class);

    private final Downstream downstream;
    private ResponseSink response;          // the downstream, or the outermost filter's sink in front of it
    private final HttpRequest request;
    private final String host;
    private final String path;
    private String query;
    private final long startNanos;
    private final String listener;
    private RouteInfo route;
    private CharSequence requestId;   // an AsciiString when generated: written into headers without re-encoding
    private Object span;              // the tracing span of the whole exchange (an OpenTelemetry Span), or null

    private BodyReceiver bodyReceiver;
    private UnaryOperator<BodyReceiver> bodyInterceptor;
    private Runnable clientGoneAction;
    // Body pieces that arrived with the head before anyone attached (bounded by one socket read).
    // The first piece waits alone; a queue is made only for a second one.
    private HttpContent earlyFirst;
    private ArrayDeque<HttpContent> earlyBody;
    private boolean requestComplete;
    private long requestBodyBytes;
    private String bodyError;
    private HttpResponseStatus bodyErrorStatus;
    private ByteBuf bufferedBody;     // the whole request body, when a filter asked for it (bufferBody)

    private boolean responseStarted;
    private boolean responseComplete;
    private int responseStatus;
    private String failureReason;
    private boolean localAnswer;
    private boolean clientGone;
    private ClientListener clientListener;

    private final CompletionHook baseHook;  // the listener's: metrics and the access log
    private CompletionHook hook;            // filters' hooks, composed
    private boolean completed;
    private long endNanos;
    private long responseBytes;

    private HttpVersion clientVersion = HttpVersion.HTTP_1_1;
    private String endpoint;
    private long endpointNanos = -1;
    private int retries;

    /**
     * @param target the request target as received (origin-form, or absolute-form whose authority is skipped)
     * @param base   the listener's completion hook, called last; may be null (tests)
     */
    public HttpExchange(Downstream downstream, String listener, HttpRequest request, String host, long startNanos,
                        CompletionHook base) {
        this.downstream = downstream;
        this.response = downstream;
        this.listener = listener;
        this.request = request;
        this.host = host;
        this.startNanos = startNanos;
        this.baseHook = base;
        String uri = request.uri();
        int q = uri.indexOf('?');
        String p = q < 0 ? uri : uri.substring(0, q);
        if (p.startsWith("http://") || p.startsWith("https://")) {
            // absolute-form: the path starts after the authority
            int slash = p.indexOf('/', p.indexOf("//") + 2);
            p = slash < 0 ? "/" : p.substring(slash);
        }
        this.path = p;
        this.query = q < 0 ? null : uri.substring(q + 1);
    }

    /** The protocol's side of the client (the innermost response sink); filters write through {@link #response()}. */
    public Downstream downstream() { return downstream; }

    public EventLoop eventLoop() { return downstream.eventLoop(); }

    /** Facts of the client connection. */
    public ConnectionInfo connection() { return downstream.connection(); }

    /** Where the response goes: the client, through every sink filters put in front of it. */
    public ResponseSink response() { return response; }

    /**
     * Puts a sink in front of the response (compression, a cache's tee, metering): everything written to the client
     * from then on goes through {@code wrapper.apply(current)}. Any number of filters may wrap, before the response
     * starts; the last to wrap sees the response first.
     */
    public void wrapResponse(UnaryOperator<ResponseSink> wrapper) {
        if (responseStarted) throw new IllegalStateException("the response already started");
        this.response = wrapper.apply(response);
    }

    /**
     * Puts a step between the client's body and whoever consumes it (decompression, a signature check): the body then
     * reaches the consumer through {@code interceptor}'s receiver. Any number of filters may intercept, before the
     * consumer attaches; the body passes them in chain order.
     */
    public void interceptBody(UnaryOperator<BodyReceiver> interceptor) {
        if (bodyReceiver != null) throw new IllegalStateException("the body already has its consumer");
        UnaryOperator<BodyReceiver> before = bodyInterceptor;
        // an earlier filter's step sits nearer the client: it wraps what the later ones made
        this.bodyInterceptor = before == null ? interceptor : r -> before.apply(interceptor.apply(r));
    }

    public String listener() { return listener; }
    public HttpRequest request() { return request; }
    /** Request host, lower case, without port; empty if none. */
    public String host() { return host; }
    /** Request path without the query. */
    public String path() { return path; }
    /** The query string after '?', or null. */
    public String query() { return query; }
    /** Replaces the query string sent upstream (a filter removing a credential from it); null for none. */
    public void query(String query) { this.query = query; }
    public long startNanos() { return startNanos; }
    /** The route that took the exchange, set once at routing; null before that and when none matched. */
    public RouteInfo route() { return route; }
    public void route(RouteInfo route) { this.route = route; }
    public String requestId() { return requestId == null ? null : requestId.toString(); }
    /** The request id as set (an AsciiString when Gatehouse made it), for headers. */
    public CharSequence requestIdValue() { return requestId; }
    public void requestId(CharSequence id) { this.requestId = id; }
    /** The tracing span covering the whole exchange (an OpenTelemetry {@code Span}), or null when not traced. */
    public Object span() { return span; }
    public void span(Object span) { this.span = span; }

    // ---- request body ----

    /** Attaches the body consumer (through the filters' interceptors) and delivers anything that already arrived. */
    public void bodyReceiver(BodyReceiver receiver) {
        if (bodyInterceptor != null) receiver = bodyInterceptor.apply(receiver);
        attach(receiver);
    }

    private void attach(BodyReceiver receiver) {
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

    /** True if a body of {@code total} bytes so far fits in the route's limit (both protocols ask as bytes arrive). */
    public boolean bodyFits(long total) {
        long limit = route == null ? 0 : route.maxBodySize();
        return limit <= 0 || total <= limit;
    }

    /** The request body failed; see {@link BodyReceiver#onBodyError}. */
    public void failBody(HttpResponseStatus status, String reason) {
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

    /**
     * Reads the whole request body (through the interceptors so far) into memory, at most {@code maxBytes}, then runs
     * {@code then}: validation, transcoding and signature checks need it whole. A larger body is answered 413 and
     * {@code then} never runs; nothing is ever buffered beyond the bound. Afterwards {@link #bufferedBody()} holds it,
     * and whoever consumes the body next gets it as one piece, with {@code Content-Length} set: it is replayable (a
     * retry sends it again).
     */
    public void bufferBody(long maxBytes, Runnable then) {
        if (bodyReceiver != null) throw new IllegalStateException("the body already has its consumer");
        UnaryOperator<BodyReceiver> interceptors = bodyInterceptor;
        bodyInterceptor = null; // applied once, here: the next consumer gets the decoded body as it is
        BodyReceiver collector = new BodyReceiver() {
            private CompositeByteBuf parts;
            private boolean failed;

            @Override
            public void onBody(HttpContent content) {
                if (failed) {
                    content.release();
                    return;
                }
                ByteBuf piece = content.content();
                long size = (parts == null ? 0 : parts.readableBytes()) + piece.readableBytes();
                if (size > maxBytes) {
                    content.release();
                    failed = true;
                    release();
                    if (!responseStarted) LocalResponse.fail(HttpExchange.this, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large");
                    return;
                }
                if (parts == null) parts = piece.alloc().compositeBuffer(64);
                if (piece.isReadable()) parts.addComponent(true, piece.retain());
                boolean last = content instanceof LastHttpContent;
                content.release();
                if (!last) {
                    downstream.requestMoreBody();
                    return;
                }
                bufferedBody = parts;
                parts = null;
                bodyReceiver = null;
                earlyFirst = new DefaultLastHttpContent(bufferedBody.retainedDuplicate());
                request.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
                request.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bufferedBody.readableBytes());
                then.run();
            }

            @Override
            public void onBodyError(HttpResponseStatus status, String reason) {
                failed = true;
                release();
                if (status != null && !responseStarted) LocalResponse.fail(HttpExchange.this, status, reason);
            }

            private void release() {
                if (parts != null) {
                    parts.release();
                    parts = null;
                }
            }
        };
        attach(interceptors == null ? collector : interceptors.apply(collector));
        // what arrived with the head is in; the collector asks for each further piece itself
        if (bufferedBody == null && !requestComplete) downstream.requestMoreBody();
    }

    /** A filter buffered the body ({@link #bufferBody}): it is whole in memory, and can be sent again. */
    public boolean hasBufferedBody() {
        return bufferedBody != null;
    }

    /** The whole request body after {@link #bufferBody}, read-only; null before (or if no filter buffered it). */
    public ByteBuf bufferedBody() {
        return bufferedBody == null ? null : bufferedBody.asReadOnly();
    }

    /**
     * Replaces a buffered body with {@code body} (a transform: transcoding, a rewritten JSON document); takes
     * ownership of it. Only after {@link #bufferBody} and before the body's consumer attaches.
     */
    public void replaceBufferedBody(ByteBuf body) {
        if (bufferedBody == null || bodyReceiver != null) {
            body.release();
            throw new IllegalStateException("no buffered body to replace");
        }
        ReferenceCountUtil.release(earlyFirst);
        bufferedBody.release();
        bufferedBody = body;
        earlyFirst = new DefaultLastHttpContent(body.retainedDuplicate());
        request.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
    }

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

    /** Gatehouse answered this exchange itself (an error, a direct response, a redirect, a 401 or 429, a cache hit). */
    public boolean localAnswer() { return localAnswer; }
    public void localAnswer(boolean local) { this.localAnswer = local; }

    /** Hears about the client side of the exchange: it can take more again, or it went away. */
    public interface ClientListener {
        void onClientWritable();

        void onClientGone();
    }

    public void clientListener(ClientListener listener) { this.clientListener = listener; }

    /** The listener set, or null (a filter that serves the response itself chains to it). */
    public ClientListener clientListener() { return clientListener; }

    /** Called when the downstream becomes writable again. */
    public void onWritable() {
        if (clientListener != null) clientListener.onClientWritable();
    }

    /** Called when the client goes away before the exchange ended (upstream resources are released then). */
    public void onClientGone() {
        clientGone = true;
        if (clientListener != null) clientListener.onClientGone();
        if (clientGoneAction != null) clientGoneAction.run();
    }

    /** The client went away before the exchange ended. */
    public boolean clientGone() { return clientGone; }

    private boolean readOnWhenClientGone;

    /**
     * A response sink that stores the response (a cache's tee) asks the proxy to read the response to its end even if
     * the client goes away, as Varnish does and nginx's {@code proxy_ignore_client_abort}: the read stays bounded by
     * the call's timeouts. Whoever sets it clears it when it no longer needs the rest, and then tells the client
     * listener it had wrapped ({@link ClientListener#onClientGone}) again if the client is gone, so the read stops.
     * The completion hooks still run when the client leaves. The call's end clears it.
     */
    public void readOnWhenClientGone(boolean readOn) { this.readOnWhenClientGone = readOn; }

    /** See {@link #readOnWhenClientGone(boolean)}. */
    public boolean readOnWhenClientGone() { return readOnWhenClientGone; }

    /** Runs {@code action} after the client listener if the client goes away first (a filter freeing what it holds). */
    public void whenClientGone(Runnable action) {
        Runnable before = clientGoneAction;
        this.clientGoneAction = before == null ? action : () -> { before.run(); action.run(); };
    }

    // ---- completion ----

    /**
     * Runs {@code hook} when the exchange ends, once, however it ends (the response sent, a local answer, an abort,
     * the client gone). Hooks run in the order added, before the listener's own (metrics, access log).
     */
    public void onComplete(CompletionHook hook) {
        CompletionHook before = this.hook;
        this.hook = before == null ? hook : e -> { before.onComplete(e); hook.onComplete(e); };
    }

    /**
     * Called by the protocol handler when the exchange ends; {@code responseBytes} went to the client for it. Only the
     * first call counts: hooks fire exactly once.
     */
    public void complete(long responseBytes, long endNanos) {
        if (completed) return;
        completed = true;
        this.responseBytes = responseBytes;
        this.endNanos = endNanos;
        if (bufferedBody != null) {
            bufferedBody.release();
            bufferedBody = null;
        }
        if (hook != null) {
            try {
                hook.onComplete(this);
            } catch (RuntimeException e) {
                log.error("{} {}: a completion hook failed", listener, path, e);
            }
        }
        if (baseHook != null) baseHook.onComplete(this);
    }

    /** The exchange ended ({@link #complete} ran): nothing more may be sent for it. */
    public boolean completed() { return completed; }
    /** Bytes of the response sent to the client (head and body); set at completion. */
    public long responseBytes() { return responseBytes; }
    /** When the exchange ended (ticker nanoseconds); set at completion. */
    public long endNanos() { return endNanos; }
    /** The status the client got, or 499 (as nginx logs it) when it went away before an answer started. */
    public int status() { return responseStarted ? responseStatus : 499; }

    // ---- the client, after trusted proxies ----

    private java.net.InetAddress clientAddress;
    private io.netty.util.AsciiString clientIp;

    /**
     * Settles the client's address when the exchange starts, from the request's headers as received (a filter that
     * rewrites {@code X-Forwarded-For} later changes what goes upstream, not who the client is): the connection's
     * peer, or, when that peer is one of {@code trusted} proxies, the nearest address in {@code X-Forwarded-For} that
     * is not one (read from the right: what a client writes on the left is its own claim).
     */
    public void trustedProxies(Cidrs trusted) {
        java.net.InetSocketAddress peer = connection().remoteAddress();
        java.net.InetAddress a = peer == null ? null : peer.getAddress();
        if (a != null && !trusted.isEmpty() && trusted.contains(a)) {
            java.util.List<String> hops = request.headers().getAll(FORWARDED_FOR);
            outer:
            for (int i = hops.size() - 1; i >= 0; i--) {
                String[] parts = hops.get(i).split(",");
                for (int j = parts.length - 1; j >= 0; j--) {
                    java.net.InetAddress hop = io.netty.util.NetUtil.createInetAddressFromIpAddressString(parts[j].strip());
                    if (hop == null) break outer;   // not an address: trust nothing further left
                    a = hop;
                    if (!trusted.contains(hop)) break outer;
                }
            }
        }
        clientAddress = a;
        // the peer's text, formatted once per connection, unless a trusted proxy spoke for another client
        clientIp = peer != null && a == peer.getAddress() ? connection().remoteIp()
                : a == null ? connection().remoteIp() : new io.netty.util.AsciiString(a.getHostAddress());
    }

    /**
     * The client's address after trusted proxies, as settled when the exchange started ({@link #trustedProxies}).
     * Allow and deny lists, rate limits by IP, hashing on the client and the access log use this.
     */
    public java.net.InetAddress clientAddress() {
        if (clientIp != null) return clientAddress;
        java.net.InetSocketAddress peer = connection().remoteAddress();
        return peer == null ? null : peer.getAddress();
    }

    /** {@link #clientAddress()} as text (the access log's {@code client_ip}). */
    public io.netty.util.AsciiString clientIp() {
        return clientIp != null ? clientIp : connection().remoteIp();
    }

    private static final io.netty.util.AsciiString FORWARDED_FOR = io.netty.util.AsciiString.cached("x-forwarded-for");

    // ---- what filters attach ----

    private Object[] attributes;   // key, value, key, value…: a handful at most, so a scan beats a map

    /** What a filter attached under {@code key} (the caller's identity, a rate-limit decision…), or null. */
    @SuppressWarnings("unchecked")
    public <T> T attribute(io.netty.util.AttributeKey<T> key) {
        Object[] a = attributes;
        if (a == null) return null;
        for (int i = 0; i < a.length && a[i] != null; i += 2) if (a[i] == key) return (T) a[i + 1];
        return null;
    }

    /** Attaches {@code value} under {@code key} for the filters after this one, the proxy and the completion hooks. */
    public <T> void attribute(io.netty.util.AttributeKey<T> key, T value) {
        Object[] a = attributes;
        if (a == null) a = attributes = new Object[8];
        int i = 0;
        while (i < a.length && a[i] != null && a[i] != key) i += 2;
        if (i == a.length) a = attributes = java.util.Arrays.copyOf(a, a.length * 2);
        a[i] = key;
        a[i + 1] = value;
    }

    // ---- facts for telemetry ----

    /** The protocol the client spoke (the proxy rewrites the request's own version for the endpoint hop). */
    public HttpVersion clientVersion() { return clientVersion; }
    public void clientVersion(HttpVersion version) { this.clientVersion = version; }

    /** The endpoint address of the last attempt, or null when none was made. */
    public String endpoint() { return endpoint; }
    /** Duration of the last endpoint attempt in nanoseconds, or -1 when none was made. */
    public long endpointNanos() { return endpointNanos; }
    /** Retries made after the first attempt. */
    public int retries() { return retries; }

    public void endpoint(String address, long nanos, int retries) {
        this.endpoint = address;
        this.endpointNanos = nanos;
        this.retries = retries;
    }
}
