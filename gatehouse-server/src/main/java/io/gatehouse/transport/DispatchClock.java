package io.gatehouse.transport;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ThreadAwareExecutor;
import io.netty.util.concurrent.Ticker;

import java.util.concurrent.TimeUnit;

/**
 * The data plane's clock: a {@link Ticker} that reads its source once per dispatch. Inside a dispatch (between
 * {@link #enter()} and {@link #exit()} on one thread: an event loop's I/O batch, see {@link #perIoBatch}, or a
 * connection handling one decoded message) every reading returns the time of the dispatch's first reading; outside
 * one (timers, tasks, other threads) every reading is fresh.
 *
 * <p>Why: a proxied request reads the clock about fifteen times between a socket read and its writes (deadlines,
 * latency, idle times, the access log), and each reading is a {@code clock_gettime} through the vDSO (~25 ns on the
 * benchmark machine). Time stands still for at most one I/O batch (the events one {@code epoll_wait} returned:
 * microseconds, a millisecond under heavy load), as nginx's cached time does for one event-loop turn. Tests keep their
 * mock ticker: this wraps it, and a mock moved between batches is read afresh by the next one.
 */
public final class DispatchClock implements io.gatehouse.clock.Clock {
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

    private final io.gatehouse.clock.Clock source;

    public DispatchClock(Ticker source) {
        this.source = io.gatehouse.clock.Clock.of(source);
    }

    /** Wraps {@code ticker} unless it is one already. */
    public static io.gatehouse.clock.Clock of(Ticker ticker) {
        return ticker instanceof DispatchClock d ? d : new DispatchClock(ticker);
    }

    /** Wall time is read afresh: it dates things (log lines, events), it does not time the hot path. */
    @Override
    public long currentTimeMillis() {
        return source.currentTimeMillis();
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

    /**
     * Makes each {@link IoHandler#run} of {@code factory}'s handlers one dispatch, so that the connections served by
     * one batch of ready events share one clock reading (instead of one per request and per response message). The
     * reading is taken at the batch's first use, after the wait for events, so a blocking wait never makes it stale.
     */
    public static IoHandlerFactory perIoBatch(IoHandlerFactory factory) {
        return new IoHandlerFactory() {
            @Override
            public IoHandler newHandler(ThreadAwareExecutor ioExecutor) {
                return new BatchHandler(factory.newHandler(ioExecutor));
            }

            @Override
            public boolean isChangingThreadSupported() {
                return factory.isChangingThreadSupported();
            }
        };
    }

    /** One I/O handler whose runs are dispatches; everything else is the wrapped handler's. */
    private record BatchHandler(IoHandler io) implements IoHandler {
        @Override
        public void initialize() {
            io.initialize();
        }

        @Override
        public int run(IoHandlerContext context) {
            enter();
            try {
                return io.run(context);
            } finally {
                exit();
            }
        }

        @Override
        public void prepareToDestroy() {
            io.prepareToDestroy();
        }

        @Override
        public void destroy() {
            io.destroy();
        }

        @Override
        public IoRegistration register(IoHandle handle) throws Exception {
            return io.register(handle);
        }

        @Override
        public void wakeup() {
            io.wakeup();
        }

        @Override
        public boolean isCompatible(Class<? extends IoHandle> handleType) {
            return io.isCompatible(handleType);
        }
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
