package io.gatehouse.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpObject;

import java.net.InetSocketAddress;

/**
 * The client side of one exchange. The HTTP/1.1 connection implements it for the request in progress; an HTTP/2
 * stream will implement it per stream. Everything the proxy needs from the client goes through here, so the proxy
 * never assumes HTTP/1.1 framing or one request per connection. All methods run on {@link #eventLoop()}.
 */
public interface Downstream {

    EventLoop eventLoop();

    InetSocketAddress remoteAddress();

    /** The client's IP as text, formatted once per connection (for X-Forwarded-For and logs). */
    io.netty.util.AsciiString remoteIp();

    /** "http" or "https". */
    String scheme();

    /** The client certificate verified in the TLS handshake (mTLS), or null (none sent, or not TLS). */
    default io.gatehouse.tls.ClientCertificate clientCertificate() {
        return null;
    }

    /** Asks for more of the request body; it arrives through {@link HttpExchange#bodyReceiver}. */
    void requestMoreBody();

    /**
     * Writes a response message (head, 1xx interim head, content, last content) without flushing. There is no
     * future: a write that fails closes the client connection (or resets the stream), which the exchange hears
     * through {@link HttpExchange#onClientGone()}; {@link #isWritable()} is the backpressure signal.
     */
    void write(HttpObject message);

    void flush();

    /** False while the client is slow to take what was written; reading the upstream pauses until it is writable. */
    boolean isWritable();

    /** The response cannot be completed (upstream died mid-body, timeout after the head): end it abnormally. */
    void abort(String reason);

    /**
     * After a 101 response: turn this exchange into a byte tunnel to {@code upstream} (WebSocket and other Upgrades).
     * The downstream stops speaking HTTP; bytes flow both ways with backpressure until either side closes.
     */
    void tunnel(Channel upstream);
}
