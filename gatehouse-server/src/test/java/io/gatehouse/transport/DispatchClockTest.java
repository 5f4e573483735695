package io.gatehouse.transport;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoRegistration;
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
    void eachRunOfAnIoHandlerIsOneDispatch() throws Exception {
        java.util.List<Long> readings = new java.util.ArrayList<>();
        IoHandler inner = new IoHandler() {
            @Override
            public int run(IoHandlerContext context) {
                // two connections served by one batch of ready events
                readings.add(clock.nanoTime());
                source.advance(4, TimeUnit.MILLISECONDS);
                readings.add(clock.nanoTime());
                return 2;
            }

            @Override
            public IoRegistration register(IoHandle handle) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void wakeup() {
            }

            @Override
            public boolean isCompatible(Class<? extends IoHandle> handleType) {
                return handleType == IoHandle.class;
            }
        };
        IoHandler batched = DispatchClock.perIoBatch(executor -> inner).newHandler(null);

        assertThat(batched.run(null)).isEqualTo(2);
        assertThat(readings.get(1)).isEqualTo(readings.get(0));
        assertThat(clock.nanoTime()).isEqualTo(readings.get(0) + TimeUnit.MILLISECONDS.toNanos(4)); // between batches
        batched.run(null);
        assertThat(readings.get(2)).isEqualTo(readings.get(0) + TimeUnit.MILLISECONDS.toNanos(4)); // the next batch reads anew
        assertThat(batched.isCompatible(IoHandle.class)).isTrue();
    }

    @Test
    void wrappingTwiceKeepsOneLayer() {
        assertThat(DispatchClock.of(clock)).isSameAs(clock);
        assertThat(DispatchClock.of(source)).isInstanceOf(DispatchClock.class);
    }
}
