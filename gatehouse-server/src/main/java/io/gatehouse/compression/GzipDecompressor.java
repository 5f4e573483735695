package io.gatehouse.compression;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * gzip (RFC 1952, concatenated members too) over the JDK's Inflater, inflating at most {@link #PIECE} bytes at a time.
 * Netty's JdkZlibDecoder inflates a whole input buffer in one go, which for a zip bomb is the allocation to avoid.
 */
final class GzipDecompressor implements Decompressor {
    static final int PIECE = 16 * 1024;
    private static final int MAX_HEADER = 8 * 1024;
    private static final int FEXTRA = 4, FNAME = 8, FCOMMENT = 16, FHCRC = 2;

    private enum State { HEADER, BODY, TRAILER, DONE }

    private final Inflater inflater = new Inflater(true);
    private final CRC32 crc = new CRC32();
    private final byte[] pending = new byte[MAX_HEADER]; // header or trailer bytes gathered across pieces
    private int pendingLength;
    private State state = State.HEADER;
    private boolean closed;

    @Override
    public boolean decode(ByteBuf in, ByteBufAllocator alloc, Sink sink) {
        ByteBuffer src = in.nioBuffer();
        while (src.hasRemaining()) {
            switch (state) {
                case HEADER -> header(src);
                case BODY -> {
                    if (!inflate(src, alloc, sink)) return false;
                }
                case TRAILER -> trailer(src);
                case DONE -> {
                    // another member may follow (RFC 1952 §2.2)
                    state = State.HEADER;
                    inflater.reset();
                    crc.reset();
                }
            }
        }
        return true;
    }

    private void header(ByteBuffer src) {
        while (src.hasRemaining()) {
            if (pendingLength == pending.length) throw new CorruptInput("gzip header too long");
            pending[pendingLength++] = src.get();
            int length = headerLength();
            if (length > 0) {
                pendingLength = 0;
                state = State.BODY;
                return;
            }
        }
    }

    /** The header's length once all of it is in {@code pending}, else -1. */
    private int headerLength() {
        byte[] b = pending;
        int n = pendingLength;
        if (n >= 1 && b[0] != 0x1f || n >= 2 && b[1] != (byte) 0x8b) throw new CorruptInput("not gzip");
        if (n >= 3 && b[2] != 8) throw new CorruptInput("gzip method is not deflate");
        if (n < 10) return -1;
        int flags = b[3] & 0xff;
        int at = 10;
        if ((flags & FEXTRA) != 0) {
            if (n < at + 2) return -1;
            at += 2 + ((b[at] & 0xff) | (b[at + 1] & 0xff) << 8);
        }
        for (int flag : new int[] {FNAME, FCOMMENT}) {
            if ((flags & flag) != 0) {
                while (at < n && b[at] != 0) at++;
                if (at >= n) return -1;
                at++;
            }
        }
        if ((flags & FHCRC) != 0) at += 2;
        return n >= at ? at : -1;
    }

    private boolean inflate(ByteBuffer src, ByteBufAllocator alloc, Sink sink) {
        inflater.setInput(src);
        while (!inflater.finished()) {
            ByteBuf out = alloc.heapBuffer(PIECE);
            int n;
            try {
                n = inflater.inflate(out.array(), out.arrayOffset(), PIECE);
            } catch (DataFormatException e) {
                out.release(); // the piece never reaches the sink
                throw new CorruptInput("invalid deflate data: " + e.getMessage());
            }
            if (n == 0) {
                out.release();
                if (inflater.needsInput()) return true;
                if (inflater.needsDictionary()) throw new CorruptInput("gzip needs a dictionary");
                continue;
            }
            out.writerIndex(n);
            crc.update(out.array(), out.arrayOffset(), n);
            if (!sink.accept(out)) return false;
        }
        state = State.TRAILER;
        return true;
    }

    private void trailer(ByteBuffer src) {
        while (src.hasRemaining() && pendingLength < 8) pending[pendingLength++] = src.get();
        if (pendingLength < 8) return;
        pendingLength = 0;
        long expectedCrc = (pending[0] & 0xffL) | (pending[1] & 0xffL) << 8 | (pending[2] & 0xffL) << 16 | (pending[3] & 0xffL) << 24;
        if (expectedCrc != crc.getValue()) throw new CorruptInput("gzip CRC mismatch");
        state = State.DONE;
    }

    @Override
    public boolean finished() {
        return state == State.DONE;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            inflater.end();
        }
    }
}
