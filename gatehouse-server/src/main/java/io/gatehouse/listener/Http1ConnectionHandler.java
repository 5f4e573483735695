package io.gatehouse.listener;

import io.gatehouse.filter.FilterChain;
import io.gatehouse.http.Downstream;
import io.gatehouse.transport.DispatchClock;
import io.gatehouse.http.Http1RequestDecoder;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.gatehouse.route.Route;
import io.gatehouse.transport.Relay;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.FileRegion;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
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
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/1.1 client connection. Requests are served one at a time in arrival order (pipelined requests wait in
 * a small backlog, bounded by what one socket read holds), so responses always leave in request order. The
 * request in progress is exposed to filters and the proxy as a {@link Downstream}.
 *
 * <p>Reading is explicit (auto-read off): the connection reads while waiting for a request head, while the proxy
 * asks for more request body, and never while a response is being produced — except to stay able to see the
 * client go away.
 */
final class Http1ConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Http1ConnectionHandler.class);

    private final Listener listener;
    private final Http1ResponseEncoder encoder;
    private final Http1RequestDecoder decoder;
    private ChannelHandlerContext ctx;
    private InetSocketAddress remote;
    private io.gatehouse.http.ConnectionInfo info;           // set up once the connection is (after TLS)

    private HttpExchange current;          // the exchange being served, or null when waiting for a request
    private boolean readingBody;           // current's request body is still arriving
    private boolean keepAlive;             // current's client wants the connection kept
    private boolean http10;                // current's client speaks HTTP/1.0 (read at arrival: the proxy rewrites
                                           // the request's version to 1.1 for the upstream hop)
    private boolean closeAfterResponse;    // close once current's response is written
    private boolean interimPending;        // a 1xx head was written; its empty last content follows
    private boolean switchingResponse;     // a 101 head was written; the tunnel starts after its empty last content
    private boolean tunnelled;             // the connection became a byte tunnel after 101
    private boolean switching;             // current asked to switch protocols: the decoder holds what follows
    private ArrayDeque<Object> backlog;    // messages of pipelined requests behind current
    private int backlogRequests;
    private int backlogBytes;              // body bytes held in the backlog
    private boolean pipelineOverflow;      // more pipelined requests arrived than max_pipelined: close after the backlog

    private ScheduledFuture<?> waitTimer;  // request-header / keep-alive idle timer while waiting for a request
    private boolean waiting;               // waiting for a request head (no exchange in progress)
    private long waitStartNanos;
    private long bytesAtWaitStart;
    private long bodyWaitSince;            // when the proxy asked for request body still unanswered, or 0 (slow POST)
    private long unwritableSince;          // when the client stopped taking the response, or 0 (a reader that stalls)

    private long sentAtExchangeStart;      // encoder's byte count when current's request arrived
    private long reportedReceived;         // bytes already added to the listener's counters
    private long reportedSent;

    Http1ConnectionHandler(Listener listener, Http1ResponseEncoder encoder, Http1RequestDecoder decoder) {
        this.listener = listener;
        this.encoder = encoder;
        this.decoder = decoder;
    }

    // ---- connection lifecycle ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.remote = (InetSocketAddress) ctx.channel().remoteAddress();
        // behind TLS this handler is installed once ALPN chose HTTP/1.1, so after the handshake
        io.netty.handler.ssl.SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        boolean secure = ctx.pipeline().get("tls") != null || ssl != null;
        this.info = !secure ? io.gatehouse.http.ConnectionInfo.plain(remote)
                : io.gatehouse.http.ConnectionInfo.tls(remote, ssl != null && ssl.handshakeFuture().isSuccess() ? ssl.engine() : null);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        listener.connectionOpened(ctx.channel());
        awaitRequest();
        ctx.fireChannelActive();
        ctx.read();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelWaitTimer();
        listener.connectionClosed(ctx.channel());
        if (current != null) {
            HttpExchange ex = current;
            current = null;
            if (readingBody) ex.failBody(null, "client_closed");
            ex.discardEarlyBody();
            ex.onClientGone();
            exchangeEnded(ex);
        }
        reportBytes();
        releaseBacklog();
        ctx.fireChannelInactive();
    }

    /** Shutdown: close now if idle, otherwise after the response in progress. */
    void drain() {
        if (current == null) {
            ctx.close();
        } else {
            closeAfterResponse = true;
        }
    }

    // ---- inbound ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        DispatchClock.enter();
        try {
            dispatchRead(msg);
        } finally {
            DispatchClock.exit();
        }
    }

    private void dispatchRead(Object msg) {
        if (current != null) {
            // (a request without a body is an HttpContent too, a FullHttpRequest: never a piece of this one's body)
            if (readingBody && msg instanceof HttpContent content && !(msg instanceof HttpRequest) && backlog == null) {
                deliverBody(content);
                return;
            }
            if (readingBody && msg instanceof io.gatehouse.http.RejectedRequest rejected && backlog == null) {
                // the body's framing broke (bad chunk line, forbidden trailer): nothing more comes from the decoder,
                // so the body must fail now rather than wait behind the response it blocks
                log.info("rejected request body from {}: {} {}", remote, rejected.status().code(), rejected.reason());
                listener.rejected();
                failBody(rejected.status(), rejected.reason());
                return;
            }
            if (msg instanceof HttpRequest && backlogRequests >= listener.config().limits().maxPipelined()) {
                // A client far ahead of its responses: the requests within the limit are answered, the rest dropped,
                // and the connection closes after the last answer (a pipelining client resends what went unanswered).
                pipelineOverflow = true;
            }
            if (pipelineOverflow) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (backlog == null) backlog = new ArrayDeque<>(4);
            backlog.add(msg);
            if (msg instanceof HttpRequest) backlogRequests++;
            else if (msg instanceof HttpContent c) backlogBytes += c.content().readableBytes();
            return;
        }
        dispatch(msg);
    }

    private void dispatch(Object msg) {
        if (msg instanceof HttpRequest request) {
            startExchange(request);
        } else if (msg instanceof io.gatehouse.http.RejectedRequest rejected) {
            reject(rejected.status(), rejected.reason());
        } else {
            // Body of a request we already answered and are closing on, or bytes after a rejection.
            ReferenceCountUtil.release(msg);
        }
    }

    private void deliverBody(HttpContent content) {
        if (content.decoderResult().isFailure()) {
            log.debug("{}: malformed request body: {}", remote, cause(content.decoderResult()));
            content.release();
            failBody(HttpResponseStatus.BAD_REQUEST, "malformed_body");
            return;
        }
        if (!current.bodyFits(current.requestBodyBytes() + content.content().readableBytes())) {
            content.release();
            failBody(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large");
            return;
        }
        if (content instanceof LastHttpContent) readingBody = false;
        bodyWaitSince = 0;
        current.receiveBody(content);
    }

    /** The body cannot be read to its end: whoever consumes it answers; the connection closes after. */
    private void failBody(HttpResponseStatus status, String reason) {
        HttpExchange ex = current;
        readingBody = false;
        closeAfterResponse = true;
        tunnelled = true; // never read again from this connection
        boolean consumed = ex.hasBodyReceiver();
        ex.failBody(status, reason);
        // nobody reads this body yet: answer here (a consumer that attaches later sees the answer already sent)
        if (!consumed && current == ex && !ex.responseStarted()) LocalResponse.fail(ex, status, reason);
    }

    /** Bytes of pipelined input held before reading pauses. */
    private static final int BACKLOG_BYTES = 64 * 1024;

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!tunnelled) {
            if (current == null) {
                ctx.read(); // waiting for a request head: keep reading
            } else if (!readingBody && !switching && !pipelineOverflow && backlogBytes < BACKLOG_BYTES) {
                // The request is in, its response is being made. Keep one read armed: with auto-read off, epoll
                // would otherwise drop and re-add EPOLLIN (two epoll_ctl calls) around every request, and a client
                // that goes away is noticed at once. What a pipelining client sends meanwhile waits in the backlog,
                // which is bounded: past BACKLOG_BYTES or max_pipelined, reading pauses.
                ctx.read();
            }
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent hs && hs.isSuccess()) {
            io.netty.handler.ssl.SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            if (ssl != null) info = io.gatehouse.http.ConnectionInfo.tls(remote, ssl.engine());
        }
        if (evt instanceof ChannelInputShutdownEvent) {
            // The client will send nothing more. An exchange in progress is still answered, then the connection
            // closes; a request cut off in its body cannot be completed. A half-close after a whole request is not
            // an abort (RFC 9112 section 9.6: it "does not ... imply that the client is no longer interested in a
            // response"); nginx's default takes it for one. See docs/configuration.md, "Clients that leave".
            releaseBacklog();
            if (current == null || tunnelled) {
                ctx.close();
            } else {
                closeAfterResponse = true;
                if (readingBody) failBody(HttpResponseStatus.BAD_REQUEST, "truncated_body");
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            unwritableSince = 0;
        } else if (unwritableSince == 0) {
            unwritableSince = listener.ticker().nanoTime();
            checkWithin(listener.config().timeouts().idle().toNanos());
        }
        if (current != null && ctx.channel().isWritable()) current.onWritable();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("{}: connection error: {}", remote, cause.toString());
        ctx.close();
    }

    private void startExchange(HttpRequest request) {
        waiting = false;
        DecoderResult result = request.decoderResult();
        if (result.isFailure()) {
            Throwable c = result.cause();
            if (c instanceof TooLongHttpLineException) {
                reject(HttpResponseStatus.REQUEST_URI_TOO_LONG, "uri_too_long");
            } else if (c instanceof TooLongHttpHeaderException || c instanceof TooLongFrameException) {
                reject(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large");
            } else {
                reject(HttpResponseStatus.BAD_REQUEST, "malformed_request");
            }
            return;
        }
        HttpHeaders headers = request.headers();
        switching = headers.contains(HttpHeaderNames.UPGRADE) || is(request.method(), HttpMethod.CONNECT);
        keepAlive = HttpUtil.isKeepAlive(request) && !listener.draining();
        http10 = request.protocolVersion() == HttpVersion.HTTP_1_0;
        readingBody = HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;

        String host = io.gatehouse.http.HttpSyntax.hostOf(headers instanceof io.gatehouse.http.FlatHttpHeaders flat
                ? flat.first(HttpHeaderNames.HOST) : headers.get(HttpHeaderNames.HOST));
        ExchangeDownstream downstream = new ExchangeDownstream();
        HttpExchange ex = new HttpExchange(downstream, listener.name(), request, host, listener.ticker().nanoTime(), listener.completion());
        ex.clientVersion(request.protocolVersion());
        sentAtExchangeStart = encoder.bytesEncoded();
        downstream.exchange = ex;
        current = ex;
        if (!readingBody) ex.receiveBody(LastHttpContent.EMPTY_LAST_CONTENT);

        // a body refused as too large stays unread: the connection cannot be reused
        if (listener.dispatch(ex, headers) == Listener.Dispatch.BODY_TOO_LARGE) closeAfterResponse = true;
    }


    /** A request that must not be served: answer, close, and never read from this connection again. */
    private void reject(HttpResponseStatus status, String reason) {
        log.info("rejected request from {}: {} {}", remote, status.code(), reason);
        cancelWaitTimer();
        releaseBacklog();
        readingBody = false;
        current = null;
        closeAfterResponse = true;
        tunnelled = true; // stop reading
        HttpResponse r = LocalResponse.error(status, reason);
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        long before = encoder.bytesEncoded();
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        listener.rejectedRequest(info.remoteIp().toString(), status.code(), reason, encoder.bytesEncoded() - before);
    }

    /** Metrics and the access log line of an exchange that ended (once per exchange). */
    private void exchangeEnded(HttpExchange ex) {
        reportBytes();
        ex.complete(encoder.bytesEncoded() - sentAtExchangeStart, listener.ticker().nanoTime());
    }

    /** Adds this connection's traffic since the last report to the listener's byte counters. */
    private void reportBytes() {
        long received = decoder.bytesReceived();
        long sent = encoder.bytesEncoded();
        listener.countBytes(received - reportedReceived, sent - reportedSent);
        reportedReceived = received;
        reportedSent = sent;
    }

    // ---- Downstream (the exchange in progress) ----

    /**
     * The connection as one exchange sees it. Once that exchange is no longer the current one (answered, aborted,
     * tunnelled), what it still writes or asks for is dropped, so it can never leak into the next response.
     */
    private final class ExchangeDownstream implements Downstream {
        HttpExchange exchange;

        private boolean stale() {
            return current != exchange;
        }

        @Override public EventLoop eventLoop() { return Http1ConnectionHandler.this.eventLoop(); }
        @Override public io.gatehouse.http.ConnectionInfo connection() { return info; }
        @Override public void flush() { Http1ConnectionHandler.this.flush(); }
        @Override public boolean isWritable() { return Http1ConnectionHandler.this.isWritable(); }

        @Override
        public void requestMoreBody() {
            if (!stale()) Http1ConnectionHandler.this.requestMoreBody();
        }

        @Override
        public void write(HttpObject message) {
            if (stale()) {
                ReferenceCountUtil.release(message);
                return;
            }
            Http1ConnectionHandler.this.write(message);
        }

        @Override
        public void abort(String reason) {
            if (!stale()) Http1ConnectionHandler.this.abort(reason);
        }

        @Override
        public boolean zeroCopy() {
            Channel c = ctx.channel();
            return ctx.pipeline().get(SslHandler.class) == null
                    && (c instanceof IoUringSocketChannel || c instanceof EpollSocketChannel || c instanceof NioSocketChannel);
        }

        @Override
        public void write(FileRegion region) {
            // below this handler the encoder passes a region through as it is (the head set Content-Length)
            if (stale()) region.release(); else ctx.write(region, ctx.voidPromise());
        }

        @Override
        public void tunnel(Channel upstream) {
            if (stale()) upstream.close(); else Http1ConnectionHandler.this.tunnel(upstream);
        }
    }

    public EventLoop eventLoop() { return ctx.channel().eventLoop(); }

    public void requestMoreBody() {
        if (readingBody) {
            if (bodyWaitSince == 0) {
                bodyWaitSince = listener.ticker().nanoTime();
                checkWithin(listener.config().timeouts().requestBodyIdle().toNanos());
            }
            ctx.read();
        }
    }

    /** Writes without a promise of its own: a failed write reaches exceptionCaught, which closes the connection. */
    public void write(HttpObject msg) {
        if (msg instanceof HttpResponse response) {
            int code = response.status().code();
            if (code >= 100 && code < 200 && code != 101) {
                interimPending = true;
                if (current != null && http10) {
                    // HTTP/1.0 clients must not see interim responses
                    ReferenceCountUtil.release(msg);
                    return;
                }
            } else {
                prepareFinalHead(response);
            }
        }
        if (msg instanceof LastHttpContent) {
            if (interimPending) {
                interimPending = false;
                if (current != null && http10) {
                    ReferenceCountUtil.release(msg);
                    return;
                }
                ctx.write(msg, ctx.voidPromise());
                return;
            }
            if (switchingResponse) {
                // the end of a 101 head: the exchange goes on as a tunnel (see tunnel()), it is not done
                switchingResponse = false;
                ctx.write(msg, ctx.voidPromise());
                return;
            }
            ctx.write(msg, ctx.voidPromise());
            responseDone();
            return;
        }
        ctx.write(msg, ctx.voidPromise());
    }

    /**
     * {@code method} is {@code known}. The decoder hands out Netty's constants, so identity settles it; GET (the usual
     * case) is ruled out without {@code equals}, which compares names as Strings.
     */
    private static boolean is(HttpMethod method, HttpMethod known) {
        return method == known || method != HttpMethod.GET && method.equals(known);
    }

    /** Applies connection semantics to the final response head: keep-alive, close, framing for old clients. */
    private void prepareFinalHead(HttpResponse response) {
        HttpExchange ex = current;
        if (ex == null) return;
        ex.responseStarted(response.status().code());
        HttpHeaders h = response.headers();
        boolean head = is(ex.request().method(), HttpMethod.HEAD);
        encoder.expectHeadResponse(head);
        int code = response.status().code();
        boolean bodyless = head || code == 204 || code == 304 || code == 101;
        if (code == 101) {
            switchingResponse = true;
            return;
        }
        if (!bodyless && !h.contains(HttpHeaderNames.CONTENT_LENGTH) && !HttpUtil.isTransferEncodingChunked(response)) {
            if (http10) closeAfterResponse = true; else HttpUtil.setTransferEncodingChunked(response, true);
        }
        if (http10 && HttpUtil.isTransferEncodingChunked(response)) {
            // HTTP/1.0 has no chunked framing: send the body raw and mark its end by closing
            h.remove(HttpHeaderNames.TRANSFER_ENCODING);
            closeAfterResponse = true;
        }
        if (pipelineOverflow && backlogRequests == 0) closeAfterResponse = true;
        if (readingBody) {
            // answering before the request body is in: the rest of it cannot be told apart from a next request
            closeAfterResponse = true;
        }
        if (!keepAlive || closeAfterResponse || listener.draining()) {
            closeAfterResponse = true;
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    // Kept small so that C2 inlines it into the response path: the rare branches live in methods of their own.
    private void responseDone() {
        HttpExchange ex = current;
        if (ex == null) return;
        ex.responseComplete(true);
        exchangeEnded(ex);
        current = null;
        ex.discardEarlyBody();
        if (switching) resumeAfterRefusedSwitch();
        if (closeAfterResponse || !ctx.channel().isActive()) {
            flushAndClose();
            return;
        }
        if (backlog != null) servePipelined();
        if (current == null) {
            awaitRequest();
            ctx.read();
        }
        // else a pipelined request started; if its body is still coming, the proxy asks for more when it is ready
    }

    private void resumeAfterRefusedSwitch() {
        switching = false;
        // the decoder paused after an Upgrade/CONNECT request; the switch did not happen: parse on
        decoder.resume();
    }

    /**
     * Closes once the response is on the wire. Usually it is as soon as it is flushed. Otherwise an empty buffer
     * marks the end: a pooled one, written below the encoder, because {@code Unpooled.EMPTY_BUFFER} is a second
     * buffer class on the whole write path; the JIT then recompiled that path for two classes and the JVM ran
     * slower from then on (seen when clients hang up with a request in flight, at the end of every load test).
     */
    private void flushAndClose() {
        tunnelled = true;
        releaseBacklog();
        ctx.flush();
        ChannelOutboundBuffer unsent = ctx.channel().unsafe().outboundBuffer();
        if (unsent == null || unsent.isEmpty()) {
            ctx.close();
            return;
        }
        ChannelHandlerContext below = ctx.pipeline().context(encoder);
        (below != null ? below : ctx).writeAndFlush(ctx.alloc().directBuffer(0)).addListener(ChannelFutureListener.CLOSE);
    }

    /** Serves pipelined requests that already arrived, in order. */
    private void servePipelined() {
        while (current == null && backlog != null && !backlog.isEmpty()) {
            Object msg = backlog.poll();
            if (msg instanceof HttpRequest) backlogRequests--;
            else if (msg instanceof HttpContent c) backlogBytes -= c.content().readableBytes();
            dispatch(msg);
            // the rest of this request's body may be in the backlog too
            while (current != null && readingBody && backlog != null && backlog.peek() instanceof HttpContent c
                    && !(c instanceof HttpRequest)) {
                backlog.poll();
                backlogBytes -= c.content().readableBytes();
                deliverBody(c);
            }
        }
        if (backlog != null && backlog.isEmpty()) backlog = null;
    }

    public void flush() {
        ctx.flush();
    }

    public boolean isWritable() {
        return ctx.channel().isWritable();
    }

    public void abort(String reason) {
        log.debug("{}: aborting response: {}", remote, reason);
        HttpExchange ex = current;
        current = null;
        if (ex != null) {
            ex.failureReason(reason);
            exchangeEnded(ex);
            ex.discardEarlyBody();
        }
        releaseBacklog();
        tunnelled = true;
        // Closing without the final chunk (or short of Content-Length) tells the client the response is incomplete.
        ctx.flush();
        ctx.close();
    }

    public void tunnel(Channel upstream) {
        HttpExchange ex = current;
        current = null;
        tunnelled = true;
        if (ex != null) {
            ex.responseComplete(true);
            exchangeEnded(ex);
        }
        releaseBacklog();
        // TLS stays: the tunnel carries plaintext through the same secure session
        java.util.List<String> handlers = ctx.pipeline().names().stream()
                .filter(n -> !(ctx.pipeline().get(n) instanceof io.netty.handler.ssl.SslHandler)).toList();
        Relay.join(ctx.channel(), upstream, handlers);
    }

    // ---- waiting for a request: header timeout (slowloris) and keep-alive idle timeout ----

    /*
     * One lazy timer per connection instead of one per request: awaitRequest only records when waiting began; the
     * timer, armed once, checks on firing whether that wait is due and re-arms for the rest when it is not.
     */
    private void awaitRequest() {
        waiting = true;
        waitStartNanos = listener.ticker().nanoTime();
        bytesAtWaitStart = decoder.bytesReceived();
        if (waitTimer == null) armWaitTimer(listener.config().timeouts().requestHeader().toNanos());
    }

    private void armWaitTimer(long delayNanos) {
        waitTimer = ctx.executor().schedule(this::onWaitTimer, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void onWaitTimer() {
        waitTimer = null;
        if (tunnelled || !ctx.channel().isActive()) return;
        long headerTimeout = listener.config().timeouts().requestHeader().toNanos();
        if (!waiting) {
            if (!busyTimedOut()) armWaitTimer(nextBusyCheck(headerTimeout)); // busy serving; look again later
            return;
        }
        long waited = listener.ticker().nanoTime() - waitStartNanos;
        if (waited < headerTimeout) {
            armWaitTimer(headerTimeout - waited);
            return;
        }
        if (decoder.bytesReceived() != bytesAtWaitStart) {
            // part of a request head arrived but not all of it in time
            reject(HttpResponseStatus.REQUEST_TIMEOUT, "request_header_timeout");
            return;
        }
        long idle = listener.config().timeouts().idle().toNanos();
        if (waited >= idle || listener.draining()) {
            ctx.close();
            return;
        }
        // bytes that arrive from now on must complete a head within the header timeout
        bytesAtWaitStart = decoder.bytesReceived();
        armWaitTimer(Math.min(idle - waited, headerTimeout));
    }

    /*
     * While an exchange is in progress the same timer watches the client's pace: a body it stopped sending although
     * the proxy asked for it (slow POST: 408, the backend sees the request cut off), and a response it stopped taking
     * (the write watermark already paused the upstream, so what is buffered stays bounded; after the idle timeout the
     * connection closes and the exchange ends as if the client had gone).
     */
    private boolean busyTimedOut() {
        long now = listener.ticker().nanoTime();
        if (readingBody && bodyWaitSince != 0 && current != null
                && now - bodyWaitSince >= listener.config().timeouts().requestBodyIdle().toNanos()) {
            bodyWaitSince = 0;
            log.info("{}: request body stalled for {}; 408", remote, listener.config().timeouts().requestBodyIdle());
            listener.rejected();
            failBody(HttpResponseStatus.REQUEST_TIMEOUT, "request_body_timeout");
            return false; // the 408 still has to be written: keep watching the connection
        }
        if (unwritableSince != 0 && !ctx.channel().isWritable()
                && now - unwritableSince >= listener.config().timeouts().idle().toNanos()) {
            log.info("{}: client took none of the response for {}; closing", remote, listener.config().timeouts().idle());
            ctx.close();
            return true;
        }
        return false;
    }

    /** Delay until the next busy check: the header-timeout cadence, or sooner when a client-pace deadline falls first. */
    private long nextBusyCheck(long headerTimeout) {
        long now = listener.ticker().nanoTime();
        long next = headerTimeout;
        if (bodyWaitSince != 0) next = Math.min(next, bodyWaitSince + listener.config().timeouts().requestBodyIdle().toNanos() - now);
        if (unwritableSince != 0) next = Math.min(next, unwritableSince + listener.config().timeouts().idle().toNanos() - now);
        return Math.max(next, TimeUnit.MILLISECONDS.toNanos(1));
    }

    /** Makes the timer fire within {@code delayNanos} (a new client-pace deadline may fall before its next check). */
    private void checkWithin(long delayNanos) {
        if (waitTimer != null && waitTimer.getDelay(TimeUnit.NANOSECONDS) > delayNanos) {
            waitTimer.cancel(false);
            armWaitTimer(delayNanos);
        }
    }

    private void cancelWaitTimer() {
        if (waitTimer != null) {
            waitTimer.cancel(false);
            waitTimer = null;
        }
    }

    private void releaseBacklog() {
        if (backlog != null) {
            backlog.forEach(ReferenceCountUtil::release);
            backlog = null;
            backlogRequests = 0;
            backlogBytes = 0;
        }
    }

    private static String cause(DecoderResult r) {
        return r.cause() == null ? "unknown" : r.cause().getMessage();
    }

}
