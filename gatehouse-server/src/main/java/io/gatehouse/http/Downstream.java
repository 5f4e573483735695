package io.gatehouse.http;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;

/**
 * The client side of one exchange, as the protocol handler offers it: the HTTP/1.1 connection for the request in
 * progress, or one HTTP/2 stream. It is the innermost {@link ResponseSink}; filters see the response through the
 * sinks they wrap around it, and never this object's other methods, which belong to the protocol. All methods run on
 * {@link #eventLoop()}.
 */
public interface Downstream extends ResponseSink {

    EventLoop eventLoop();

    /** What is known of the client connection (address, TLS, client certificate). */
    ConnectionInfo connection();

    /** Asks for more of the request body; it arrives through {@link HttpExchange#bodyReceiver}. */
    void requestMoreBody();

    /**
     * After a 101 response: turn this exchange into a byte tunnel to {@code upstream} (WebSocket and other Upgrades).
     * The downstream stops speaking HTTP; bytes flow both ways with backpressure until either side closes.
     */
    void tunnel(Channel upstream);

    /**
     * This connection sends a file's bytes without copying them through user space (sendfile): plain HTTP/1.1 on
     * epoll or NIO. TLS, HTTP/2 and io_uring cannot; their callers read the file and write the bytes.
     */
    default boolean zeroCopy() {
        return false;
    }

    /**
     * Writes {@code region} as the next body bytes (only when {@link #zeroCopy()}; the head said the length). The
     * connection releases it once sent, which closes its file.
     */
    default void write(io.netty.channel.FileRegion region) {
        region.release();
        throw new UnsupportedOperationException("this connection cannot send a file region");
    }
}
