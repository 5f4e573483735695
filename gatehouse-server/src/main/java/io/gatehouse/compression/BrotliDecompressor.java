package io.gatehouse.compression;

import com.aayushatharva.brotli4j.decoder.DecoderJNI;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/** Brotli through brotli4j's streaming decoder, taking output at most {@link #PIECE} bytes at a time. */
final class BrotliDecompressor implements Decompressor {
    private static final int PIECE = 16 * 1024;
    private static final int INPUT_BUFFER = 16 * 1024;

    private final DecoderJNI.Wrapper decoder;
    private boolean done;
    private boolean closed;

    BrotliDecompressor() {
        try {
            decoder = new DecoderJNI.Wrapper(INPUT_BUFFER);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public boolean decode(ByteBuf in, ByteBufAllocator alloc, Sink sink) {
        int index = in.readerIndex();
        int end = in.writerIndex();
        while (true) {
            switch (decoder.getStatus()) {
                case DONE -> {
                    done = true;
                    if (index < end) throw new CorruptInput("bytes after the end of the brotli stream");
                    return true;
                }
                case OK -> decoder.push(0);
                case NEEDS_MORE_OUTPUT -> {
                    if (!emit(decoder.pull(PIECE), alloc, sink)) return false;
                }
                case NEEDS_MORE_INPUT -> {
                    if (decoder.hasOutput()) {
                        if (!emit(decoder.pull(PIECE), alloc, sink)) return false;
                    } else if (index == end) {
                        return true;
                    } else {
                        ByteBuffer input = decoder.getInputBuffer();
                        input.clear();
                        int n = Math.min(end - index, input.capacity());
                        input.limit(n);
                        in.getBytes(index, input);
                        index += n;
                        decoder.push(n);
                    }
                }
                default -> throw new CorruptInput("invalid brotli data");
            }
        }
    }

    private static boolean emit(ByteBuffer produced, ByteBufAllocator alloc, Sink sink) {
        if (!produced.hasRemaining()) return true;
        ByteBuf out = alloc.heapBuffer(produced.remaining());
        out.writeBytes(produced);
        return sink.accept(out);
    }

    @Override
    public boolean finished() {
        if (!done && decoder.getStatus() == DecoderJNI.Status.DONE) done = true;
        return done;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            decoder.destroy();
        }
    }
}
