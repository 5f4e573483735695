package io.gatehouse.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One origin request for a key that others wait for (request coalescing). It ends once: with the stored response
 * (the waiters are then served from it), or with null when the response turned out uncacheable, failed or was
 * abandoned (the waiters then go to the origin at once, none waits for another).
 */
final class Flight {
    private List<Consumer<CachedResponse>> waiters = new ArrayList<>();
    private boolean ended;
    private CachedResponse result;

    /** Adds a waiter; false if the flight already ended (the caller decides again). */
    synchronized boolean join(Consumer<CachedResponse> waiter) {
        if (ended) return false;
        waiters.add(waiter);
        return true;
    }

    synchronized int waiting() {
        return ended ? 0 : waiters.size();
    }

    /** Ends the flight; only the first call counts. */
    void end(CachedResponse response) {
        List<Consumer<CachedResponse>> toRun;
        synchronized (this) {
            if (ended) return;
            ended = true;
            result = response;
            toRun = waiters;
            waiters = null;
        }
        for (Consumer<CachedResponse> w : toRun) w.accept(response);
    }

    synchronized boolean ended() { return ended; }
}
