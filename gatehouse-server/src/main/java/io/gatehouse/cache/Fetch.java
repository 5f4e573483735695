package io.gatehouse.cache;

import io.gatehouse.http.ForwardingResponseSink;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.ResponseSink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One request the cache sent on to the origin (a miss, or a validation), and the sink in front of the client that
 * handles its answer:
 * <ul>
 *   <li>a storable response is copied for the store (TEE) as fast as the origin sends it: this sink says it is
 *       always writable, so the proxy reads on whatever the client takes (the copy is bounded by
 *       {@code max_object_size}), and the client is served from the copy at its own pace, as the coalesced waiters
 *       are; the origin connection is thus released as soon as the body is in. Past {@code max_object_size} the copy
 *       is dropped: the client gets the rest of the copy, then the pieces queued behind it, and from then on the
 *       origin's pieces with its own backpressure (the proxy pauses until it caught up);</li>
 *   <li>a 304 to the cache's validation updates the stored response, and the client gets the updated one (or its own
 *       304): the origin's 304 goes no further (SWALLOW);</li>
 *   <li>a failure (an origin 5xx, Gatehouse's own 502/503/504) with a stale copy usable on error: the client gets the
 *       stale copy (SWALLOW);</li>
 *   <li>anything else passes through, labelled (PASS).</li>
 * </ul>
 * Confined to the exchange's event loop; the store and the flight are thread-safe.
 */
final class Fetch {
    private enum Mode { PASS, TEE, SWALLOW }

    private final CacheFilter filter;
    private final HttpExchange ex;
    private final String primary;
    private final CachedResponse stored;
    private final String fwd;
    private final Flight flight;
    private final long requestTime;
    private final String clientInm, clientIms, range, ifRange;

    private Mode mode = Mode.PASS;
    private boolean interim;
    private long responseTime;
    private int status;
    private HttpHeaders storedHeaders;
    private List<String> vary;
    private Set<String> tags;
    private byte[] copy;
    private int length;
    private Flight.Stream stream;     // the copy as it fills: what the waiters and the client read
    private long originBytes;
    private boolean originCounted;
    private static final int PIECE = 64 * 1024;
    private ResponseSink out;         // the client's side of this sink
    private boolean decoupled;        // the client is served from the buffer, not from the origin's pieces
    private int sent;                 // how far into the buffer the client is
    private LastHttpContent tail;     // the end, once the whole body is in the buffer
    private final java.util.ArrayDeque<HttpContent> backlog = new java.util.ArrayDeque<>();  // too big: queued behind the buffer
    private HttpExchange.ClientListener proxyListener;
    private DiskStore.Writer disk;    // the disk tier's copy, written as the body arrives (null: no disk tier)

    Fetch(CacheFilter filter, HttpExchange ex, String primary, CachedResponse stored, String fwd, Flight flight,
          long requestTime, String clientInm, String clientIms, String range, String ifRange) {
        this.filter = filter;
        this.ex = ex;
        this.primary = primary;
        this.stored = stored;
        this.fwd = fwd;
        this.flight = flight;
        this.requestTime = requestTime;
        this.clientInm = clientInm;
        this.clientIms = clientIms;
        this.range = range;
        this.ifRange = ifRange;
    }

    ResponseSink wrap(ResponseSink next) {
        this.out = next;
        return new ForwardingResponseSink(next) {
            @Override
            protected void head(HttpResponse head) {
                if (!onHead(next, head)) {
                    io.netty.util.ReferenceCountUtil.release(head);
                    return;
                }
                next.write(head);
                if (mode == Mode.TEE) decouple();
            }

            @Override
            protected void whole(FullHttpResponse response) {
                if (!onHead(next, response)) {
                    response.release();
                    return;
                }
                tee(response.content());
                finish(response);
                next.write(response);
            }

            @Override
            protected void body(HttpContent piece) {
                if (mode == Mode.SWALLOW) {
                    piece.release();
                    return;
                }
                if (mode == Mode.TEE) {
                    tee(piece.content());
                    if (mode == Mode.TEE) {      // copied: the client takes it from the buffer at its own pace
                        piece.release();
                        pump();
                        return;
                    }
                }
                if (ex.clientGone()) {           // read on after the client left, past the store: nobody takes it
                    piece.release();
                    return;
                }
                if (decoupled) {                 // turned out too big: behind what the client has still to take
                    backlog.add(piece);
                    pump();
                    return;
                }
                next.write(piece);
            }

            @Override
            protected void end(LastHttpContent last) {
                if (interim) {
                    interim = false;
                    next.write(last);
                    return;
                }
                if (mode == Mode.SWALLOW) {
                    last.release();
                    return;
                }
                boolean copied = false;
                if (mode == Mode.TEE) {
                    tee(last.content());
                    copied = mode == Mode.TEE;
                }
                finish(last);
                if (ex.clientGone()) {           // the rest was read for the store and the waiters only
                    last.release();
                    return;
                }
                if (copied && decoupled) {
                    // the body is in the buffer: only the end (and any trailers) is left to follow it
                    tail = last.replace(io.netty.buffer.Unpooled.EMPTY_BUFFER);
                    last.release();
                    pump();
                    return;
                }
                if (decoupled) {
                    backlog.add(last);
                    pump();
                    return;
                }
                next.write(last);
            }

            @Override
            public void flush() {
                if (decoupled) pump();
                else if (!ex.clientGone()) next.flush();
            }

            @Override
            public boolean isWritable() {
                // storing: the origin is read at its own pace into the buffer (bounded by max_object_size), whatever
                // the client takes; a response not stored keeps the client's backpressure end to end
                if (mode == Mode.TEE) return true;
                if (decoupled || ex.clientGone()) return false;
                return next.isWritable();
            }

            @Override
            public void abort(String reason) {
                // the origin's response broke off (or timed out, even after the client left): nothing is stored and
                // the waiters streaming it are aborted, visibly
                if (mode == Mode.TEE) drop();
                countOriginBytes();
                endFlight(null);
                if (decoupled) {
                    decoupled = false;
                    releaseBacklog();
                }
                if (mode != Mode.SWALLOW && !ex.clientGone()) next.abort(reason);
            }
        };
    }

    /**
     * From the head on, the client is served from the store's buffer like every waiter, from its own offset ({@link
     * #pump}), on its writability; the listener before (the proxy's) still hears of it, to read on or cancel.
     */
    private void decouple() {
        decoupled = true;
        HttpExchange.ClientListener before = ex.clientListener();
        proxyListener = before;
        ex.clientListener(new HttpExchange.ClientListener() {
            @Override
            public void onClientWritable() {
                pump();
                if (before != null) before.onClientWritable();
            }

            @Override
            public void onClientGone() {
                releaseBacklog();
                if (before != null) before.onClientGone();
            }
        });
    }

    /**
     * Sends the client what the buffer holds past its offset, as far as it takes it; then, once the body is in, the
     * end; or, when the response turned out too big, the pieces queued behind the buffer, after which the response
     * passes through with the client's backpressure (and the proxy is told it may read on).
     */
    private void pump() {
        if (!decoupled) return;
        if (ex.clientGone()) {
            decoupled = false;
            releaseBacklog();
            return;
        }
        int n = stream.available();
        byte[] data = stream.data();
        while (sent < n && out.isWritable()) {
            int len = Math.min(n - sent, PIECE);
            out.write(new DefaultHttpContent(Unpooled.wrappedBuffer(data, sent, len)));
            sent += len;
        }
        if (sent == n) {
            if (tail != null) {
                out.write(tail);
                tail = null;
                decoupled = false;
            } else if (mode == Mode.PASS) {
                while (!backlog.isEmpty() && out.isWritable()) out.write(backlog.poll());
                if (backlog.isEmpty()) {
                    decoupled = false;
                    HttpExchange.ClientListener proxy = proxyListener;
                    // the proxy paused reading while this drained; nothing else would wake it if the client stays writable
                    if (proxy != null) ex.eventLoop().execute(proxy::onClientWritable);
                }
            }
        }
        out.flush();
    }

    private void releaseBacklog() {
        HttpContent c;
        while ((c = backlog.poll()) != null) c.release();
        if (tail != null) {
            tail.release();
            tail = null;
        }
    }

    /** Decides what to do with the response; false when the head goes no further (the client got another answer). */
    private boolean onHead(ResponseSink next, HttpResponse head) {
        int code = head.status().code();
        if (code < 200) {
            interim = true;        // forwarded, never cached; its empty end follows
            return true;
        }
        long now = filter.clock.currentTimeMillis();
        responseTime = now;
        status = code;
        HttpHeaders h = head.headers();
        HttpHeaders request = ex.request().headers();
        RouteCache cache = filter.cache;
        if (stored != null && code == 304 && !ex.localAnswer()) {
            String tag = h.get(HttpHeaderNames.ETAG);
            if (tag == null || stored.etag() == null || stripWeak(tag).equals(stripWeak(stored.etag()))) {
                CachedResponse updated = stored.updatedBy(h, requestTime, now, filter.policy);
                filter.store().put(primary, updated);
                endFlight(updated);
                cache.revalidated.increment();
                cache.originSaved.increment();   // the body did not cross again
                answer(next, updated, "fwd=" + fwd + "; fwd-status=304", "REVALIDATED", now);
                return false;
            }
            // the origin validated another representation than the stored one: it cannot stand in for a 200
            filter.store().purgeUrl(stored.url(), false);
        }
        if (stored != null && (code == 500 || code == 502 || code == 503 || code == 504)) {
            String failure = !ex.localAnswer() ? "http_5xx" : code == 504 ? "timeout" : "error";
            if (CacheStrategy.usableOnError(request, stored, now, failure, filter.policy)) {
                endFlight(null);
                cache.stale.increment();
                cache.staleServed.increment();
                cache.originSaved.increment();
                if (ex.localAnswer()) ex.localAnswer(false);   // the answer is the stored response, not Gatehouse's error
                answer(next, stored, "fwd=" + fwd + "; fwd-status=" + code + "; detail=stale-on-error", "STALE", now);
                return false;
            }
        }
        String label;
        if (ex.localAnswer()) {
            label = "fwd=" + fwd + "; detail=" + (code == 504 ? "timeout" : "error");
            endFlight(null);
        } else {
            CacheStrategy.Storability s = CacheStrategy.storable(HttpMethod.GET, request, code, h, filter.policy);
            long declared = HttpUtil.getContentLength(head, -1L);
            if (s.store() && declared > filter.config.maxObjectSize()) s = new CacheStrategy.Storability(false, "too-big", List.of());
            if (s.store()) {
                mode = Mode.TEE;
                storedHeaders = HopByHop.storable(h, s.stripFields());
                vary = CacheKeys.varyNames(h);
                tags = tags(h);
                copy = new byte[(int) Math.max(0, Math.min(declared >= 0 ? declared : 8192, filter.config.maxObjectSize()))];
                HttpHeaders streamed = new io.netty.handler.codec.http.DefaultHttpHeaders().add(storedHeaders);
                if (declared >= 0) streamed.set(HttpHeaderNames.CONTENT_LENGTH, declared);
                else streamed.remove(HttpHeaderNames.CONTENT_LENGTH);
                stream = new Flight.Stream(code, streamed, declared, vary, CacheKeys.variant(vary, request));
                disk = filter.store().beginDisk(primary, CacheKeys.variant(vary, request));
                if (flight != null) flight.streaming(stream);
                // storing: the read goes on to the end if the client leaves (Varnish; nginx's proxy_ignore_client_abort)
                ex.readOnWhenClientGone(true);
                // "stored" only when known now: a body of unknown length may still turn out too big
                label = "fwd=" + fwd + "; fwd-status=" + code + (declared >= 0 ? "; stored" : "");
            } else {
                label = "fwd=" + fwd + "; fwd-status=" + code + "; detail=" + s.reason();
                endFlight(null);
                cache.uncacheable.increment();
            }
        }
        if (!ex.localAnswer()) {
            (stored == null ? cache.misses : cache.expired).increment();
        }
        filter.label(h, label, stored == null ? "MISS" : "EXPIRED");
        return true;
    }

    private void answer(ResponseSink next, CachedResponse r, String label, String xCache, long now) {
        mode = Mode.SWALLOW;
        boolean head = ex.request().method().equals(HttpMethod.HEAD);
        FullHttpResponse response = Answers.from(r, head, clientInm, clientIms, range, ifRange);
        response.headers().set(HttpHeaderNames.AGE, Math.min(CacheStrategy.currentAgeMillis(r, now) / 1000, Directives.MAX_DELTA));
        filter.label(response.headers(), label, xCache);
        if (ex.requestIdValue() != null) response.headers().set(io.gatehouse.http.LocalResponse.REQUEST_ID_HEADER, ex.requestIdValue());
        filter.cache.hitBytes.increment(response.content().readableBytes());
        next.write(response);
        next.flush();
    }

    private void tee(ByteBuf piece) {
        int n = piece.readableBytes();
        originBytes += n;
        if (mode != Mode.TEE || n == 0) return;
        long max = filter.config.maxObjectSize();
        if ((long) length + n > max) {
            // too big after all: the client keeps streaming, the store gets nothing; the waiters read the buffer
            // to its end and go on by themselves (Continuation)
            stream.truncate();
            drop();
            endFlight(null);
            filter.cache.uncacheable.increment();
            if (ex.clientGone()) stopReading();   // read on only for the store: the waiters go on by themselves
            return;
        }
        if (length + n > copy.length) copy = Arrays.copyOf(copy, (int) Math.min(max, Math.max((long) copy.length * 2, length + n)));
        piece.getBytes(piece.readerIndex(), copy, length, n);
        length += n;
        if (stream != null) stream.append(copy, length);
        if (disk != null) disk.append(copy, length);
    }

    private void drop() {
        mode = Mode.PASS;
        ex.readOnWhenClientGone(false);
        copy = null;
        if (disk != null) {
            disk.abandon();
            disk = null;
        }
    }

    private void finish(LastHttpContent last) {
        countOriginBytes();
        if (mode != Mode.TEE) return;
        if (!last.trailingHeaders().isEmpty()) {   // trailers are not kept: a response with them is not stored whole
            if (stream != null) stream.complete();  // the waiters streaming it have the whole body, as the client has
            drop();
            endFlight(null);
            return;
        }
        storedHeaders.set(HttpHeaderNames.CONTENT_LENGTH, length);
        byte[] body = length == copy.length ? copy : Arrays.copyOf(copy, length);
        CachedResponse entry = new CachedResponse(status, storedHeaders, body, requestTime, responseTime,
                CacheKeys.url(ex, filter.config.key()), vary, CacheKeys.variant(vary, ex.request().headers()), tags, filter.policy);
        filter.store().put(primary, entry, disk);
        disk = null;
        mode = Mode.PASS;
        ex.readOnWhenClientGone(false);
        copy = null;
        endFlight(entry);
    }

    /**
     * Asks the proxy, which heard the client leave while this read on for the store, to stop reading now: the same
     * notice again, with {@link HttpExchange#readOnWhenClientGone} cleared (on the loop: not inside the proxy's read).
     */
    private void stopReading() {
        countOriginBytes();
        HttpExchange.ClientListener proxy = proxyListener;
        if (proxy != null) ex.eventLoop().execute(proxy::onClientGone);
    }

    /** The origin's body bytes this fetch read, counted once, however it ended (read on after the client left too). */
    private void countOriginBytes() {
        if (originCounted) return;
        originCounted = true;
        filter.cache.missBytes.increment(originBytes);
    }

    /**
     * The exchange ended: a flight still open (the response broke, the client left before the store's read began)
     * lets its waiters go. The completion hooks run when the client leaves, with "client_gone"; a read that goes on
     * for the store then ends by itself (its end stores, a break or a timeout aborts) and is counted then.
     */
    void completed() {
        if (mode == Mode.TEE && ex.readOnWhenClientGone()) return;
        countOriginBytes();
        if (disk != null) {
            disk.abandon();
            disk = null;
        }
        endFlight(null);
    }

    private void endFlight(CachedResponse entry) {
        filter.endFlight(primary, flight, entry);
    }

    static Set<String> tags(HttpHeaders h) {
        Set<String> tags = new LinkedHashSet<>();
        for (String line : h.getAll("surrogate-key")) for (String t : line.split("\\s+")) if (!t.isBlank()) tags.add(t.strip());
        for (String line : h.getAll("cache-tag")) for (String t : line.split(",")) if (!t.isBlank()) tags.add(t.strip());
        return tags;
    }

    private static String stripWeak(String tag) {
        String t = tag.strip();
        return t.startsWith("W/") ? t.substring(2) : t;
    }

    // ---- sinks for requests the cache does not store ----

    /** Labels the final response and passes everything on (bypass, HEAD misses, preconditions). */
    static ResponseSink labelOnly(ResponseSink next, CacheFilter filter, String label, String xCache) {
        return ForwardingResponseSink.finalHeaders(next, h -> filter.label(h, label, xCache));
    }

    /**
     * For an unsafe method: a non-error answer (2xx, 3xx) invalidates the target and the {@code Location} and
     * {@code Content-Location} it names on the same origin (RFC 9111 §4.4).
     */
    static ResponseSink invalidating(ResponseSink next, CacheFilter filter, String url, String origin) {
        return new ForwardingResponseSink(next) {
            @Override
            protected void head(HttpResponse head) {
                invalidate(head);
                next.write(head);
            }

            @Override
            protected void whole(FullHttpResponse response) {
                invalidate(response);
                next.write(response);
            }

            private void invalidate(HttpResponse head) {
                int code = head.status().code();
                if (code < 200 || code >= 400) return;
                filter.store().purgeUrl(url, false);
                for (String field : List.of("location", "content-location")) {
                    String target = head.headers().get(field);
                    if (target == null) continue;
                    try {
                        java.net.URI resolved = java.net.URI.create(url).resolve(target.strip());
                        String abs = resolved.getScheme() + "://" + resolved.getHost();
                        // only the same origin: a response must not invalidate another site's objects
                        if (!abs.equalsIgnoreCase(origin) || resolved.getPort() != -1) continue;
                        String q = CacheKeys.query(resolved.getRawQuery(), filter.config.key());
                        filter.store().purgeUrl(origin + resolved.getRawPath() + (q == null ? "" : "?" + q), false);
                    } catch (IllegalArgumentException e) {
                        // not a URI reference: nothing to invalidate
                    }
                }
            }
        };
    }
}
