package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class Http1ResponseDecoderTest {
    private static final String NEXT = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    /** Every buffer fed to a decoder: all must be released once the channel is finished and its output released. */
    private final List<ByteBuf> written = new ArrayList<>();

    @AfterEach
    void everyInputBufferWasReleased() {
        for (ByteBuf b : written) {
            assertThat(b.refCnt()).as("leaked input buffer").isZero();
        }
    }

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(new Http1ResponseDecoder());
    }

    private static Http1ResponseDecoder decoder(EmbeddedChannel channel) {
        return channel.pipeline().get(Http1ResponseDecoder.class);
    }

    private void write(EmbeddedChannel channel, String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuf buf = channel.alloc().directBuffer(b.length).writeBytes(b);
        written.add(buf);
        channel.writeInbound(buf);
    }

    /** Drains the inbound queue into one line per message (releasing each), so tests compare plain strings. */
    private static List<String> transcript(EmbeddedChannel channel) {
        List<String> lines = new ArrayList<>();
        for (Object m; (m = channel.readInbound()) != null; ) {
            try {
                describe(m, lines);
            } finally {
                ReferenceCountUtil.release(m);
            }
        }
        return lines;
    }

    private static void describe(Object m, List<String> lines) {
        if (m instanceof HttpObject o && o.decoderResult().isFailure()) {
            assertThat(m).isInstanceOf(m instanceof HttpResponse ? HttpResponse.class : LastHttpContent.class);
            lines.add((m instanceof HttpResponse ? "FAIL HEAD " : "FAIL BODY ") + o.decoderResult().cause().getMessage());
            return;
        }
        if (m instanceof HttpResponse r) {
            StringBuilder s = new StringBuilder(r.protocolVersion() + " " + r.status());
            for (Map.Entry<String, String> h : r.headers()) {
                s.append(" | ").append(h.getKey()).append('=').append(h.getValue());
            }
            lines.add(s.toString());
            if (!(m instanceof FullHttpResponse)) return;
            // a response decoded whole: its body and end read as the separate pieces of the others
        }
        if (m instanceof HttpContent c && c.content().isReadable()) {
            lines.add("CONTENT " + c.content().toString(StandardCharsets.ISO_8859_1));
        }
        if (m instanceof LastHttpContent last) {
            StringBuilder s = new StringBuilder("LAST");
            for (Map.Entry<String, String> h : last.trailingHeaders()) {
                s.append(" | ").append(h.getKey()).append('=').append(h.getValue());
            }
            lines.add(s.toString());
            return;
        }
        if (m instanceof HttpContent) {
            return;
        }
        if (m instanceof ByteBuf b) {
            lines.add("BYTES " + b.toString(StandardCharsets.ISO_8859_1));
            return;
        }
        throw new AssertionError("unexpected message " + m);
    }

    /** Joins consecutive CONTENT lines: how a body is cut into pieces depends on how it arrived. */
    private static List<String> mergeContent(List<String> lines) {
        List<String> merged = new ArrayList<>();
        for (String line : lines) {
            int last = merged.size() - 1;
            if (line.startsWith("CONTENT ") && last >= 0 && merged.get(last).startsWith("CONTENT ")) {
                merged.set(last, merged.get(last) + line.substring("CONTENT ".length()));
            } else {
                merged.add(line);
            }
        }
        return merged;
    }

    private List<String> decode(String input, HttpMethod... expected) {
        EmbeddedChannel channel = channel();
        for (HttpMethod m : expected) {
            decoder(channel).expectResponseTo(m);
        }
        write(channel, input);
        List<String> lines = transcript(channel);
        assertThat(channel.finishAndReleaseAll()).isFalse();
        return lines;
    }

    @Test
    void decodesAContentLengthBodyThatCameWithItsHeadAsOneFullResponse() {
        EmbeddedChannel channel = channel();
        write(channel, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello");
        FullHttpResponse whole = channel.readInbound();
        assertThat(whole.status()).isSameAs(HttpResponseStatus.OK);
        assertThat(whole.protocolVersion()).isSameAs(HttpVersion.HTTP_1_1);
        assertThat(whole.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("text/plain");
        assertThat(whole.content().toString(StandardCharsets.ISO_8859_1)).isEqualTo("hello");
        assertThat(whole.trailingHeaders().isEmpty()).isTrue();
        whole.release();
        assertThat((Object) channel.readInbound()).isNull();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void keepsEveryFieldOfAHeadInArrivalOrderWhetherItCameWholeOrInPieces() {
        // the field table is sized from the lines the head scan counted: a head split across reads, a second response
        // on the same connection and fields added after decoding must all still fit
        StringBuilder head = new StringBuilder("HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < 40; i++) head.append("X-F").append(i).append(": v").append(i).append("\r\n");
        head.append("Content-Length: 0\r\n\r\n");
        EmbeddedChannel channel = channel();
        String text = head.toString();
        write(channel, text.substring(0, 200));
        write(channel, text.substring(200) + "HTTP/1.1 204 No Content\r\nA: 1\r\n\r\n");
        HttpResponse first = channel.readInbound();
        assertThat(first.headers().size()).isEqualTo(41);
        for (int i = 0; i < 40; i++) assertThat(first.headers().get("X-F" + i)).isEqualTo("v" + i);
        for (int i = 0; i < 10; i++) first.headers().add("Added-" + i, "x");
        assertThat(first.headers().size()).isEqualTo(51);
        io.netty.util.ReferenceCountUtil.release(first);
        HttpResponse second = channel.readInbound();
        assertThat(second.status().code()).isEqualTo(204);
        assertThat(second.headers().names()).containsExactly("A");
        io.netty.util.ReferenceCountUtil.release(second);
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void decodesAContentLengthBodyThatArrivesLaterAsHeadThenPiecesEndingWithItsLastBytes() {
        EmbeddedChannel channel = channel();
        write(channel, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhel");
        HttpResponse head = channel.readInbound();
        assertThat(head).isNotInstanceOf(FullHttpResponse.class);
        assertThat(head.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("text/plain");
        HttpContent first = channel.readInbound();
        assertThat(first).isNotInstanceOf(LastHttpContent.class);
        assertThat(first.content().toString(StandardCharsets.ISO_8859_1)).isEqualTo("hel");
        first.release();
        write(channel, "lo world");
        LastHttpContent last = channel.readInbound();
        assertThat(last.content().toString(StandardCharsets.ISO_8859_1)).isEqualTo("lo world");
        assertThat(last.trailingHeaders().isEmpty()).isTrue();
        last.release();
        assertThat((Object) channel.readInbound()).isNull();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void headerNamesAndValuesAreAsciiStringsSoTheEncoderCopiesBytes() {
        EmbeddedChannel channel = channel();
        write(channel, "HTTP/1.1 204 No Content\r\nServer: nginx\r\nX-Custom: Abc\r\n\r\n");
        HttpResponse head = channel.readInbound();
        Iterator<Map.Entry<CharSequence, CharSequence>> it = head.headers().iteratorCharSequence();
        int n = 0;
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            assertThat(e.getKey()).isInstanceOf(AsciiString.class);
            assertThat(e.getValue()).isInstanceOf(AsciiString.class);
            n++;
        }
        assertThat(n).isEqualTo(2);
        assertThat(head.headers().get("x-custom")).isEqualTo("Abc");
        assertThat(head).isInstanceOf(FullHttpResponse.class); // a 204 has no body: it comes whole
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void streamsContentLengthBodyAsItArrives() {
        EmbeddedChannel channel = channel();
        write(channel, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel");
        assertThat(transcript(channel)).containsExactly("HTTP/1.1 200 OK | content-length=10", "CONTENT hel");
        write(channel, "lo wo");
        assertThat(transcript(channel)).containsExactly("CONTENT lo wo");
        write(channel, "rl");
        assertThat(transcript(channel)).containsExactly("CONTENT rl", "LAST");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void decodesChunkedBodyWithExtensionsAndTrailers() {
        assertThat(decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value;flag\r\nhello\r\n"
                + "6 ; q=\"a \\\"b\\\"\"\r\n world\r\n"
                + "0\r\nX-Checksum: abc\r\nServer-Timing: db;dur=5\r\n\r\n" + NEXT))
                .containsExactly(
                        "HTTP/1.1 200 OK | transfer-encoding=chunked",
                        "CONTENT hello", "CONTENT  world",
                        "LAST | X-Checksum=abc | server-timing=db;dur=5",
                        "HTTP/1.1 200 OK | content-length=2", "CONTENT ok", "LAST");
    }

    @Test
    void chunkedBodyWithoutTrailersEndsWithTheEmptyLastContent() {
        EmbeddedChannel channel = channel();
        write(channel, "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        assertThat(channel.<Object>readInbound()).isInstanceOf(HttpResponse.class);
        HttpContent content = channel.readInbound();
        content.release();
        assertThat(channel.<Object>readInbound()).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void transferEncodingWinsOverContentLengthWhichIsRemoved() {
        assertThat(decode("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "2\r\nhi\r\n0\r\n\r\n" + NEXT))
                .containsExactly("HTTP/1.1 200 OK | transfer-encoding=chunked", "CONTENT hi", "LAST",
                        "HTTP/1.1 200 OK | content-length=2", "CONTENT ok", "LAST");
    }

    @Test
    void identicalContentLengthsAreMergedIntoOne() {
        assertThat(decode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"))
                .containsExactly("HTTP/1.1 200 OK | content-length=2", "CONTENT ok", "LAST");
        assertThat(decode("HTTP/1.1 200 OK\r\nContent-Length: 2 , 2\r\n\r\nok"))
                .containsExactly("HTTP/1.1 200 OK | content-length=2", "CONTENT ok", "LAST");
    }

    @Test
    void responseToHeadHasNoBodyDespiteContentLength() {
        assertThat(decode("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n" + NEXT, HttpMethod.HEAD, HttpMethod.GET))
                .containsExactly("HTTP/1.1 200 OK | content-length=1234", "LAST",
                        "HTTP/1.1 200 OK | content-length=2", "CONTENT ok", "LAST");
    }

    @ParameterizedTest
    @ValueSource(strings = {"204 No Content", "304 Not Modified"})
    void noContentAndNotModifiedHaveNoBody(String status) {
        assertThat(decode("HTTP/1.1 " + status + "\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n" + NEXT))
                .containsExactly("HTTP/1.1 " + status + " | transfer-encoding=chunked", "LAST",
                        "HTTP/1.1 200 OK | content-length=2", "CONTENT ok", "LAST");
    }

    @Test
    void interimResponsesDoNotConsumeTheExpectedMethod() {
        // If 100 or 103 consumed the HEAD expectation, the 200 would read "HTTP/1.1 200 OK..." as its body.
        assertThat(decode("HTTP/1.1 100 Continue\r\n\r\n"
                        + "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                        + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + NEXT,
                HttpMethod.HEAD, HttpMethod.GET))
                .containsExactly("HTTP/1.1 100 Continue", "LAST",
                        "HTTP/1.1 103 Early Hints | Link=</a.css>; rel=preload", "LAST",
                        "HTTP/1.1 200 OK | content-length=2", "LAST",
                        "HTTP/1.1 200 OK | content-length=2", "CONTENT ok", "LAST");
    }

    @Test
    void switchingProtocolsPassesLaterBytesThrough() {
        EmbeddedChannel channel = channel();
        decoder(channel).expectResponseTo(HttpMethod.GET);
        write(channel, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u0081\u0002hi");
        assertThat(transcript(channel)).containsExactly(
                "HTTP/1.1 101 Switching Protocols | upgrade=websocket | connection=Upgrade", "LAST",
                "BYTES \u0081\u0002hi");
        write(channel, "HTTP/1.1 200 OK\r\n\r\n");
        assertThat(transcript(channel)).containsExactly("BYTES HTTP/1.1 200 OK\r\n\r\n");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void removingTheDecoderAfterSwitchingProtocolsForwardsTheBytesItHolds() {
        Http1ResponseDecoder decoder = new Http1ResponseDecoder();
        EmbeddedChannel channel = new EmbeddedChannel(decoder, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                boolean last = msg instanceof LastHttpContent;
                ctx.fireChannelRead(msg);
                if (last) {
                    ctx.pipeline().remove(decoder); // what the proxy does once the 101 is complete
                }
            }
        });
        write(channel, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\nraw tunnel bytes");
        assertThat(transcript(channel)).containsExactly(
                "HTTP/1.1 101 Switching Protocols | upgrade=h2c", "LAST", "BYTES raw tunnel bytes");
        assertThat(channel.pipeline().get(Http1ResponseDecoder.class)).isNull();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void successfulConnectResponseSwitchesProtocols() {
        assertThat(decode("HTTP/1.1 200 Connection Established\r\n\r\nraw", HttpMethod.CONNECT))
                .containsExactly("HTTP/1.1 200 Connection Established", "LAST", "BYTES raw");
        assertThat(decode("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 1\r\n\r\nx" + NEXT,
                HttpMethod.CONNECT))
                .containsExactly("HTTP/1.1 407 Proxy Authentication Required | content-length=1", "CONTENT x",
                        "LAST", "HTTP/1.1 200 OK | content-length=2", "CONTENT ok", "LAST");
    }

    @Test
    void bodyWithoutFramingRunsUntilTheConnectionCloses() {
        EmbeddedChannel channel = channel();
        write(channel, "HTTP/1.1 200 OK\r\nServer: old\r\n\r\nabc");
        assertThat(transcript(channel)).containsExactly("HTTP/1.1 200 OK | server=old", "CONTENT abc");
        write(channel, "HTTP/1.1 200 OK\r\n");
        assertThat(transcript(channel)).containsExactly("CONTENT HTTP/1.1 200 OK\r\n");
        assertThat(channel.finish()).isTrue();
        assertThat(transcript(channel)).containsExactly("LAST");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void http10ResponseWithoutLengthEndsOnInputShutdown() {
        EmbeddedChannel channel = channel();
        write(channel, "HTTP/1.0 200 OK\r\n\r\nabc");
        channel.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
        assertThat(transcript(channel)).containsExactly("HTTP/1.0 200 OK", "CONTENT abc", "LAST");
        assertThat(channel.finish()).isFalse(); // the later close adds no second LastHttpContent
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
    })
    void closeMidBodyEmitsNoLastContent(String input) {
        EmbeddedChannel channel = channel();
        write(channel, input);
        assertThat(channel.finish()).isTrue();
        List<String> lines = mergeContent(transcript(channel));
        assertThat(lines).hasSize(2).last().isEqualTo("CONTENT abc");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void closeMidHeadEmitsNothing() {
        EmbeddedChannel channel = channel();
        write(channel, "HTTP/1.1 200 OK\r\nContent-Le");
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void decodesPipelinedResponsesInOneBuffer() {
        assertThat(decode("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
                        + "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
                        + "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n" + NEXT,
                HttpMethod.GET, HttpMethod.GET, HttpMethod.GET, HttpMethod.GET))
                .containsExactly("HTTP/1.1 200 OK | content-length=3", "CONTENT one", "LAST",
                        "HTTP/1.1 404 Not Found | transfer-encoding=chunked", "CONTENT two", "LAST",
                        "HTTP/1.1 304 Not Modified | etag=\"x\"", "LAST",
                        "HTTP/1.1 200 OK | content-length=2", "CONTENT ok", "LAST");
    }

    @Test
    void byteAtATimeDecodesLikeOneBuffer() {
        String input = "\r\nHTTP/1.1 100 Continue\r\n\r\n"
                + "HTTP/1.1 200 OK\nServer: nginx\nContent-Length: 4\n\nbody"
                + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Y: z\r\n\r\n"
                + "a;ext=1\r\n0123456789\r\n1\r\n!\r\n0\r\nT: v\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"
                + "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
                + "HTTP/1.1 200 OK\r\n\r\nuntil close";
        HttpMethod[] methods = {HttpMethod.POST, HttpMethod.GET, HttpMethod.HEAD, HttpMethod.PUT, HttpMethod.GET};
        List<String> whole = mergeContent(decodeAndClose(List.of(input), methods));
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < input.length(); i++) {
            pieces.add(input.substring(i, i + 1));
        }
        assertThat(mergeContent(decodeAndClose(pieces, methods))).isEqualTo(whole);
        assertThat(whole).containsExactly(
                "HTTP/1.1 100 Continue", "LAST",
                "HTTP/1.1 200 OK | server=nginx | content-length=4", "CONTENT body", "LAST",
                "HTTP/1.1 200 OK | transfer-encoding=chunked | X-Y=z", "CONTENT 0123456789!", "LAST | T=v",
                "HTTP/1.1 200 OK | content-length=3", "LAST",
                "HTTP/1.1 201 Created | content-length=2", "CONTENT ok", "LAST",
                "HTTP/1.1 200 OK", "CONTENT until close", "LAST");
    }

    private List<String> decodeAndClose(List<String> pieces, HttpMethod... methods) {
        EmbeddedChannel channel = channel();
        for (HttpMethod m : methods) {
            decoder(channel).expectResponseTo(m);
        }
        List<String> lines = new ArrayList<>();
        for (String piece : pieces) {
            write(channel, piece);
            lines.addAll(transcript(channel));
        }
        channel.finish();
        lines.addAll(transcript(channel));
        return lines;
    }

    @Test
    void statusReasonPhrasesAreKeptAndStandardOnesShared() {
        EmbeddedChannel channel = channel();
        write(channel, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        assertThat(channel.<HttpResponse>readInbound().status()).isSameAs(HttpResponseStatus.NOT_FOUND);
        assertThat(channel.finishAndReleaseAll()).isFalse(); // nothing after it: a bodiless response comes whole

        assertThat(decode("HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n"
                + "HTTP/1.1 503\r\nContent-Length: 0\r\n\r\nHTTP/1.0 299 \r\nContent-Length: 0\r\n\r\n"))
                .containsExactly("HTTP/1.1 200 Fine Thanks | content-length=0", "LAST",
                        "HTTP/1.1 503  | content-length=0", "LAST",
                        "HTTP/1.0 299  | content-length=0", "LAST");
    }

    @Test
    void skipsAFewEmptyLinesBeforeTheStatusLine() {
        assertThat(decode("\r\n\n" + NEXT)).containsExactly("HTTP/1.1 200 OK | content-length=2", "CONTENT ok", "LAST");
    }

    static Stream<Arguments> malformedHeads() {
        String ok = "HTTP/1.1 200 OK\r\n";
        return Stream.of(
                arguments("not http", "SSH-2.0-OpenSSH_9.6\r\n\r\n", "invalid status line"),
                arguments("lower-case version", "http/1.1 200 OK\r\n\r\n", "invalid status line"),
                arguments("HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", "unsupported version"),
                arguments("HTTP/0.9", "HTTP/0.9 200 OK\r\n\r\n", "unsupported version"),
                arguments("two spaces", "HTTP/1.1  200 OK\r\n\r\n", "invalid status code"),
                arguments("no status", "HTTP/1.1 OK\r\n\r\n", "invalid status code"),
                arguments("short status", "HTTP/1.1 20 OK\r\n\r\n", "invalid status code"),
                arguments("long status", "HTTP/1.1 2000 OK\r\n\r\n", "invalid status code"),
                arguments("status 099", "HTTP/1.1 099 Low\r\n\r\n", "invalid status code"),
                arguments("status 600", "HTTP/1.1 600 High\r\n\r\n", "invalid status code"),
                arguments("bare CR in status line", "HTTP/1.1 200 O\rK\r\n\r\n", "bare CR"),
                arguments("bare CR as line end", "HTTP/1.1 200 OK\rServer: x\r\n\r\n", "bare CR"),
                arguments("NUL in reason", "HTTP/1.1 200 O\0K\r\n\r\n", "control char"),
                arguments("missing colon", ok + "Server\r\n\r\n", "missing colon"),
                arguments("space before colon", ok + "Server : nginx\r\n\r\n", "space before colon"),
                arguments("empty name", ok + ": nginx\r\n\r\n", "empty header name"),
                arguments("non-token name", ok + "Ser(ver): nginx\r\n\r\n", "invalid header name"),
                arguments("obs-fold", ok + "X-A: a\r\n b\r\n\r\n", "obs-fold"),
                arguments("bare CR in value", ok + "X-A: a\rb\r\n\r\n", "bare CR"),
                arguments("CR CR LF", ok + "X-A: a\r\r\n\r\n", "bare CR"),
                arguments("NUL in value", ok + "X-A: a\0b\r\n\r\n", "control char"),
                arguments("NUL in name", ok + "X\0: a\r\n\r\n", "control char"),
                arguments("DEL in value", ok + "X-A: a\u007fb\r\n\r\n", "control char"),
                arguments("cl letters", ok + "Content-Length: abc\r\n\r\n", "invalid content-length"),
                arguments("cl negative", ok + "Content-Length: -1\r\n\r\n", "invalid content-length"),
                arguments("cl empty", ok + "Content-Length:\r\n\r\n", "invalid content-length"),
                arguments("cl plus", ok + "Content-Length: +1\r\n\r\n", "invalid content-length"),
                arguments("cl empty list member", ok + "Content-Length: 1,,1\r\n\r\n", "invalid content-length"),
                arguments("cl over long max", ok + "Content-Length: 9223372036854775808\r\n\r\n",
                        "invalid content-length"),
                arguments("conflicting cl list", ok + "Content-Length: 5, 6\r\n\r\n", "conflicting content-length"),
                arguments("conflicting cl fields", ok + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
                        "conflicting content-length"),
                arguments("te gzip", ok + "Transfer-Encoding: gzip\r\n\r\n", "unsupported transfer-encoding"),
                arguments("te gzip, chunked", ok + "Transfer-Encoding: gzip, chunked\r\n\r\n",
                        "unsupported transfer-encoding"),
                arguments("two te fields", ok + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                        "unsupported transfer-encoding"),
                arguments("te in http/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                        "transfer-encoding in http/1.0"),
                arguments("too many empty lines", "\r\n\r\n\n\r\n\r\n" + NEXT, "too many empty lines"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedHeads")
    void malformedHeadFailsTheResponseAndDiscardsTheRest(String name, String input, String reason) {
        EmbeddedChannel channel = channel();
        write(channel, input);
        assertThat(transcript(channel)).containsExactly("FAIL HEAD " + reason);
        write(channel, NEXT);
        assertThat(transcript(channel)).isEmpty();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    static Stream<Arguments> malformedBodies() {
        String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        return Stream.of(
                arguments("bad chunk size", chunked + "zz\r\n", "invalid chunk size"),
                arguments("negative chunk size", chunked + "-1\r\n", "invalid chunk size"),
                arguments("chunk size overflow", chunked + "10000000000000000\r\n", "invalid chunk size"),
                arguments("chunk size with junk", chunked + "3x\r\n", "invalid chunk size"),
                arguments("empty chunk extension", chunked + "3;\r\nabc\r\n", "invalid chunk extension"),
                arguments("chunk line bare LF", chunked + "3\nabc\r\n", "chunk line not CRLF"),
                arguments("missing CRLF after chunk", chunked + "3\r\nabcX", "missing CRLF after chunk data"),
                arguments("LF only after chunk", chunked + "3\r\nabc\n0\r\n\r\n", "missing CRLF after chunk data"),
                arguments("bare LF trailer", chunked + "0\r\nT: v\n\r\n", "chunk line not CRLF"),
                arguments("forbidden trailer", chunked + "0\r\nContent-Length: 5\r\n\r\n", "forbidden trailer"),
                arguments("bad trailer", chunked + "0\r\nTv\r\n\r\n", "missing colon"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedBodies")
    void malformedBodyFailsTheLastContentAndDiscardsTheRest(String name, String input, String reason) {
        EmbeddedChannel channel = channel();
        write(channel, input);
        List<String> lines = transcript(channel);
        assertThat(lines.get(0)).isEqualTo("HTTP/1.1 200 OK | transfer-encoding=chunked");
        assertThat(lines.get(lines.size() - 1)).isEqualTo("FAIL BODY " + reason);
        write(channel, "\r\n" + NEXT);
        assertThat(transcript(channel)).isEmpty();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void overLongStatusLineFailsBeforeItsEndArrives() {
        EmbeddedChannel channel = new EmbeddedChannel(new Http1ResponseDecoder(64, 1024));
        write(channel, "HTTP/1.1 204 " + "x".repeat(51) + "\r\n\r\n"); // 64 bytes: at the limit
        assertThat(transcript(channel)).hasSize(2);
        write(channel, "HTTP/1.1 200 " + "x".repeat(60));
        assertThat(transcript(channel)).containsExactly("FAIL HEAD status line too long");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void overLongHeaderSectionFails() {
        String fields = "X-A: " + "a".repeat(93) + "\r\n"; // 100 bytes
        EmbeddedChannel atLimit = new EmbeddedChannel(new Http1ResponseDecoder(64, 100));
        write(atLimit, "HTTP/1.1 204 No Content\r\n" + fields + "\r\n");
        assertThat(transcript(atLimit)).hasSize(2);
        assertThat(atLimit.finishAndReleaseAll()).isFalse();

        EmbeddedChannel over = new EmbeddedChannel(new Http1ResponseDecoder(64, 100));
        write(over, "HTTP/1.1 204 No Content\r\n" + fields + "B: c\r\n\r\n");
        assertThat(transcript(over)).containsExactly("FAIL HEAD headers too large");
        assertThat(over.finishAndReleaseAll()).isFalse();

        EmbeddedChannel endless = new EmbeddedChannel(new Http1ResponseDecoder(64, 100));
        write(endless, "HTTP/1.1 204 No Content\r\nX-A: " + "a".repeat(200));
        assertThat(transcript(endless)).containsExactly("FAIL HEAD headers too large");
        assertThat(endless.finishAndReleaseAll()).isFalse();
    }

    @Test
    void reEncodingTheDecodedResponseReproducesItsBytes() {
        String input = "HTTP/1.1 200 OK\r\n"
                + "Server: nginx/1.22.1\r\n"
                + "Date: Mon, 06 Jan 2025 10:00:00 GMT\r\n"
                + "Content-Type: text/html\r\n"
                + "Content-Length: 12\r\n"
                + "Last-Modified: Mon, 06 Jan 2025 09:00:00 GMT\r\n"
                + "Connection: keep-alive\r\n"
                + "ETag: \"677b9c50-c\"\r\n"
                + "x-custom: Mixed Case Value\r\n"
                + "Accept-Ranges: bytes\r\n"
                + "\r\n"
                + "hello world!";
        EmbeddedChannel decoding = channel();
        write(decoding, input);
        EmbeddedChannel encoding = new EmbeddedChannel(new HttpResponseEncoder());
        for (Object m; (m = decoding.readInbound()) != null; ) {
            encoding.writeOutbound(m);
        }
        ByteBuf out = Unpooled.buffer();
        for (ByteBuf b; (b = encoding.readOutbound()) != null; ) {
            out.writeBytes(b);
            b.release();
        }
        String encoded = out.toString(StandardCharsets.ISO_8859_1);
        out.release();
        StringBuilder expected = new StringBuilder();
        for (String line : input.split("\r\n", -1)) {
            int colon = line.indexOf(':');
            expected.append(colon > 0 && !line.startsWith("HTTP/")
                    ? line.substring(0, colon).toLowerCase() + line.substring(colon) : line).append("\r\n");
        }
        expected.setLength(expected.length() - 2);
        assertThat(encoded).isEqualTo(expected.toString());
        assertThat(decoding.finishAndReleaseAll()).isFalse();
        assertThat(encoding.finishAndReleaseAll()).isFalse();
    }

    @Test
    void clientCodecRecordsTheMethodOfEachRequestItEncodes() {
        EmbeddedChannel channel = new EmbeddedChannel(new Http1ClientCodec());
        channel.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.HEAD, "/a"));
        channel.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/b"));
        ByteBuf sent = Unpooled.buffer();
        for (ByteBuf b; (b = channel.readOutbound()) != null; ) {
            sent.writeBytes(b);
            b.release();
        }
        assertThat(sent.toString(StandardCharsets.ISO_8859_1))
                .isEqualTo("HEAD /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
        sent.release();
        write(channel, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + NEXT);
        assertThat(transcript(channel)).containsExactly("HTTP/1.1 200 OK | content-length=2", "LAST",
                "HTTP/1.1 200 OK | content-length=2", "CONTENT ok", "LAST");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void clientCodecPassesBytesThroughAfterSwitchingProtocols() {
        Http1ClientCodec codec = new Http1ClientCodec();
        EmbeddedChannel channel = new EmbeddedChannel(codec);
        channel.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/ws"));
        for (ByteBuf b; (b = channel.readOutbound()) != null; ) {
            b.release();
        }
        write(channel, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
        assertThat(transcript(channel)).hasSize(2);
        assertThat(codec.decoder().switchedProtocols()).isTrue();
        ByteBuf frame = Unpooled.copiedBuffer("frame", StandardCharsets.ISO_8859_1);
        channel.writeOutbound(frame);
        ByteBuf out = channel.readOutbound();
        assertThat(out.toString(StandardCharsets.ISO_8859_1)).isEqualTo("frame");
        out.release();
        assertThat(frame.refCnt()).isZero();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void contentLengthParsingRejectsWhatIsNotOneNumber() {
        assertThat(Http1ResponseDecoder.parseContentLength(AsciiString.of("0"))).isZero();
        assertThat(Http1ResponseDecoder.parseContentLength(AsciiString.of("9223372036854775807")))
                .isEqualTo(Long.MAX_VALUE);
        assertThat(Http1ResponseDecoder.parseContentLength(AsciiString.of("7,7"))).isEqualTo(7);
        assertThat(Http1ResponseDecoder.parseContentLength(AsciiString.of("7,"))).isEqualTo(-1);
        assertThat(Http1ResponseDecoder.parseContentLength(AsciiString.of("7,8"))).isEqualTo(-2);
        assertThat(Http1ResponseDecoder.parseContentLength(AsciiString.of("1 2"))).isEqualTo(-1);
    }
}
