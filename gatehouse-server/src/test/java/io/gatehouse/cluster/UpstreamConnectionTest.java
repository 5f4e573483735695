package io.gatehouse.cluster;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The connection's deadline timer: armed for its owner, and gone with the connection. */
class UpstreamConnectionTest {
    private static final long THIRTY_SECONDS = TimeUnit.SECONDS.toNanos(30);

    @Test
    void aClosedConnectionLeavesNoTimerBehindToHoldIt() {
        AtomicInteger closed = new AtomicInteger();
        UpstreamConnection conn = new UpstreamConnection(null, new UpstreamConnection.Home() {
            @Override public void offer(UpstreamConnection c) { }
            @Override public void opened(UpstreamConnection c) { }
            @Override public void closed(UpstreamConnection c) { closed.incrementAndGet(); }
            @Override public Ticker ticker() { return Ticker.systemTicker(); }
        });
        EmbeddedChannel ch = new EmbeddedChannel(conn);
        conn.attach(new WaitingOwner(), false);
        conn.watchDeadlines();
        assertThat(ch.runScheduledPendingTasks()).as("the owner's deadline is watched").isPositive();

        // Closed as the endpoint or the pool closes it; EmbeddedChannel.close() would cancel every timer itself.
        ch.unsafe().close(ch.newPromise());
        ch.runPendingTasks();

        assertThat(closed).hasValue(1);
        // -1: nothing scheduled. Before the fix the timer stayed for its 30 s, and the connection with it.
        assertThat(ch.runScheduledPendingTasks()).isEqualTo(-1);
    }

    /** An exchange waiting on its endpoint, with its deadline 30 s away. */
    private static final class WaitingOwner implements UpstreamConnection.Owner {
        private final long deadline = System.nanoTime() + THIRTY_SECONDS;

        @Override public void onConnected(UpstreamConnection connection, boolean reused) { }
        @Override public void onConnectFailed(String reason) { }
        @Override public void onResponse(UpstreamConnection connection, HttpObject message) { }
        @Override public void onResponseReadComplete(UpstreamConnection connection) { }
        @Override public void onUpstreamWritable(UpstreamConnection connection) { }
        @Override public void onUpstreamClosed(UpstreamConnection connection) { }
        @Override public long nextDeadlineNanos() { return deadline; }
        @Override public long deadlineCheckNanos() { return THIRTY_SECONDS; }
        @Override public void onDeadline(UpstreamConnection connection) { }
    }
}
