package io.gatehouse.compression;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The gzip decoder alone: what it hands on, and that it keeps no buffer of its own when the input is bad. */
class GzipDecompressorTest {
    /** Every buffer the decoder asks for, to check afterwards that each was handed on or released. */
    private final List<ByteBuf> allocated = new ArrayList<>();
    private final ByteBufAllocator alloc = new AbstractByteBufAllocator(false) {
        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = Unpooled.buffer(initialCapacity, maxCapacity);
            allocated.add(b);
            return b;
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = Unpooled.directBuffer(initialCapacity, maxCapacity);
            allocated.add(b);
            return b;
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    };

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(data);
        }
        return bytes.toByteArray();
    }

    @Test
    void decodesAWholeBodyInPieces() throws IOException {
        byte[] body = "gatehouse ".repeat(10_000).getBytes(StandardCharsets.US_ASCII);
        List<ByteBuf> out = new ArrayList<>();
        try (GzipDecompressor d = new GzipDecompressor()) {
            assertThat(d.decode(Unpooled.wrappedBuffer(gzip(body)), alloc, out::add)).isTrue();
            assertThat(d.finished()).isTrue();
        }
        ByteBuf all = Unpooled.wrappedBuffer(out.toArray(new ByteBuf[0]));
        assertThat(all.toString(StandardCharsets.US_ASCII)).isEqualTo(new String(body, StandardCharsets.US_ASCII));
        all.release();
        assertThat(allocated).allSatisfy(b -> assertThat(b.refCnt()).isZero());
    }

    @Test
    void corruptDeflateDataLeavesNoBufferBehind() throws IOException {
        byte[] broken = gzip("{\"a\":1}".repeat(100).getBytes(StandardCharsets.US_ASCII));
        for (int i = 10; i < broken.length - 8; i++) broken[i] = (byte) 0xff; // block type 3: reserved, invalid
        List<ByteBuf> out = new ArrayList<>();
        try (GzipDecompressor d = new GzipDecompressor()) {
            assertThatThrownBy(() -> d.decode(Unpooled.wrappedBuffer(broken), alloc, out::add))
                    .isInstanceOf(Decompressor.CorruptInput.class);
        }
        out.forEach(ByteBuf::release);
        assertThat(allocated).isNotEmpty().allSatisfy(b -> assertThat(b.refCnt()).as("a buffer the decoder kept").isZero());
    }
}
