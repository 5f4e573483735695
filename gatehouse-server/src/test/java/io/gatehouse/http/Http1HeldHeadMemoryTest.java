package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a connection holds while its request head arrives in pieces (slowloris): the bytes sent, in a buffer of their
 * size, not the 2 KiB read buffer they arrived in. Reads are modelled as the transport makes them: pooled direct
 * buffers of the read allocator's size (2 KiB at first) holding what arrived.
 */
class Http1HeldHeadMemoryTest {
    private static final int READ_BUFFER = 2048;
    private final PooledByteBufAllocator pooled = new PooledByteBufAllocator(true);
    private final Http1RequestDecoder decoder = new Http1RequestDecoder(8192, 32768, 100);
    private final EmbeddedChannel channel = channel();

    private EmbeddedChannel channel() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAllocator(pooled);
        ch.pipeline().addLast(decoder);
        return ch;
    }

    @AfterEach
    void noLeaks() {
        channel.finishAndReleaseAll();
        assertThat(pooled.metric().directArenas().stream().mapToLong(a -> a.numActiveAllocations()).sum()).isZero();
    }

    private void read(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuf buf = pooled.directBuffer(Math.max(READ_BUFFER, b.length)).writeBytes(b);
        channel.writeInbound(buf);
    }

    private List<Object> drain() {
        List<Object> out = new ArrayList<>();
        for (Object m; (m = channel.readInbound()) != null; ) out.add(m);
        return out;
    }

    @Test
    void aHalfSentHeadIsHeldInABufferOfItsOwnSize() {
        // whole lines are parsed as they come; the unfinished one is what stays in the buffer
        read("GET /a HTTP/1.1\r\nHost: edge\r\nUser-Agent: slowlo");

        assertThat(drain()).isEmpty();
        assertThat(decoder.heldCapacity()).isEqualTo(64);

        read("ris\r\nX-A: 1\r\n\r\n");
        List<Object> out = drain();
        try {
            HttpRequest request = (HttpRequest) out.get(0);
            assertThat(request.uri()).isEqualTo("/a");
            assertThat(request.headers().get("user-agent")).isEqualTo("slowloris");
            assertThat(request.headers().get("x-a")).isEqualTo("1");
            assertThat(decoder.heldCapacity()).isZero();
        } finally {
            out.forEach(ReferenceCountUtil::release);
        }
    }

    @Test
    void aHeadSentByteByByteStaysSmallAndDecodesTheSame() {
        // each read is one byte in a 2 KiB buffer: held, that would be 2 KiB per connection for the whole head
        String head = "GET /byte/by/byte?q=1 HTTP/1.1\r\nHost: edge\r\nAccept: */*\r\nX-Long: " + "v".repeat(200) + "\r\n\r\n";
        int most = 0;
        for (int i = 0; i < head.length() - 1; i++) {
            read(head.substring(i, i + 1));
            most = Math.max(most, decoder.heldCapacity());
        }
        assertThat(drain()).isEmpty();
        assertThat(most).isLessThanOrEqualTo(512);   // the longest line so far, rounded up, not 2 KiB

        read(head.substring(head.length() - 1));
        List<Object> out = drain();
        try {
            HttpRequest request = (HttpRequest) out.get(0);
            assertThat(request.uri()).isEqualTo("/byte/by/byte?q=1");
            assertThat(request.headers().get("x-long")).isEqualTo("v".repeat(200));
        } finally {
            out.forEach(ReferenceCountUtil::release);
        }
    }

    @Test
    void aPipelinedPartialHeadAfterAWholeRequestIsShrunkToo() {
        read("GET /one HTTP/1.1\r\nHost: edge\r\n\r\nGET /two HTTP/1.1\r\nHo");
        List<Object> out = drain();
        try {
            assertThat(((HttpRequest) out.get(0)).uri()).isEqualTo("/one");
            assertThat(decoder.heldCapacity()).isEqualTo(64);
        } finally {
            out.forEach(ReferenceCountUtil::release);
        }
        read("st: edge\r\n\r\n");
        out = drain();
        try {
            assertThat(((HttpRequest) out.get(0)).uri()).isEqualTo("/two");
        } finally {
            out.forEach(ReferenceCountUtil::release);
        }
    }

    @Test
    void aBodyPieceStillSharingTheBufferIsNeverMoved() {
        // the head, half the body (a slice of the read buffer, still held by whoever took it) and nothing else
        read("POST /up HTTP/1.1\r\nHost: edge\r\nContent-Length: 10\r\n\r\nhello");
        List<Object> out = drain();
        try {
            HttpContent piece = (HttpContent) out.get(1);
            read("world");
            List<Object> rest = drain();
            try {
                assertThat(piece.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
                assertThat(((HttpContent) rest.get(0)).content().toString(StandardCharsets.US_ASCII)).isEqualTo("world");
                assertThat(rest.get(rest.size() - 1)).isInstanceOf(LastHttpContent.class);
            } finally {
                rest.forEach(ReferenceCountUtil::release);
            }
        } finally {
            out.forEach(ReferenceCountUtil::release);
        }
    }
}
