package io.gatehouse.clock;

import io.netty.util.concurrent.MockTicker;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that moves only when told ({@link #advance}): monotonic and wall time move together. For tests (and
 * simulations): timeouts, ejections, freshness and expiry without sleeping. Thread-safe.
 */
public final class ManualClock implements Clock, MockTicker {
    private final AtomicLong nanos = new AtomicLong();
    private final long wallStartMillis;

    /** Starting at {@code wallTime} (monotonic time starts at 0). */
    public ManualClock(Instant wallTime) {
        this.wallStartMillis = wallTime.toEpochMilli();
    }

    /** Starting at the present wall time. */
    public ManualClock() {
        this(Instant.now());
    }

    @Override public long initialNanoTime() { return 0; }
    @Override public long nanoTime() { return nanos.get(); }
    @Override public long currentTimeMillis() { return wallStartMillis + TimeUnit.NANOSECONDS.toMillis(nanos.get()); }

    @Override
    public void advance(long amount, TimeUnit unit) {
        if (amount < 0) throw new IllegalArgumentException("time does not go back: " + amount);
        nanos.addAndGet(unit.toNanos(amount));
    }

    public ManualClock advance(Duration d) {
        advance(d.toNanos(), TimeUnit.NANOSECONDS);
        return this;
    }

    /** Sleeping on a manual clock moves it: nothing waits for real. */
    @Override
    public void sleep(long delay, TimeUnit unit) {
        advance(delay, unit);
    }
}
