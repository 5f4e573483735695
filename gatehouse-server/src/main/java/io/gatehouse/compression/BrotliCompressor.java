package io.gatehouse.compression;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.encoder.Encoder;
import com.aayushatharva.brotli4j.encoder.EncoderJNI;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * Brotli (RFC 7932) through brotli4j's streaming encoder, the native library Netty's BrotliEncoder wraps (which, like
 * its zlib encoder, flushes every message; here flushing follows the caller's read batches).
 */
final class BrotliCompressor implements Compressor {
    private static final Logger log = LoggerFactory.getLogger(BrotliCompressor.class);
    /** 256 KiB window: on-the-fly compression gains little beyond it and every stream holds one in native memory. */
    private static final int WINDOW_BITS = 18;
    private static final int INPUT_BUFFER = 16 * 1024;
    private static final boolean AVAILABLE = load();

    private final EncoderJNI.Wrapper encoder;
    private final ByteBuffer input;
    private boolean pending;
    private boolean closed;

    BrotliCompressor(int quality) {
        try {
            encoder = new EncoderJNI.Wrapper(INPUT_BUFFER, quality, WINDOW_BITS, Encoder.Mode.GENERIC);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        input = encoder.getInputBuffer();
    }

    /** True when the native library loaded; otherwise gzip serves alone (said once in the log). */
    static boolean available() {
        return AVAILABLE;
    }

    private static boolean load() {
        try {
            Brotli4jLoader.ensureAvailability();
            return true;
        } catch (Throwable t) {
            log.warn("brotli unavailable on this platform ({}); responses are compressed with gzip only", t.toString());
            return false;
        }
    }

    @Override
    public String encoding() {
        return "br";
    }

    @Override
    public ByteBuf compress(ByteBuf in, ByteBufAllocator alloc) {
        ByteBuf out = null;
        int index = in.readerIndex();
        int end = in.writerIndex();
        while (index < end) {
            int n = Math.min(end - index, input.capacity());
            input.clear();
            input.limit(n);
            in.getBytes(index, input);
            index += n;
            out = push(EncoderJNI.Operation.PROCESS, n, out, alloc);
        }
        pending |= in.isReadable();
        return out == null ? Unpooled.EMPTY_BUFFER : out;
    }

    @Override
    public ByteBuf flush(ByteBufAllocator alloc) {
        if (!pending) return Unpooled.EMPTY_BUFFER;
        pending = false;
        ByteBuf out = push(EncoderJNI.Operation.FLUSH, 0, null, alloc);
        return out == null ? Unpooled.EMPTY_BUFFER : out;
    }

    @Override
    public ByteBuf finish(ByteBufAllocator alloc) {
        ByteBuf out = push(EncoderJNI.Operation.FINISH, 0, null, alloc);
        return out == null ? Unpooled.EMPTY_BUFFER : out;
    }

    /** Pushes {@code length} input bytes with {@code op} and collects all output (brotli's own Encoder loop). */
    private ByteBuf push(EncoderJNI.Operation op, int length, ByteBuf out, ByteBufAllocator alloc) {
        encoder.push(op, length);
        while (true) {
            if (!encoder.isSuccess()) throw new IllegalStateException("brotli encoding failed");
            if (encoder.hasMoreOutput()) {
                ByteBuffer produced = encoder.pull();
                if (out == null) out = alloc.directBuffer(Math.max(256, produced.remaining()));
                out.writeBytes(produced);
            } else if (encoder.hasRemainingInput()) {
                encoder.push(op, 0);
            } else {
                return out;
            }
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            encoder.destroy();
        }
    }
}
