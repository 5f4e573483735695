package io.gatehouse;

import io.gatehouse.config.GatehouseConfig;
import io.netty.util.concurrent.Ticker;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The running edge: owns the event loops, listeners and clusters of one process. {@link #start} binds every
 * listener; {@link #reload} swaps in a new configuration; {@link #shutdown} drains and stops.
 */
public final class Gatehouse implements AutoCloseable {

    private Gatehouse() {}

    /** Starts serving {@code config}; returns once every listener is bound. Fails if any listener cannot bind. */
    public static Gatehouse start(GatehouseConfig config) {
        return start(config, Ticker.systemTicker());
    }

    /** As {@link #start(GatehouseConfig)}, with the clock that drives health checks, ejections and timeouts. */
    public static Gatehouse start(GatehouseConfig config, Ticker ticker) {
        throw new IllegalStateException("data plane lands in the next commit");
    }

    /** The address a listener is bound to (useful with port 0). */
    public InetSocketAddress listenerAddress(String listenerName) {
        throw new IllegalStateException("data plane lands in the next commit");
    }

    /** Swaps in {@code next}: new requests use it at once; in-flight ones finish on the old routes. */
    public void reload(GatehouseConfig next) {
        throw new IllegalStateException("data plane lands in the next commit");
    }

    /** Stops accepting, lets in-flight requests finish for up to {@code drainTimeout}, then closes everything. */
    public void shutdown(Duration drainTimeout) {
        throw new IllegalStateException("data plane lands in the next commit");
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(5));
    }
}
