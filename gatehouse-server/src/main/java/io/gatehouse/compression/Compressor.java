package io.gatehouse.compression;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * A streaming encoder of one response body. Confined to one event loop. Every call returns the encoded bytes it
 * produced (possibly none, never null); the caller owns them. {@link #close()} frees native state and must be called
 * exactly once, whatever happened.
 */
interface Compressor extends AutoCloseable {

    /** Takes {@code in} (not released here); may hold output back to compress better. */
    ByteBuf compress(ByteBuf in, ByteBufAllocator alloc);

    /** Everything taken so far, decodable by the client now (a sync flush). */
    ByteBuf flush(ByteBufAllocator alloc);

    /** The end of the stream (trailer included). */
    ByteBuf finish(ByteBufAllocator alloc);

    @Override
    void close();

    /** The {@code Content-Encoding} token. */
    String encoding();
}
