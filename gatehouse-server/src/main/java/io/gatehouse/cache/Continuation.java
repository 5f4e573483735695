package io.gatehouse.cache;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.cluster.UpstreamCall;
import io.gatehouse.cluster.loadbalancer.HashKey;
import io.gatehouse.http.HttpExchange;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.util.List;
import java.util.Locale;

/**
 * The rest of a response for one coalesced waiter that has read the flight's buffer to its end after the response
 * turned out larger than {@code max_object_size} (the buffer stops there; see {@link Flight}). The waiter already has
 * the head and {@code offset} bytes, so it asks the origin, through the route's cluster, for what follows:
 * <ul>
 *   <li>{@code Range: bytes=offset-} with {@code If-Range} on the response's strong {@code ETag} (else its
 *       {@code Last-Modified}): a 206 starting at {@code offset} is streamed on; a 200 means the representation
 *       changed in between, which cannot be spliced onto the bytes sent, so the waiter's response is aborted (the
 *       client sees a broken response, never a silently wrong or short one);</li>
 *   <li>without a validator: a plain GET whose first {@code offset} bytes are skipped (an origin that changes a
 *       response without a validator cannot be told apart; the same is true of any client resuming it).</li>
 * </ul>
 * {@code Accept-Encoding} names the coding of the bytes already sent. It streams with the waiter's own backpressure (its client's writability pauses this origin read alone). Any other
 * answer, or a failure, aborts the waiter's response. Confined to the waiter's event loop.
 */
final class Continuation implements UpstreamCall.Receiver, UpstreamCall.RequestBody, HttpExchange.ClientListener {
    /** Request fields not sent on: the client's own conditionals and range, and framing. */
    private static final List<String> NOT_SENT = List.of("if-none-match", "if-modified-since", "if-match",
            "if-unmodified-since", "range", "if-range", "content-length", "expect");

    private final CacheFilter filter;
    private final HttpExchange ex;
    private final Flight.Stream stream;
    private final long offset;
    private HttpRequest request;
    private UpstreamCall call;
    private boolean ranged, delivered, failed;
    private long skip;          // bytes of the origin's body still to drop (a whole response to a plain GET)

    Continuation(CacheFilter filter, HttpExchange ex, Flight.Stream stream, long offset) {
        this.filter = filter;
        this.ex = ex;
        this.stream = stream;
        this.offset = offset;
    }

    /** Sends the request; on the waiter's event loop. */
    void start() {
        if (filter.origin == null) {
            ex.response().abort("cache_continuation_no_cluster");
            return;
        }
        HttpHeaders from = ex.request().headers();
        HttpHeaders h = new DefaultHttpHeaders();
        for (var e : from) {
            String n = e.getKey().toLowerCase(Locale.ROOT);
            if (HopByHop.isHopByHop(n, from) || NOT_SENT.contains(n)) continue;
            h.add(n, e.getValue());
        }
        if (!h.contains(HttpHeaderNames.HOST)) h.set(HttpHeaderNames.HOST, ex.host());
        // the rest must be in the coding of the bytes already sent, whatever this client accepts
        String coding = stream.headers.get(HttpHeaderNames.CONTENT_ENCODING);
        h.set(HttpHeaderNames.ACCEPT_ENCODING, coding == null ? "identity" : coding);
        String validator = validator(stream.headers);
        if (validator != null) {
            ranged = true;
            h.set(HttpHeaderNames.RANGE, "bytes=" + offset + "-");
            h.set(HttpHeaderNames.IF_RANGE, validator);
        } else {
            skip = offset;
        }
        String target = ex.path() + (ex.query() == null ? "" : "?" + ex.query());
        request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, target, h);
        call = filter.origin.client().call(ex.eventLoop(), request, this, this, null, null, true, false,
                HashKey.NO_KEY, filter.origin.ticker().nanoTime());
        if (!call.admit()) {
            ex.response().abort("cluster_max_requests");
            return;
        }
        ex.clientListener(this);
        call.start(-1);   // bounded by the cluster's own timeouts (connect, response head, idle)
    }

    /** A strong ETag, else Last-Modified, else null (If-Range takes no weak tag: RFC 9110 §13.1.5). */
    static String validator(HttpHeaders h) {
        String etag = h.get(HttpHeaderNames.ETAG);
        if (etag != null && !etag.strip().startsWith("W/")) return etag.strip();
        return h.get(HttpHeaderNames.LAST_MODIFIED);
    }

    // ---- request body: none ----

    @Override
    public void start(UpstreamCall c) {
        delivered = true;
        c.sendBody(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    @Override
    public boolean complete() { return delivered; }

    @Override
    public void requestMore() {}

    @Override
    public boolean held() { return true; }

    // ---- response ----

    @Override
    public void onAttempt(Endpoint endpoint) {}

    @Override
    public void onInterim(HttpObject message) {
        ReferenceCountUtil.release(message);
    }

    @Override
    public boolean onHead(HttpResponse head, Endpoint endpoint) {
        int code = head.status().code();
        boolean fits = ranged
                ? code == 206 && startsAt(head.headers().get(HttpHeaderNames.CONTENT_RANGE), offset)
                : code == stream.status;
        if (!fits) {
            // another representation, or not the part asked for: what the client has cannot be completed honestly
            failed = true;
            ex.response().abort("cache_continuation_" + code);
            ex.eventLoop().execute(() -> call.cancel("cache_continuation_" + code));
        }
        return UpstreamCall.reusable(request, head);
    }

    static boolean startsAt(String contentRange, long offset) {
        if (contentRange == null) return false;
        String v = contentRange.strip();
        if (!v.regionMatches(true, 0, "bytes ", 0, 6)) return false;
        int dash = v.indexOf('-', 6);
        if (dash < 0) return false;
        try {
            return Long.parseLong(v.substring(6, dash).strip()) == offset;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    @Override
    public void onResponseBody(HttpContent content) {
        if (failed || ex.clientGone()) {
            content.release();
            return;
        }
        var buf = content.content();
        if (skip > 0) {
            int drop = (int) Math.min(skip, buf.readableBytes());
            buf.skipBytes(drop);
            skip -= drop;
        }
        boolean last = content instanceof LastHttpContent;
        if (buf.isReadable()) ex.response().write(new DefaultHttpContent(buf.retain()));
        content.release();
        if (last) {
            if (skip > 0) {
                failed = true;   // the origin's body is now shorter than what the client already has
                ex.response().abort("cache_continuation_short");
                return;
            }
            ex.response().write(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    @Override
    public boolean onReadComplete() {
        if (failed) return true;   // drains the rest off the connection (or the cancel below ends it)
        ex.response().flush();
        return ex.response().isWritable();
    }

    @Override
    public void onResponseEnd() {
        if (!failed) ex.response().flush();
    }

    @Override
    public void onTunnel(Channel channel) {
        channel.close();   // never asked for an upgrade
    }

    @Override
    public void onFailed(HttpResponseStatus status, String reason) {
        if (failed) return;
        failed = true;
        ex.response().abort(reason);
    }

    @Override
    public void onAttemptEnd(Endpoint endpoint, long nanos, int retries) {}

    @Override
    public int onFinish(String reason, Endpoint lastEndpoint, long attemptNanos) {
        return ex.responseStarted() ? ex.responseStatus() : 502;
    }

    // ---- the waiter's client ----

    @Override
    public void onClientWritable() {
        if (call != null && !call.done() && call.readPaused() && ex.response().isWritable()) call.resume();
    }

    @Override
    public void onClientGone() {
        if (call != null && !call.done()) call.cancel("client_gone");
    }
}
