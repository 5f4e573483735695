package io.gatehouse.clock;

import io.netty.util.concurrent.Ticker;

import java.time.Instant;
import java.time.ZoneOffset;

/**
 * The one clock of a Gatehouse process: monotonic time ({@link #nanoTime()}, for durations, deadlines and timeouts:
 * it never jumps) and wall time ({@link #currentTimeMillis()}, for what is dated: access-log timestamps, events,
 * certificate and OCSP validity, and later HTTP cache freshness, JWT {@code exp}/{@code nbf} and daily quotas). Tests
 * control both with {@link ManualClock}, never by sleeping. It is a Netty {@link Ticker}, so everything that only
 * measures durations takes it as one.
 */
public interface Clock extends Ticker {

    /** Wall time in milliseconds since the epoch. */
    long currentTimeMillis();

    /** Wall time as an instant. */
    default Instant instant() {
        return Instant.ofEpochMilli(currentTimeMillis());
    }

    /** Wall time for java.time APIs (event logs, formatting). */
    default java.time.Clock asJavaClock() {
        Clock self = this;
        return new java.time.Clock() {
            @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
            @Override public java.time.Clock withZone(java.time.ZoneId zone) { throw new UnsupportedOperationException(); }
            @Override public Instant instant() { return self.instant(); }
            @Override public long millis() { return self.currentTimeMillis(); }
        };
    }

    /** The machine's clocks. */
    static Clock system() {
        return SystemClock.INSTANCE;
    }

    /** {@code ticker}'s monotonic time with the machine's wall time; {@code ticker} itself if it is a Clock already. */
    static Clock of(Ticker ticker) {
        if (ticker instanceof Clock c) return c;
        return new Clock() {
            @Override public long currentTimeMillis() { return System.currentTimeMillis(); }
            @Override public long initialNanoTime() { return ticker.initialNanoTime(); }
            @Override public long nanoTime() { return ticker.nanoTime(); }
            @Override public void sleep(long delay, java.util.concurrent.TimeUnit unit) throws InterruptedException { ticker.sleep(delay, unit); }
        };
    }
}
