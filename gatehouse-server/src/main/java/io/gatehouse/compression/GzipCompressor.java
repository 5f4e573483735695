package io.gatehouse.compression;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * gzip (RFC 1952) over the JDK's Deflater, written straight into pooled buffers. Netty's JdkZlibEncoder would do, but
 * it sync-flushes every message; here the caller decides when to flush (once per upstream read batch), which keeps
 * the ratio of small chunks and costs fewer flush markers.
 */
final class GzipCompressor implements Compressor {
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};
    private static final int CHUNK = 8192;

    private final Deflater deflater;
    private final CRC32 crc = new CRC32();
    private boolean headerWritten;
    private boolean pending;   // input taken since the last flush
    private boolean closed;

    GzipCompressor(int level) {
        deflater = new Deflater(level, true);
    }

    @Override
    public String encoding() {
        return "gzip";
    }

    @Override
    public ByteBuf compress(ByteBuf in, ByteBufAllocator alloc) {
        ByteBuf out = start(alloc, in.readableBytes() / 2);
        for (ByteBuffer nio : in.nioBuffers()) {
            crc.update(nio.duplicate());
            deflater.setInput(nio);
            while (!deflater.needsInput()) deflate(out, Deflater.NO_FLUSH);
        }
        pending |= in.isReadable();
        deflater.setInput(HEADER, 0, 0); // drop the reference to the caller's buffer
        return done(out);
    }

    @Override
    public ByteBuf flush(ByteBufAllocator alloc) {
        if (!pending) return Unpooled.EMPTY_BUFFER;
        pending = false;
        ByteBuf out = start(alloc, CHUNK);
        // SYNC_FLUSH is complete once a call leaves room in the output
        while (deflate(out, Deflater.SYNC_FLUSH)) {
            // output was full: more to come
        }
        return done(out);
    }

    @Override
    public ByteBuf finish(ByteBufAllocator alloc) {
        ByteBuf out = start(alloc, CHUNK);
        deflater.finish();
        while (!deflater.finished()) deflate(out, Deflater.NO_FLUSH);
        out.writeIntLE((int) crc.getValue());
        out.writeIntLE((int) deflater.getBytesRead());
        return out;
    }

    /** Deflates into {@code out}'s free space; true when it filled it (and may have more). */
    private boolean deflate(ByteBuf out, int flush) {
        out.ensureWritable(CHUNK);
        int writable = out.writableBytes();
        ByteBuffer dst = out.internalNioBuffer(out.writerIndex(), writable);
        int n = deflater.deflate(dst, flush);
        out.writerIndex(out.writerIndex() + n);
        return n == writable;
    }

    private ByteBuf start(ByteBufAllocator alloc, int hint) {
        ByteBuf out = alloc.directBuffer(Math.max(256, Math.min(hint, 64 * 1024)));
        if (!headerWritten) {
            headerWritten = true;
            out.writeBytes(HEADER);
        }
        return out;
    }

    private static ByteBuf done(ByteBuf out) {
        if (out.isReadable()) return out;
        out.release();
        return Unpooled.EMPTY_BUFFER;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            deflater.end();
        }
    }
}
