package io.gatehouse.transport;

import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class DispatchClockTest {
    private final MockTicker source = Ticker.newMockTicker();
    private final DispatchClock clock = new DispatchClock(source);

    @Test
    void outsideADispatchEveryReadingIsFresh() {
        long before = clock.nanoTime();
        source.advance(5, TimeUnit.MILLISECONDS);
        assertThat(clock.nanoTime() - before).isEqualTo(TimeUnit.MILLISECONDS.toNanos(5));
    }

    @Test
    void insideADispatchTimeStandsAtTheFirstReading() {
        DispatchClock.enter();
        try {
            source.advance(1, TimeUnit.SECONDS);
            long first = clock.nanoTime();
            source.advance(3, TimeUnit.MILLISECONDS);
            assertThat(clock.nanoTime()).isEqualTo(first);
        } finally {
            DispatchClock.exit();
        }
        assertThat(clock.nanoTime()).isEqualTo(source.nanoTime());
    }

    @Test
    void nestedDispatchesShareTheOuterReadingAndTheNextDispatchReadsAgain() {
        long outer;
        DispatchClock.enter();
        try {
            outer = clock.nanoTime();
            DispatchClock.enter();
            try {
                source.advance(2, TimeUnit.MILLISECONDS);
                assertThat(clock.nanoTime()).isEqualTo(outer);
            } finally {
                DispatchClock.exit();
            }
            assertThat(clock.nanoTime()).isEqualTo(outer); // the inner exit did not end the outer dispatch
        } finally {
            DispatchClock.exit();
        }
        DispatchClock.enter();
        try {
            assertThat(clock.nanoTime()).isEqualTo(outer + TimeUnit.MILLISECONDS.toNanos(2));
        } finally {
            DispatchClock.exit();
        }
    }

    @Test
    void twoClocksInOneDispatchEachAnswerFromTheirOwnSource() {
        MockTicker otherSource = Ticker.newMockTicker();
        otherSource.advance(1, TimeUnit.HOURS);
        DispatchClock other = new DispatchClock(otherSource);
        DispatchClock.enter();
        try {
            assertThat(clock.nanoTime()).isEqualTo(source.nanoTime());
            assertThat(other.nanoTime()).isEqualTo(otherSource.nanoTime());
        } finally {
            DispatchClock.exit();
        }
    }

    @Test
    void wrappingTwiceKeepsOneLayer() {
        assertThat(DispatchClock.of(clock)).isSameAs(clock);
        assertThat(DispatchClock.of(source)).isInstanceOf(DispatchClock.class);
    }
}
