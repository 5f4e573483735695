package io.gatehouse.transport;

import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Ticker;

import java.util.concurrent.TimeUnit;

/**
 * The data plane's clock: a {@link Ticker} that reads its source once per dispatch. Inside a dispatch (a connection
 * handling one decoded message or the end of a read, on its event loop, between {@link #enter()} and
 * {@link #exit()}) every reading returns the time of the dispatch's first reading; outside one (timers, other
 * threads) every reading is fresh.
 *
 * <p>Why: a proxied request reads the clock about fifteen times between a socket read and its writes (deadlines,
 * latency, idle times, the access log), and each reading is a {@code clock_gettime} through the vDSO (~25 ns on the
 * benchmark machine). Time stands still for at most one dispatch (microseconds), as nginx's cached time does for one
 * event-loop turn. Tests keep their mock ticker: this wraps it and changes nothing they can observe, since a mock
 * only moves between dispatches.
 */
public final class DispatchClock implements Ticker {
    private static final FastThreadLocal<Frame> FRAME = new FastThreadLocal<>() {
        @Override
        protected Frame initialValue() {
            return new Frame();
        }
    };

    /** One thread's dispatch state. */
    private static final class Frame {
        int depth;
        Ticker source; // whose reading {@code now} is; null when none was taken in this dispatch
        long now;
    }

    private final Ticker source;

    public DispatchClock(Ticker source) {
        this.source = source;
    }

    /** Wraps {@code ticker} unless it is one already. */
    public static Ticker of(Ticker ticker) {
        return ticker instanceof DispatchClock ? ticker : new DispatchClock(ticker);
    }

    /** Opens a dispatch on this thread; dispatches nest. Pair with {@link #exit()} in a {@code finally} block. */
    public static void enter() {
        FRAME.get().depth++;
    }

    /** Closes the dispatch opened by the matching {@link #enter()}. */
    public static void exit() {
        Frame f = FRAME.get();
        if (--f.depth == 0) f.source = null;
    }

    @Override
    public long nanoTime() {
        Frame f = FRAME.get();
        if (f.depth == 0) return source.nanoTime();
        if (f.source != source) { // first reading of this dispatch (or of another clock, e.g. a second server in a test)
            f.now = source.nanoTime();
            f.source = source;
        }
        return f.now;
    }

    @Override
    public long initialNanoTime() {
        return source.initialNanoTime();
    }

    @Override
    public void sleep(long delay, TimeUnit unit) throws InterruptedException {
        source.sleep(delay, unit);
    }
}
