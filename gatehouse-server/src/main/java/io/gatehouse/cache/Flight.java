package io.gatehouse.cache;

import io.netty.handler.codec.http.HttpHeaders;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Ticker;

/**
 * One origin request for a key that others wait for (request coalescing). It ends once: with the stored response
 * (the waiters still waiting are then served from it), or with null when the response turned out uncacheable, failed
 * or was abandoned (those waiters then go to the origin at once, none waits for another).
 *
 * <p>When the response is storable, the flight also carries it as a {@link Stream} while it arrives: waiters then get
 * the head at once and the body as it comes, each from its own offset in the one buffer the store is filled from
 * ({@link StreamReader}); the client whose miss started the flight is served from it the same way ({@link Fetch}).
 * A response of unknown length (chunked, or HTTP/2 without content-length) streams too. If it turns out larger than
 * {@code max_object_size} midway, the buffer stops growing ({@link Stream#TRUNCATED}) and no one waits for anyone:
 * the bytes published so far stay readable (memory stays bounded by {@code max_object_size} per flight), and a waiter
 * that reaches their end goes on with an origin request of its own for the rest ({@link Continuation}).
 */
final class Flight {
    /** Someone waiting for the flight. */
    interface Waiter {
        /** The response streams in: the waiter may serve it from {@code stream} (or keep waiting for the end). */
        void streaming(Stream stream);

        /** The flight ended: with the stored response, or null (go to the origin). */
        void ended(CachedResponse stored);

        /** The waiter's bound passed before the flight ended (it goes to the origin itself). */
        void timedOut();
    }

    /** How often a flight with bounded waiters looks at the clock, at most: the bounds are on the server's clock. */
    static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private record Bounded(Waiter waiter, long dueNanos) {}

    private List<Waiter> waiters = new ArrayList<>();
    private boolean ended;
    private Stream stream;
    private List<Bounded> bounded;          // waiters with a time bound not yet reached
    private ScheduledFuture<?> ticker;      // one per flight, while it has bounded waiters

    /** Adds a waiter; false if the flight already ended (the caller decides again). */
    boolean join(Waiter waiter) {
        return join(waiter, 0, null, null);
    }

    /**
     * Adds a waiter that waits at most {@code boundNanos} on {@code clock} (0: unbounded), after which it hears
     * {@link Waiter#timedOut}; false if the flight already ended. The bound is the server's clock (tests move it), read
     * by one periodic check per flight on {@code loop} rather than a timer per waiter (a thousand may wait).
     */
    boolean join(Waiter waiter, long boundNanos, Ticker clock, EventExecutor loop) {
        Stream s;
        synchronized (this) {
            if (ended) return false;
            waiters.add(waiter);
            if (boundNanos > 0) {
                if (bounded == null) bounded = new ArrayList<>();
                bounded.add(new Bounded(waiter, clock.nanoTime() + boundNanos));
                if (ticker == null) {
                    long tick = Math.min(TICK_NANOS, boundNanos);
                    ticker = loop.scheduleWithFixedDelay(() -> expire(clock), tick, tick, TimeUnit.NANOSECONDS);
                }
            }
            s = stream;
        }
        if (s != null) waiter.streaming(s);
        return true;
    }

    /** Lets go the waiters whose bound passed on the clock. */
    private void expire(Ticker clock) {
        List<Waiter> due = new ArrayList<>();
        synchronized (this) {
            if (bounded == null) return;
            long now = clock.nanoTime();
            bounded.removeIf(b -> {
                if (now - b.dueNanos() < 0) return false;
                due.add(b.waiter());
                return true;
            });
            if (bounded.isEmpty() || ended) stopTicker();
        }
        for (Waiter w : due) w.timedOut();
    }

    private void stopTicker() {
        bounded = null;
        if (ticker != null) {
            ticker.cancel(false);
            ticker = null;
        }
    }

    synchronized int waiting() {
        return ended ? 0 : waiters.size();
    }

    /** The response's head is known and it streams in: the waiters may take it from now on. */
    void streaming(Stream s) {
        List<Waiter> now;
        synchronized (this) {
            if (ended || stream != null) return;
            stream = s;
            now = List.copyOf(waiters);
        }
        for (Waiter w : now) w.streaming(s);
    }

    /** Ends the flight; only the first call counts. A stream still open fails unless {@code response} completes it. */
    void end(CachedResponse response) {
        List<Waiter> toRun;
        Stream s;
        synchronized (this) {
            if (ended) return;
            ended = true;
            toRun = waiters;
            waiters = null;
            s = stream;
            stopTicker();
        }
        if (s != null) {
            if (response != null) s.complete();
            else s.fail();
        }
        for (Waiter w : toRun) w.ended(response);
    }

    synchronized boolean ended() { return ended; }

    /**
     * A response arriving from the origin, as the store's copy fills: the head, then the body bytes published as they
     * are copied. Bytes once published never change (the buffer only grows by copying into a larger array), so readers
     * on other event loops send slices of it without copying or locking.
     */
    static final class Stream {
        /** TRUNCATED: the response went on past max_object_size; the buffer keeps only what it had. */
        static final int STREAMING = 0, COMPLETE = 1, FAILED = 2, TRUNCATED = 3;

        final int status;
        final HttpHeaders headers;   // the stored fields (Content-Length when declared); readers copy before changing
        final long length;           // -1: unknown (chunked, or HTTP/2 without content-length)
        private final List<String> vary;    // the response's Vary field names
        private final String variant;       // the leader's request's values of them
        private volatile byte[] data = new byte[0];
        private volatile int available;
        private volatile int state;
        private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

        Stream(int status, HttpHeaders headers, long length, List<String> vary, String variant) {
            this.status = status;
            this.headers = headers;
            this.length = length;
            this.vary = List.copyOf(vary);
            this.variant = variant;
        }

        /**
         * Whether this response is the variant {@code request} selects: coalescing is keyed on the primary key, and a
         * waiter whose request differs in a field the response varies on must never be served another's variant
         * (RFC 9111 §4.1). {@code Vary: *} matches no one but the leader.
         */
        boolean selectedBy(HttpHeaders request) {
            if (vary.isEmpty()) return true;
            return !vary.contains("*") && variant.equals(CacheKeys.variant(vary, request));
        }

        /** {@code buffer}'s first {@code length} bytes are the body so far (called by the one writer, in order). */
        void append(byte[] buffer, int length) {
            data = buffer;          // before available: a reader that sees the count sees a buffer that holds it
            available = length;
            wake();
        }

        void complete() {
            if (state != STREAMING) return;
            state = COMPLETE;
            wake();
        }

        void fail() {
            if (state != STREAMING) return;
            state = FAILED;
            wake();
        }

        /** No more bytes come through the buffer: those after {@link #available} are each reader's own to fetch. */
        void truncate() {
            if (state != STREAMING) return;
            state = TRUNCATED;
            wake();
        }

        int state() { return state; }
        int available() { return available; }
        byte[] data() { return data; }

        /** {@code listener} runs (on the writer's thread) after each change; it should hand off, not work. */
        void listen(Runnable listener) {
            listeners.add(listener);
        }

        void unlisten(Runnable listener) {
            listeners.remove(listener);
        }

        private void wake() {
            for (Runnable r : listeners) r.run();
        }
    }
}
