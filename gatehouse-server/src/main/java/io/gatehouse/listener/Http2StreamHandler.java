package io.gatehouse.listener;

import io.gatehouse.filter.FilterChain;
import io.gatehouse.http.Downstream;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.gatehouse.route.Route;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/2 stream: its request becomes one {@link HttpExchange}, served by the same routes, filters and proxy as an
 * HTTP/1.1 request, and this handler is that exchange's {@link Downstream}. Frames are translated here both ways
 * (pseudo-headers to a request line and Host, cookie crumbs joined, connection-specific headers never sent, trailers
 * kept), so the proxy only ever sees {@code HttpObject}s.
 *
 * <p>Backpressure per stream: the stream's frames are read only when the exchange asks for more body, so the
 * client's window for this stream reopens only as the upstream takes the body; the response is read from the upstream
 * only while this stream's channel is writable (its flow-control window and the connection's are open). A stream
 * that stays unwritable for {@code http2.send_timeout} is reset.
 */
final class Http2StreamHandler extends ChannelInboundHandlerAdapter implements Downstream {
    private static final Logger log = LoggerFactory.getLogger(Http2StreamHandler.class);
    /** The protocol the access log names for HTTP/2 clients. */
    static final HttpVersion HTTP_2 = HttpVersion.valueOf("HTTP/2.0");
    private static final AsciiString[] EXTENSION_HEADERS;

    static {
        HttpConversionUtil.ExtensionHeaderNames[] names = HttpConversionUtil.ExtensionHeaderNames.values();
        EXTENSION_HEADERS = new AsciiString[names.length];
        for (int i = 0; i < names.length; i++) EXTENSION_HEADERS[i] = names[i].text();
    }

    private final Listener listener;
    private final Http2Connection connection;
    private ChannelHandlerContext ctx;
    private InetSocketAddress remote;
    private AsciiString remoteIp;
    private boolean secure;
    private io.gatehouse.tls.ClientCertificate clientCert;   // verified in the connection's handshake, or null

    private HttpExchange exchange;       // null before the request head, and after the exchange ended
    private boolean opened;              // counted in the connection's open streams
    private boolean readingBody;         // the request body is still arriving
    private boolean interimPending;      // a 1xx head was written; the empty last content that follows is dropped
    private boolean ended;               // the exchange was reported
    private long responseBytes;
    private ScheduledFuture<?> sendTimer;

    Http2StreamHandler(Listener listener, Http2Connection connection) {
        this.listener = listener;
        this.connection = connection;
    }

    // ---- stream lifecycle ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.remote = connection.remote;
        this.remoteIp = connection.remoteIp;
        this.secure = connection.secure;
        this.clientCert = connection.clientCert; // verified in the connection's handshake: applies to every stream
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        opened = true;
        connection.streamOpened();
        ctx.read(); // the request head
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelSendTimer();
        if (opened) connection.streamClosed();
        clientGone();
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame reset) {
            log.debug("{}: stream {} reset by the client ({})", remote, streamId(), reset.errorCode());
            clientGone();
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("{}: stream {} error: {}", remote, streamId(), cause.toString());
        clientGone();
        // an unhandled HTTP/2 exception resets the stream with its error code (the child channel's own handling)
        ctx.fireExceptionCaught(cause);
    }

    private int streamId() {
        return ((Http2StreamChannel) ctx.channel()).stream().id();
    }

    /** The client reset the stream or the connection went away: the exchange ends here. */
    private void clientGone() {
        HttpExchange ex = exchange;
        if (ex == null) return;
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
        listener.exchangeDone(ex, responseBytes);
    }

    // ---- inbound ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2HeadersFrame headers) {
                if (exchange == null && !ended) {
                    startExchange(headers);
                } else if (readingBody && headers.isEndStream()) {
                    LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
                    HttpConversionUtil.addHttp2ToHttpHeaders(streamId(), headers.headers(), last.trailingHeaders(),
                            HttpVersion.HTTP_1_1, true, true);
                    deliverBody(last);
                }
            } else if (msg instanceof Http2DataFrame data) {
                if (readingBody) {
                    HttpContent piece = data.isEndStream() ? new DefaultLastHttpContent(data.content().retain())
                            : new DefaultHttpContent(data.content().retain());
                    deliverBody(piece);
                }
            }
        } catch (Http2Exception e) {
            resetStream(Http2Error.PROTOCOL_ERROR, e.getMessage());
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void deliverBody(HttpContent content) {
        HttpExchange ex = exchange;
        long limit = ex.route() == null ? 0 : ex.route().maxBodySize();
        if (limit > 0 && ex.requestBodyBytes() + content.content().readableBytes() > limit) {
            content.release();
            failBody(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large");
            return;
        }
        if (content instanceof LastHttpContent) readingBody = false;
        ex.receiveBody(content);
    }

    /** The body cannot be read to its end: whoever consumes it answers; the stream is reset after the answer. */
    private void failBody(HttpResponseStatus status, String reason) {
        HttpExchange ex = exchange;
        boolean consumed = ex.hasBodyReceiver();
        ex.failBody(status, reason);
        if (!consumed && exchange == ex && !ex.responseStarted()) LocalResponse.fail(ex, status, reason);
    }

    private void startExchange(Http2HeadersFrame frame) throws Http2Exception {
        Http2Headers h2 = frame.headers();
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
        // not validated again: the HPACK decoder already checked every name and value (validateHeaders on the codec)
        HttpRequest request = HttpConversionUtil.toHttpRequest(streamId(), h2, false);
        HttpHeaders headers = request.headers();
        for (AsciiString name : EXTENSION_HEADERS) headers.remove(name);
        readingBody = !frame.isEndStream();
        if (readingBody && !HttpUtil.isContentLengthSet(request)) {
            // the upstream hop is HTTP/1.1: a body of unknown length travels chunked there
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }

        String uri = request.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        String query = q < 0 ? null : uri.substring(q + 1);
        String host = io.gatehouse.http.HttpSyntax.hostOf(headers.get(HttpHeaderNames.HOST));
        HttpExchange ex = new HttpExchange(this, listener.name(), request, host, path, query, listener.ticker().nanoTime());
        ex.clientVersion(HTTP_2);
        exchange = ex;
        if (!readingBody) ex.receiveBody(LastHttpContent.EMPTY_LAST_CONTENT);

        // no tunnels over HTTP/2 either (RFC 8441 extended CONNECT is not offered)
        listener.dispatch(ex, headers, clientCert);
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
        log.info("rejected HTTP/2 request from {}: {} {}", remote, status.code(), reason);
        listener.rejected();
        ended = true; // not an exchange: no access log line of its own
        HttpResponse r = LocalResponse.error(status, reason);
        writeResponseHead(r, true);
        ctx.flush();
        if (readingBody) resetAfterResponse();
    }

    /** Stream error: RST_STREAM with {@code error}; nothing is answered on this stream. */
    private void resetStream(Http2Error error, String why) {
        log.debug("{}: stream {} reset: {} ({})", remote, streamId(), error, why);
        listener.rejected();
        ended = true;
        readingBody = false;
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(error));
    }


    // ---- Downstream ----

    @Override public EventLoop eventLoop() { return ctx.channel().eventLoop(); }
    @Override public InetSocketAddress remoteAddress() { return remote; }
    @Override public AsciiString remoteIp() { return remoteIp; }
    @Override public String scheme() { return secure ? "https" : "http"; }

    @Override public io.gatehouse.tls.ClientCertificate clientCertificate() { return clientCert; }

    @Override
    public void requestMoreBody() {
        if (readingBody && exchange != null) ctx.read(); // also sends the WINDOW_UPDATE for what was consumed
    }

    @Override
    public ChannelFuture write(HttpObject msg) {
        HttpExchange ex = exchange;
        if (ex == null) {
            ReferenceCountUtil.release(msg);
            return ctx.newFailedFuture(new IllegalStateException("exchange already ended"));
        }
        ChannelFuture last = null;
        if (msg instanceof HttpResponse response) {
            int code = response.status().code();
            if (code >= 100 && code < 200) {
                if (code == 101) { // cannot happen: Upgrade never reaches the proxy from HTTP/2
                    ReferenceCountUtil.release(msg);
                    abort("upgrade_over_http2");
                    return ctx.newFailedFuture(new IllegalStateException("101 over HTTP/2"));
                }
                interimPending = !(msg instanceof LastHttpContent);
                Http2Headers headers = HttpConversionUtil.toHttp2Headers(response, false);
                ReferenceCountUtil.release(msg);
                return ctx.write(new DefaultHttp2HeadersFrame(headers, false));
            }
            ex.responseStarted(code);
            boolean complete = msg instanceof FullHttpMessage full
                    && !full.content().isReadable() && full.trailingHeaders().isEmpty();
            last = writeResponseHead(response, complete);
            if (complete) {
                ReferenceCountUtil.release(msg);
                responseDone();
                return last;
            }
            if (!(msg instanceof HttpContent)) return last;
        }
        HttpContent content = (HttpContent) msg;
        if (interimPending) {
            interimPending = false;
            content.release();
            return ctx.newSucceededFuture();
        }
        responseBytes += content.content().readableBytes();
        if (content instanceof LastHttpContent end) {
            HttpHeaders trailers = end.trailingHeaders();
            if (trailers.isEmpty()) {
                last = ctx.write(new DefaultHttp2DataFrame(content.content(), true));
            } else {
                if (content.content().isReadable()) ctx.write(new DefaultHttp2DataFrame(content.content(), false));
                else content.release();
                last = ctx.write(new DefaultHttp2HeadersFrame(HttpConversionUtil.toHttp2Headers(trailers, false), true));
            }
            responseDone();
            return last;
        }
        if (!content.content().isReadable()) {
            content.release();
            return ctx.newSucceededFuture();
        }
        return ctx.write(new DefaultHttp2DataFrame(content.content(), false));
    }

    /** HEADERS of a final response; connection-specific fields are dropped by the conversion. */
    private ChannelFuture writeResponseHead(HttpResponse response, boolean endStream) {
        HttpExchange ex = exchange;
        if (secure && ex != null && ex.route() != null && ex.route().config().hsts() != null) {
            // RFC 6797 §7.2: only over a secure transport
            response.headers().set("strict-transport-security", ex.route().config().hsts().headerValue());
        }
        Http2Headers headers = HttpConversionUtil.toHttp2Headers(response, false);
        return ctx.write(new DefaultHttp2HeadersFrame(headers, endStream));
    }

    private void responseDone() {
        HttpExchange ex = exchange;
        ex.responseComplete(true);
        exchange = null;
        exchangeEnded(ex);
        ex.discardEarlyBody();
        if (readingBody) {
            readingBody = false;
            resetAfterResponse();
        }
    }

    /** RFC 9113 §8.1: a complete response before the whole request; NO_ERROR asks the client to stop sending. */
    private void resetAfterResponse() {
        ctx.write(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
        ctx.flush();
    }

    @Override
    public void flush() {
        ctx.flush();
    }

    @Override
    public boolean isWritable() {
        return ctx.channel().isWritable();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            cancelSendTimer();
            if (exchange != null) exchange.onWritable();
        } else if (exchange != null && sendTimer == null) {
            sendTimer = ctx.executor().schedule(this::onSendTimeout,
                    listener.config().http2().sendTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void onSendTimeout() {
        sendTimer = null;
        if (exchange == null || ctx.channel().isWritable()) return;
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
        log.debug("{}: aborting stream {}: {}", remote, streamId(), reason);
        HttpExchange ex = exchange;
        exchange = null;
        if (ex != null) {
            if (ex.failureReason() == null) ex.failureReason(reason);
            exchangeEnded(ex);
            ex.discardEarlyBody();
        }
        readingBody = false;
        ctx.flush();
        // closing a stream channel that has not ended both ways resets it (RST_STREAM CANCEL): the client sees the
        // response is incomplete, while the connection and its other streams go on
        ctx.close();
    }

    @Override
    public void tunnel(Channel upstream) {
        upstream.close();
        abort("tunnel_over_http2");
    }
}
