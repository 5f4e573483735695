package io.gatehouse.compression;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * A streaming decoder of one request body. Output is handed to a {@link Sink} in pieces of bounded size, so a body
 * that inflates enormously is stopped by the sink before it is ever held whole.
 */
interface Decompressor extends AutoCloseable {

    /** Takes decoded pieces; returns false to stop decoding (the body is refused). */
    interface Sink {
        boolean accept(ByteBuf decoded);
    }

    /** Decodes all of {@code in} (not released here); false when the sink stopped it. */
    boolean decode(ByteBuf in, ByteBufAllocator alloc, Sink sink);

    /** True when the stream ended properly (called after the last input). */
    boolean finished();

    @Override
    void close();

    /** Thrown for input that is not a valid stream of the coding. */
    final class CorruptInput extends RuntimeException {
        CorruptInput(String message) {
            super(message, null, false, false);
        }
    }
}
