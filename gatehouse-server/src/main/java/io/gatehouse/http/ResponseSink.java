package io.gatehouse.http;

import io.netty.handler.codec.http.HttpObject;

/**
 * Where an exchange's response goes: the client, or a filter in front of it. Filters wrap it (with
 * {@link HttpExchange#wrapResponse}) to see or change the response head and to observe, transform or tee the body;
 * see {@link ForwardingResponseSink}. Responses flow back up the chain: the last filter to wrap sees the response
 * first. All methods run on the exchange's event loop.
 */
public interface ResponseSink {
    /**
     * Writes a response message without flushing: a head ({@code HttpResponse}, possibly a full one with its body),
     * a 1xx interim head followed by its empty last content, body pieces, and the last content (with trailers). There
     * is no future: a write that fails closes the client connection (or resets the stream), which the exchange hears
     * through {@link HttpExchange#onClientGone()}; {@link #isWritable()} is the backpressure signal.
     */
    void write(HttpObject message);

    void flush();

    /** False while the client is slow to take what was written; whoever produces the response pauses until it is writable. */
    boolean isWritable();

    /** The response cannot be completed (the endpoint died mid-body, a timeout after the head): end it abnormally. */
    void abort(String reason);
}
