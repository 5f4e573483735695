package io.gatehouse.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.zip.CRC32;

/**
 * The deterministic byte pattern of {@link TestResponse#generatedBody(long) generated bodies}, usable on the client
 * side to produce big uploads and to verify big downloads in bounded memory.
 *
 * <p>Byte {@code i} is the top byte of {@code i * 0x9E3779B97F4A7C15} (Fibonacci hashing): one multiply per byte,
 * and unlike {@code i & 0xFF} it does not repeat with a short period, so a dropped, duplicated or reordered block is
 * caught at its first byte.
 */
public final class BodyPattern {

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private BodyPattern() {
    }

    /** The pattern byte at {@code index} (0-based offset in the body). */
    public static byte byteAt(long index) {
        return (byte) ((index * GOLDEN) >>> 56);
    }

    /** Writes the pattern bytes {@code [startIndex, startIndex + length)} into {@code dst[offset…]}. */
    public static void fill(byte[] dst, int offset, int length, long startIndex) {
        for (int i = 0; i < length; i++) {
            dst[offset + i] = byteAt(startIndex + i);
        }
    }

    /** A new array holding the first {@code length} pattern bytes. */
    public static byte[] bytes(int length) {
        byte[] bytes = new byte[length];
        fill(bytes, 0, length, 0);
        return bytes;
    }

    /** A stream of the first {@code length} pattern bytes, generated on demand (e.g. for a multi-GiB upload). */
    public static InputStream inputStream(long length) {
        return new InputStream() {
            private long position;

            @Override
            public int read() {
                return position < length ? byteAt(position++) & 0xFF : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (len == 0) {
                    return 0;
                }
                if (position >= length) {
                    return -1;
                }
                int n = (int) Math.min(len, length - position);
                fill(b, off, n, position);
                position += n;
                return n;
            }
        };
    }

    /** The CRC32 of the first {@code length} pattern bytes, as {@link TestBackend#countingUploads()} reports it. */
    public static long crc32(long length) {
        CRC32 crc = new CRC32();
        byte[] chunk = new byte[64 * 1024];
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(chunk.length, length - done);
            fill(chunk, 0, n, done);
            crc.update(chunk, 0, n);
            done += n;
        }
        return crc.getValue();
    }

    /**
     * Reads {@code in} to its end and compares it with the first {@code expectedLength} pattern bytes.
     *
     * @return -1 when the stream is exactly the pattern of that length, otherwise the offset of the first wrong byte
     *     (the length of the shorter of the two when one is a prefix of the other)
     */
    public static long firstMismatch(InputStream in, long expectedLength) {
        byte[] chunk = new byte[64 * 1024];
        long position = 0;
        try {
            for (int n; (n = in.read(chunk)) != -1; ) {
                for (int i = 0; i < n; i++, position++) {
                    if (position >= expectedLength || chunk[i] != byteAt(position)) {
                        return position;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return position == expectedLength ? -1 : position;
    }
}
