package io.gatehouse.clock;

import io.netty.util.concurrent.Ticker;

import java.util.concurrent.TimeUnit;

/** {@link Clock#system()}: Netty's system ticker and {@link System#currentTimeMillis()}. */
final class SystemClock implements Clock {
    static final SystemClock INSTANCE = new SystemClock();
    private static final Ticker TICKER = Ticker.systemTicker();

    private SystemClock() {}

    @Override public long currentTimeMillis() { return System.currentTimeMillis(); }
    @Override public long initialNanoTime() { return TICKER.initialNanoTime(); }
    @Override public long nanoTime() { return TICKER.nanoTime(); }
    @Override public void sleep(long delay, TimeUnit unit) throws InterruptedException { TICKER.sleep(delay, unit); }
}
