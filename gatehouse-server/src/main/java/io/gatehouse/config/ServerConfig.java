package io.gatehouse.config;

import java.time.Duration;

/**
 * Process-wide settings.
 *
 * @param eventLoops    event-loop threads; 0 means one per core
 * @param transport     {@code auto} (epoll if available, else NIO), {@code epoll}, {@code io_uring}, {@code nio}
 * @param drainTimeout  on SIGTERM, how long in-flight requests may take before connections are closed
 * @param watchConfig   reload the configuration file by itself when its content changes (polled every second)
 */
public record ServerConfig(int eventLoops, String transport, Duration drainTimeout, boolean watchConfig) {
    public static final ServerConfig DEFAULT = new ServerConfig(0, null, null, false);

    public ServerConfig {
        if (eventLoops < 0) throw new IllegalArgumentException("event_loops: must be >= 0");
        transport = transport == null ? "auto" : transport;
        if (!transport.equals("auto") && !transport.equals("epoll") && !transport.equals("io_uring") && !transport.equals("nio")) {
            throw new IllegalArgumentException("transport: must be one of auto, epoll, io_uring, nio");
        }
        drainTimeout = drainTimeout == null ? Duration.ofSeconds(30) : drainTimeout;
    }
}
