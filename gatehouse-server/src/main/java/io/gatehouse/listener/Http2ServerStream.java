package io.gatehouse.listener;

import io.gatehouse.http.Downstream;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/2 stream: its request becomes one {@link HttpExchange}, served by the same routes, filters and proxy as an
 * HTTP/1.1 request, and this object is that exchange's {@link Downstream}. Frames are translated here both ways
 * (pseudo-headers to a request line and Host, cookie crumbs joined, connection-specific headers never sent, trailers
 * kept), so the proxy only ever sees {@code HttpObject}s.
 *
 * <p>Backpressure per stream: DATA the exchange has not asked for waits here, and its share of the stream's window
 * returns to the client only when the exchange takes it, so a client can never send more than one window ahead of
 * the upstream. The response is read from the upstream only while this stream is writable (its flow-control window
 * and the connection's are open); a stream that stays unwritable for {@code http2.send_timeout} is reset.
 */
final class Http2ServerStream implements Downstream {
    private static final Logger log = LoggerFactory.getLogger(Http2ServerStream.class);
    /** The protocol the access log names for HTTP/2 clients. */
    static final HttpVersion HTTP_2 = HttpVersion.valueOf("HTTP/2.0");
    private static final AsciiString[] EXTENSION_HEADERS;

    static {
        HttpConversionUtil.ExtensionHeaderNames[] names = HttpConversionUtil.ExtensionHeaderNames.values();
        EXTENSION_HEADERS = new AsciiString[names.length];
        for (int i = 0; i < names.length; i++) EXTENSION_HEADERS[i] = names[i].text();
    }

    private final Http2Connection connection;
    private final Listener listener;
    private final Http2Stream stream;

    private HttpExchange exchange;       // null before the request head, and after the exchange ended
    private boolean readingBody;         // the request body is still wanted by this exchange
    private boolean requestEnded;        // the client ended its side of the stream
    private boolean interimPending;      // a 1xx head was written; the empty last content that follows is dropped
    private boolean ended;               // the exchange was reported
    private long responseBytes;
    private ArrayDeque<HttpContent> waiting; // request body the exchange has not asked for yet
    private boolean bodyWanted;          // the exchange asked for more and nothing was waiting
    private boolean delivering;
    private ScheduledFuture<?> sendTimer;
    private long bodyBytes;              // request body received, taken or not

    Http2ServerStream(Http2Connection connection, Http2Stream stream) {
        this.connection = connection;
        this.listener = connection.listener();
        this.stream = stream;
    }

    // ---- inbound ----

    /** The request head. */
    void start(Http2Headers h2, boolean endStream) {
        requestEnded = endStream;
        String problem = malformed(h2);
        if (problem != null) {
            resetStream(Http2Error.PROTOCOL_ERROR, problem);
            return;
        }
        var limits = listener.config().limits();
        CharSequence rawPath = h2.path();
        if (rawPath != null && rawPath.length() > limits.maxUriLength()) {
            reject(HttpResponseStatus.REQUEST_URI_TOO_LONG, "uri_too_long");
            return;
        }
        if (h2.size() > limits.maxHeaders() + 4) { // the four request pseudo-headers are not header fields
            reject(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large");
            return;
        }
        HttpRequest request;
        try {
            // not validated again: the HPACK decoder already checked every name and value (validateHeaders)
            request = HttpConversionUtil.toHttpRequest(stream.id(), h2, false);
        } catch (Http2Exception e) {
            resetStream(Http2Error.PROTOCOL_ERROR, e.getMessage());
            return;
        }
        HttpHeaders headers = request.headers();
        for (AsciiString name : EXTENSION_HEADERS) headers.remove(name);
        readingBody = !endStream;
        if (readingBody && !HttpUtil.isContentLengthSet(request)) {
            // the upstream hop is HTTP/1.1: a body of unknown length travels chunked there
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }

        String host = io.gatehouse.http.HttpSyntax.hostOf(headers.get(HttpHeaderNames.HOST));
        HttpExchange ex = new HttpExchange(this, listener.name(), request, host, listener.ticker().nanoTime(), listener.completion());
        ex.clientVersion(HTTP_2);
        exchange = ex;
        if (!readingBody) ex.receiveBody(LastHttpContent.EMPTY_LAST_CONTENT);
        // no tunnels over HTTP/2 either (RFC 8441 extended CONNECT is not offered)
        connection.dispatchAfterRead(this);
    }

    /**
     * Hands the request on, once the frames read with its head were seen: a stream the client reset in the same read
     * (rapid reset) is closed by then and never reaches a filter, an endpoint or a connection to one.
     */
    void dispatch() {
        HttpExchange ex = exchange;
        if (ex == null || ended) return;
        Listener.Dispatch d;
        delivering = true; // body read with the head is held until its size is checked against the route's limit
        try {
            d = listener.dispatch(ex, ex.request().headers());
        } finally {
            delivering = false;
        }
        if (d != Listener.Dispatch.FILTERS || exchange != ex) return;
        if (!ex.bodyFits(bodyBytes)) {
            failBody(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large");
        } else if (bodyWanted) {
            requestMoreBody();
        }
    }

    Http2Stream stream() {
        return stream;
    }

    /** A fault of ours while serving this stream (see {@link Http2Connection}): RST_STREAM INTERNAL_ERROR. */
    void internalError() {
        HttpExchange ex = exchange;
        if (ex != null && ex.failureReason() == null) ex.failureReason("internal_error");
        if (ex != null) ex.onClientGone(); // the proxy lets go of the upstream
        abortWith(Http2Error.INTERNAL_ERROR);
    }

    /** Trailers ending the request body (a HEADERS frame after the head). */
    void trailers(Http2Headers h2, boolean endStream) {
        if (!endStream) return; // the decoder refuses a second HEADERS without END_STREAM as a stream error
        requestEnded = true;
        if (!readingBody || exchange == null) return;
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        try {
            HttpConversionUtil.addHttp2ToHttpHeaders(stream.id(), h2, last.trailingHeaders(), HttpVersion.HTTP_1_1, true, true);
        } catch (Http2Exception e) {
            resetStream(Http2Error.PROTOCOL_ERROR, e.getMessage());
            return;
        }
        arrived(last, 0);
    }

    /** A DATA frame; true if this stream keeps it (its window share returns when the exchange takes it). */
    boolean data(ByteBuf data, boolean endStream) {
        if (endStream) requestEnded = true;
        if (!readingBody || exchange == null) return false;
        int n = data.readableBytes();
        HttpExchange ex = exchange;
        bodyBytes += n; // taken or still waiting here
        if (!ex.bodyFits(bodyBytes)) {
            failBody(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large");
            return false;
        }
        HttpContent piece = endStream ? new DefaultLastHttpContent(data.retain()) : new DefaultHttpContent(data.retain());
        arrived(piece, n);
        return true;
    }

    private void arrived(HttpContent piece, int windowBytes) {
        if (piece instanceof LastHttpContent) readingBody = false;
        if (bodyWanted && !delivering && (waiting == null || waiting.isEmpty())) {
            bodyWanted = false;
            deliver(piece, windowBytes);
            return;
        }
        if (waiting == null) waiting = new ArrayDeque<>(4);
        waiting.add(piece);
    }

    private void deliver(HttpContent piece, int windowBytes) {
        HttpExchange ex = exchange;
        if (ex == null) {
            piece.release();
            return;
        }
        if (windowBytes > 0) connection.consumed(stream, windowBytes);
        ex.receiveBody(piece);
    }

    /** The body cannot be read to its end: whoever consumes it answers; the stream is reset after the answer. */
    private void failBody(HttpResponseStatus status, String reason) {
        HttpExchange ex = exchange;
        readingBody = false;
        dropWaiting();
        boolean consumed = ex.hasBodyReceiver();
        ex.failBody(status, reason);
        if (!consumed && exchange == ex && !ex.responseStarted()) LocalResponse.fail(ex, status, reason);
    }

    private void dropWaiting() {
        if (waiting == null) return;
        HttpContent c;
        while ((c = waiting.poll()) != null) c.release();
    }

    /**
     * What RFC 9113 §8.3 makes a malformed request that Netty's decoder lets through (it already refuses
     * connection-specific fields, TE other than trailers, upper-case names, misplaced or unknown pseudo-headers and
     * missing required ones), or null.
     */
    static String malformed(Http2Headers h) {
        CharSequence method = h.method();
        if (method == null) return "missing :method";
        boolean connect = HttpMethod.CONNECT.asciiName().contentEquals(method);
        if (connect) {
            if (h.authority() == null || h.path() != null || h.scheme() != null) return "malformed CONNECT pseudo-headers";
            return null;
        }
        CharSequence path = h.path();
        if (path == null || path.length() == 0) return "empty :path";
        if (path.charAt(0) != '/' && !(path.length() == 1 && path.charAt(0) == '*'
                && HttpMethod.OPTIONS.asciiName().contentEquals(method))) {
            return ":path is not origin-form";
        }
        if (h.scheme() == null || h.scheme().length() == 0) return "missing :scheme";
        return null;
    }

    /** The request is not served: a local answer with {@code status}; the stream then ends. */
    private void reject(HttpResponseStatus status, String reason) {
        log.info("rejected HTTP/2 request from {}: {} {}", connection.remote, status.code(), reason);
        listener.rejected();
        ended = true; // not an exchange: no access log line of its own
        HttpResponse r = LocalResponse.error(status, reason);
        ChannelFuture sent = writeResponseHead(r, true);
        connection.flushSoon();
        if (!requestEnded) resetAfter(sent);
    }

    /** Stream error: RST_STREAM with {@code error}; nothing is answered on this stream. */
    private void resetStream(Http2Error error, String why) {
        log.debug("{}: stream {} reset: {} ({})", connection.remote, stream.id(), error, why);
        listener.rejected();
        ended = true;
        readingBody = false;
        connection.reset(stream, error);
    }

    // ---- stream end ----

    /** Netty closed the stream: both sides ended, a reset either way, or the connection went away. */
    void closed() {
        cancelSendTimer();
        dropWaiting();
        HttpExchange ex = exchange;
        if (ex == null) return;
        // still in progress: the client reset the stream or the connection is gone
        exchange = null;
        if (readingBody) {
            readingBody = false;
            ex.failBody(null, "client_closed");
        }
        ex.discardEarlyBody();
        ex.onClientGone();
        if (ex.failureReason() == null) ex.failureReason("client_gone");
        exchangeEnded(ex);
    }

    private void exchangeEnded(HttpExchange ex) {
        if (ended) return;
        ended = true;
        ex.complete(responseBytes, listener.ticker().nanoTime());
    }

    // ---- Downstream ----

    @Override public EventLoop eventLoop() { return connection.context().channel().eventLoop(); }
    @Override public io.gatehouse.http.ConnectionInfo connection() { return connection.info; }

    @Override
    public void requestMoreBody() {
        if (exchange == null) return;
        bodyWanted = true;
        if (delivering) return; // the loop below picks it up
        delivering = true;
        try {
            HttpContent piece;
            while (bodyWanted && waiting != null && (piece = waiting.poll()) != null) {
                bodyWanted = false;
                deliver(piece, piece.content().readableBytes());
            }
        } finally {
            delivering = false;
        }
    }

    @Override
    public void write(HttpObject msg) {
        send(msg);
    }

    /** {@link #write}, with the future of the frame that carried it (the stream's end waits on the last one). */
    private ChannelFuture send(HttpObject msg) {
        HttpExchange ex = exchange;
        if (ex == null) {
            ReferenceCountUtil.release(msg);
            return connection.context().newFailedFuture(new IllegalStateException("exchange already ended"));
        }
        ChannelFuture last = null;
        if (msg instanceof HttpResponse response) {
            int code = response.status().code();
            if (code >= 100 && code < 200) {
                if (code == 101) { // cannot happen: Upgrade never reaches the proxy from HTTP/2
                    ReferenceCountUtil.release(msg);
                    abort("upgrade_over_http2");
                    return connection.context().newFailedFuture(new IllegalStateException("101 over HTTP/2"));
                }
                interimPending = !(msg instanceof LastHttpContent);
                Http2Headers headers = HttpConversionUtil.toHttp2Headers(response, false);
                ReferenceCountUtil.release(msg);
                return connection.writeHeaders(stream, headers, false);
            }
            ex.responseStarted(code);
            boolean complete = msg instanceof FullHttpMessage full
                    && !full.content().isReadable() && full.trailingHeaders().isEmpty();
            last = writeResponseHead(response, complete);
            if (complete) {
                ReferenceCountUtil.release(msg);
                responseDone(last);
                return last;
            }
            if (!(msg instanceof HttpContent)) return last;
        }
        HttpContent content = (HttpContent) msg;
        if (interimPending) {
            interimPending = false;
            content.release();
            return connection.context().newSucceededFuture();
        }
        responseBytes += content.content().readableBytes();
        if (content instanceof LastHttpContent end) {
            HttpHeaders trailers = end.trailingHeaders();
            if (trailers.isEmpty()) {
                last = connection.writeData(stream, content.content(), true);
            } else {
                if (content.content().isReadable()) connection.writeData(stream, content.content(), false);
                else content.release();
                last = connection.writeHeaders(stream, HttpConversionUtil.toHttp2Headers(trailers, false), true);
            }
            responseDone(last);
            return last;
        }
        if (!content.content().isReadable()) {
            content.release();
            return connection.context().newSucceededFuture();
        }
        return connection.writeData(stream, content.content(), false);
    }

    /** HEADERS of a final response; connection-specific fields are dropped by the conversion. */
    private ChannelFuture writeResponseHead(HttpResponse response, boolean endStream) {
        Http2Headers headers = HttpConversionUtil.toHttp2Headers(response, false);
        // response_bytes counts the head as on HTTP/1.1; its HPACK size (RFC 7541 4.1), as the compressed size
        // depends on what the connection's table held
        for (java.util.Map.Entry<CharSequence, CharSequence> h : headers) {
            responseBytes += h.getKey().length() + h.getValue().length() + 32;
        }
        return connection.writeHeaders(stream, headers, endStream);
    }

    private void responseDone(ChannelFuture lastWrite) {
        HttpExchange ex = exchange;
        ex.responseComplete(true);
        exchange = null;
        exchangeEnded(ex);
        ex.discardEarlyBody();
        readingBody = false;
        dropWaiting();
        if (!requestEnded) resetAfter(lastWrite);
    }

    /**
     * RFC 9113 §8.1: a complete response before the whole request; RST_STREAM NO_ERROR asks the client to stop
     * sending. Only once the response's last frame is out: a reset drops whatever of the stream is still queued.
     */
    private void resetAfter(ChannelFuture lastWrite) {
        lastWrite.addListener(f -> {
            if (stream.state() != Http2Stream.State.CLOSED) connection.reset(stream, Http2Error.NO_ERROR);
        });
    }

    @Override
    public void flush() {
        connection.flushSoon();
    }

    @Override
    public boolean isWritable() {
        boolean writable = connection.isWritable(stream);
        // whoever sees it blocked waits for writabilityChanged; a stream born with a closed window never changes
        if (!writable) armSendTimer();
        return writable;
    }

    void writabilityChanged(boolean writable) {
        if (writable) {
            cancelSendTimer();
            if (exchange != null) exchange.onWritable();
        } else {
            armSendTimer();
        }
    }

    private void armSendTimer() {
        if (exchange != null && sendTimer == null) {
            sendTimer = eventLoop().schedule(this::onSendTimeout,
                    listener.config().http2().sendTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private void onSendTimeout() {
        sendTimer = null;
        if (exchange == null || connection.isWritable(stream)) return;
        HttpExchange ex = exchange;
        ex.failureReason("send_timeout");
        ex.onClientGone(); // the proxy lets go of the upstream
        abort("send_timeout");
    }

    private void cancelSendTimer() {
        if (sendTimer != null) {
            sendTimer.cancel(false);
            sendTimer = null;
        }
    }

    @Override
    public void abort(String reason) {
        log.debug("{}: aborting stream {}: {}", connection.remote, stream.id(), reason);
        HttpExchange ex = exchange;
        if (ex != null && ex.failureReason() == null) ex.failureReason(reason);
        abortWith(Http2Error.CANCEL);
    }

    /** Resets the stream: the client sees the response is incomplete, while the connection and its other streams go on. */
    private void abortWith(Http2Error error) {
        HttpExchange ex = exchange;
        exchange = null;
        if (ex != null) {
            exchangeEnded(ex);
            ex.discardEarlyBody();
        }
        readingBody = false;
        dropWaiting();
        connection.reset(stream, error);
    }

    @Override
    public void tunnel(Channel upstream) {
        upstream.close();
        abort("tunnel_over_http2");
    }
}
