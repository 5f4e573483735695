package io.gatehouse.cache;

import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Serves one coalesced waiter from a {@link Flight.Stream} while the response is still arriving: the head at once, then
 * the body from the waiter's own offset, as fast as its client takes it. A slow client only falls behind in the shared
 * buffer (which the store holds anyway, up to {@code max_object_size}); it stalls neither the origin read nor the
 * other clients. If the origin's response breaks midway, the waiter's response is aborted as the leader's is. If it
 * turns out too big for the store midway, the waiter reads the buffer to its end and goes on with a {@link
 * Continuation}.
 *
 * <p>Confined to the waiter's event loop; the writer wakes it from the leader's loop through {@link #wake}.
 */
final class StreamReader implements HttpExchange.ClientListener {
    private static final int PIECE = 64 * 1024;

    private final CacheFilter filter;
    private final HttpExchange ex;
    private final Flight.Stream stream;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Runnable wake = this::wake;
    private int offset;
    private boolean done;

    StreamReader(CacheFilter filter, HttpExchange ex, Flight.Stream stream) {
        this.filter = filter;
        this.ex = ex;
        this.stream = stream;
    }

    /** Sends the head and what has arrived so far; on the waiter's event loop. */
    void start() {
        HttpHeaders h = new DefaultHttpHeaders().add(stream.headers);
        if (stream.length >= 0) h.set(HttpHeaderNames.CONTENT_LENGTH, stream.length);   // else chunked (HTTP/1.1) or DATA to END_STREAM (HTTP/2)
        if (!h.contains(HttpHeaderNames.AGE)) h.set(HttpHeaderNames.AGE, 0);   // fresh from the origin: resident no time yet
        filter.label(h, "fwd=uri-miss; fwd-status=" + stream.status + "; collapsed", "HIT");
        if (ex.requestIdValue() != null) h.set(LocalResponse.REQUEST_ID_HEADER, ex.requestIdValue());
        RouteCache cache = filter.cache;
        cache.hits.increment();
        cache.originSaved.increment();
        ex.localAnswer(true);
        ex.clientListener(this);
        ex.onComplete(e -> stop());
        ex.response().write(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(stream.status), h));
        stream.listen(wake);
        pump();
    }

    private void wake() {
        if (scheduled.compareAndSet(false, true)) ex.eventLoop().execute(this::pump);
    }

    private void pump() {
        scheduled.set(false);
        if (done) return;
        if (ex.completed() || ex.clientGone()) {
            stop();
            return;
        }
        int state = stream.state();       // before the count: once complete, the count read after it is final
        int n = stream.available();
        byte[] data = stream.data();
        while (offset < n && ex.response().isWritable()) {
            int len = Math.min(n - offset, PIECE);
            ex.response().write(new DefaultHttpContent(Unpooled.wrappedBuffer(data, offset, len)));
            offset += len;
        }
        if (offset == n && state == Flight.Stream.COMPLETE) {
            stop();
            filter.cache.hitBytes.increment(offset);
            ex.response().write(LastHttpContent.EMPTY_LAST_CONTENT);
        } else if (offset == n && state == Flight.Stream.TRUNCATED) {
            // the response outgrew max_object_size: the buffer ends here, the rest comes from the origin for this
            // client alone, so nobody waits for it and it waits for nobody
            stop();
            filter.cache.hitBytes.increment(offset);
            ex.response().flush();
            new Continuation(filter, ex, stream, offset).start();
            return;
        } else if (state == Flight.Stream.FAILED) {
            stop();
            ex.response().abort("origin response broke off");
            return;
        }
        ex.response().flush();
    }

    private void stop() {
        if (done) return;
        done = true;
        stream.unlisten(wake);
    }

    @Override
    public void onClientWritable() {
        pump();
    }

    @Override
    public void onClientGone() {
        stop();
    }
}
